"""Configuration: settings sections, how they are loaded, and the per-model merge."""

from modelup.config.settings import (
    DEFAULT_CONFIG_FILE,
    ENV_PREFIX,
    Settings,
    find_config_file,
    load_settings,
    read_config_file,
)

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "Settings",
    "find_config_file",
    "load_settings",
    "read_config_file",
]
