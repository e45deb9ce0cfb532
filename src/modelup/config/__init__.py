"""Configuration: settings sections, how they are loaded, and the per-model merge."""

from modelup.config.loading import (
    DEFAULT_CONFIG_FILE,
    find_config_file,
    load_settings,
    read_config_file,
)
from modelup.config.settings import ENV_PREFIX, Settings

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "Settings",
    "find_config_file",
    "load_settings",
    "read_config_file",
]
