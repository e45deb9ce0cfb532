"""``Settings``: all of modelup's configuration, with its sources in order of precedence:
defaults < file (TOML, or the C# harness's appsettings.json) < ``MODELUP_`` environment <
command-line flags (``modelup.config.loading`` reads the file and merges them).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from modelup.config.sections import (
    CacheSettings,
    ExperimentSettings,
    GateSettings,
    GraderSettings,
    HistorySettings,
    LlmSettings,
    MockSettings,
    ModelSettings,
    OtelSettings,
    PriceSettings,
    PromotionSettings,
    StoreSettings,
    TracesSettings,
    is_workflow_file,
)
from modelup.config.store_url import redact_url
from modelup.errors import ConfigError

ENV_PREFIX = "MODELUP_"

__all__ = [
    "ENV_PREFIX",
    "CacheSettings",
    "ExperimentSettings",
    "GateSettings",
    "GraderSettings",
    "HistorySettings",
    "LlmSettings",
    "MockSettings",
    "ModelSettings",
    "OtelSettings",
    "PriceSettings",
    "PromotionSettings",
    "Settings",
    "StoreSettings",
    "TracesSettings",
    "is_workflow_file",
]


file_data: ContextVar[Mapping[str, Any] | None] = ContextVar("modelup_config_file", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The configuration file, already read and normalised by ``load_settings``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ returns the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        return dict(file_data.get() or {})


class Settings(BaseSettings):
    """All of modelup's configuration, one section per concern."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    experiment: ExperimentSettings = ExperimentSettings()
    llm: LlmSettings = LlmSettings()
    promotion: PromotionSettings = PromotionSettings()
    mock: MockSettings = MockSettings()
    gate: GateSettings = GateSettings()
    models: dict[str, ModelSettings] = {}
    """Per-model endpoint and generation settings, keyed by model id."""
    prices: dict[str, PriceSettings] = {}
    """Price per model id, for the estimated cost of a run."""
    cache: CacheSettings = CacheSettings()
    history: HistorySettings = HistorySettings()
    store: StoreSettings = StoreSettings()
    traces: TracesSettings = TracesSettings()
    otel: OtelSettings = OtelSettings()
    grader: GraderSettings = GraderSettings()

    @property
    def store_url(self) -> str:
        """Where the project store is: ``store.url``, else ``history.path``."""
        return self.store.url if self.store.url is not None else str(self.history.path)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest precedence first: flags (passed as init values), environment, file.
        return (init_settings, env_settings, _FileSource(settings_cls))

    def api_key(self, model: str | None = None) -> str | None:
        """The API key itself for ``model`` (default: the shared ``[llm]`` one): from the
        variable named by ``api_key_env``, else ``api_key``; a model's own key wins."""
        own = self.models.get(model) if model is not None else None
        if own is not None and (own.api_key_env or own.api_key):
            env_name, secret, where = own.api_key_env, own.api_key, f"models.{model}"
        else:
            env_name, secret, where = self.llm.api_key_env, self.llm.api_key, "llm"
        if env_name:
            value = os.environ.get(env_name)
            if value is None:
                raise ConfigError(
                    f"{where}.api_key_env: environment variable {env_name} is not set"
                )
            return value
        return secret.get_secret_value() if secret else None

    def redacted(self) -> dict[str, Any]:
        """The configuration as saved in reports and checkpoints: JSON-safe, secrets replaced
        (``api_key`` by ``***``) and every URL stripped of its credentials (``redact_url``:
        ``llm.base_url``, each ``models.*.base_url``, ``store.url``)."""
        data = self.model_dump(mode="json")
        for section in (data["llm"], *data["models"].values()):
            if section["api_key"] is not None:
                section["api_key"] = "***"
            if section["base_url"] is not None:
                section["base_url"] = redact_url(section["base_url"])
        if data["store"]["url"] is not None:
            data["store"]["url"] = redact_url(data["store"]["url"])
        data["otel"]["headers"] = {name: "***" for name in data["otel"]["headers"]}
        if data["otel"]["endpoint"] is not None:
            data["otel"]["endpoint"] = _without_userinfo(data["otel"]["endpoint"])
        if data["grader"]["model"] is None:
            del data["grader"]  # no grader: the saved configuration is what it was without one
        return data


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
