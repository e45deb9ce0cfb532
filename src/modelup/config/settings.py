"""Configuration: defaults < file (TOML, or the C# harness's appsettings.json) < ``MODELUP_``
environment < command-line flags.

``modelup.toml`` uses the seed's sections in snake_case; an ``appsettings.json`` is read as-is,
its PascalCase keys converted. Environment variables use ``__`` for nesting
(``MODELUP_LLM__CANDIDATE_MODEL_ID=qwen3:8b``). Unknown keys and bad values are a ``ConfigError``
naming the key. Relative paths in a file are relative to that file.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from modelup._naming import to_snake
from modelup.config.rules import GateRule
from modelup.config.store_url import checked_store_url, redact_url, resolve_store_url
from modelup.errors import ConfigError

ENV_PREFIX = "MODELUP_"
WORKFLOW_FILE_SUFFIXES = (".toml", ".yaml", ".yml")
"""A workflow reference ending in one of these is a file; anything else a registered name."""
DEFAULT_CONFIG_FILE = "modelup.toml"
_PATH_KEYS = (
    ("experiment", "dataset_path"),
    ("experiment", "report_directory"),
    ("experiment", "runs_directory"),
    ("cache", "path"),
    ("history", "path"),
)
# Maps whose keys are model ids or request parameters, kept verbatim (``Qwen3:8B`` is not
# ``qwen3:8_b``): the keys directly under these paths, and everything under an ``extra``.
_VERBATIM_KEYS = (("models",), ("prices",), ("mock", "models"))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ExperimentSettings(_Section):
    """What to run and where to put the evidence."""

    use_mock_client: bool = False
    """True: simulated models, no network. False: the live OpenAI-compatible endpoint."""
    mode: Literal["compare", "shadow"] = "compare"
    """``shadow`` keeps the baseline authoritative while the candidate is scored offline."""
    dataset_path: Path | None = None
    report_directory: Path = Path("reports")
    workflow: str = "support-ops"
    """A registered workflow name, or a workflow file (.toml, .yaml)."""
    concurrency: int = Field(4, ge=1, le=1024)
    """Calls in flight per model."""
    epochs: int = Field(1, ge=1, le=100)
    """How many times each case is replayed per model (repeated trials)."""
    runs_directory: Path = Path(".modelup/runs")
    """Where live runs keep their checkpoint (plan and journal) so they can be resumed."""
    formats: list[Literal["json", "html", "md", "junit"]] = ["json"]
    """Report formats to write; JSON always is, the others next to it with the same stem.
    A comma-separated string (``"json,html"``) is accepted too."""

    @field_validator("formats", mode="before")
    @classmethod
    def _split_formats(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class LlmSettings(_Section):
    """The OpenAI-compatible endpoint and the two models compared on it."""

    base_url: str = "http://localhost:11434/v1"
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    """Name of an environment variable holding the API key; wins over ``api_key``."""
    baseline_model_id: str = Field("gpt-oss:20b", min_length=1)
    candidate_model_id: str | list[str] = "qwen3:8b"
    """One candidate, or a list of challengers each gated against the baseline."""
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(120.0, gt=0)
    max_attempts: int = Field(4, ge=1, le=20)
    extra: dict[str, Any] = {}
    """Extra request parameters sent with every call (e.g. ``top_p``), below per-model ones."""

    @field_validator("candidate_model_id")
    @classmethod
    def _candidates_named(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names or any(not name.strip() for name in names):
            raise ValueError("every candidate model id must be a non-empty string")
        if len(set(names)) != len(names):
            raise ValueError("candidate model ids must be distinct")
        return value

    @property
    def candidate_model_ids(self) -> list[str]:
        value = self.candidate_model_id
        return [value] if isinstance(value, str) else list(value)


class ModelSettings(_Section):
    """One model's own endpoint and generation settings (``[models."id"]``); every key left
    out falls back to the ``[llm]`` section, so ``[llm]`` alone stays the shorthand."""

    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    connect_timeout_s: float | None = Field(None, gt=0)
    read_timeout_s: float | None = Field(None, gt=0)
    max_attempts: int | None = Field(None, ge=1, le=20)
    extra: dict[str, Any] = {}
    """Extra request parameters, merged over ``llm.extra``."""


class PriceSettings(_Section):
    """What a model costs, in USD per million tokens (``[prices."id"]``)."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


class HistorySettings(_Section):
    """Whether every run is recorded in the project store (``modelup history``)."""

    enabled: bool = True
    path: Path = Path(".modelup/history.sqlite")
    """The older spelling of a SQLite ``[store] url``, used when that is not set. Relative to
    the working directory by default, to the file when set in one."""


class StoreSettings(_Section):
    """The project store: run history (and, next, releases and traces)."""

    url: Annotated[str | None, AfterValidator(checked_store_url)] = Field(None, repr=False)
    """A path, ``sqlite:///path`` or ``postgresql://user:password@host:port/database``; unset:
    ``history.path``. Relative to the working directory, or to the file when set in one. Its
    password is never printed or saved (``redacted``; hidden from ``repr``)."""


class CacheSettings(_Section):
    """The on-disk response cache of live calls (mock runs never use it)."""

    enabled: bool = True
    path: Path = Path(".modelup/cache.sqlite")
    refresh: bool = False
    """Ignore cached answers and call again, storing the new answers (``--refresh-cache``)."""


class PromotionSettings(_Section):
    """The seed's promotion thresholds; rates are fractions (0.05 = five points)."""

    max_pass_rate_regression: float = Field(0.0, ge=0, le=1)
    max_structured_output_regression: float = Field(0.0, ge=0, le=1)
    max_safety_regression: float = Field(0.0, ge=0, le=1)
    max_p95_latency_regression_percent: float = Field(35.0, ge=0)
    min_quality_score_improvement: float = Field(0.01, ge=-1, le=1)
    max_cost_regression_percent: float | None = Field(None, ge=0)
    """Hold when the candidate's estimated cost exceeds the baseline's by more than this;
    unset: no cost rule. Skipped (and said so) when a model has no price."""


class GateSettings(_Section):
    """The gate policy as data, and how its statistics are computed."""

    rules: list[GateRule] = []
    """Checked in order; when given they replace the workflow's and the seed's default gate."""
    confidence: float = Field(0.95, gt=0.5, lt=1)
    """Confidence of every interval; 1 - confidence is the significance level."""
    bootstrap_resamples: int = Field(2000, ge=100, le=100_000)
    bootstrap_seed: int = 0


class MockSettings(_Section):
    """Simulated models: which behaviour profile each role uses, and custom profiles."""

    baseline_profile: str = "steady"
    candidate_profile: str = "drifting"
    models: dict[str, str] = {}
    """Profile per model id, overriding the role's profile (e.g. for several challengers)."""
    seed: int = 0
    profiles: dict[str, dict[str, Any]] = {}
    """Extra or overriding profiles, keyed by name; keys are the workflow simulator's."""


_file_data: ContextVar[Mapping[str, Any] | None] = ContextVar("modelup_config_file", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The configuration file, already read and normalised by ``load_settings``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ returns the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        return dict(_file_data.get() or {})


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
        """The configuration as saved in reports: JSON-safe, secrets replaced."""
        data = self.model_dump(mode="json")
        for section in (data["llm"], *data["models"].values()):
            if section["api_key"] is not None:
                section["api_key"] = "***"
        if data["store"]["url"] is not None:
            data["store"]["url"] = redact_url(data["store"]["url"])
        return data


def find_config_file(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """``--config`` if given (it must exist), else ``./modelup.toml`` if present."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        return explicit
    default = (cwd or Path.cwd()) / DEFAULT_CONFIG_FILE
    return default if default.is_file() else None


def load_settings(
    config_file: Path | None = None, flags: Mapping[str, Mapping[str, Any]] | None = None
) -> Settings:
    """Merge defaults, ``config_file``, the ``MODELUP_`` environment and ``flags`` (nested by
    section; a flag left at ``None`` was not given and overrides nothing)."""
    file_data = read_config_file(config_file) if config_file is not None else {}
    _reject_unknown_environment(os.environ)
    token = _file_data.set(file_data)
    try:
        return Settings(**_clean(flags))
    except ValidationError as exc:
        source = "configuration (file, MODELUP_ environment or flags)"
        raise ConfigError(_describe(exc, source)) from None
    finally:
        _file_data.reset(token)


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML or JSON configuration file, normalise its keys, and validate it alone so
    that an unknown key or bad value is reported against the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from exc
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be an object of sections")
    normalised: dict[str, Any] = _snake_keys(data, ())
    for section, key in _PATH_KEYS:
        values = normalised.get(section)
        value = values.get(key) if isinstance(values, dict) else None
        if isinstance(value, str) and not Path(value).is_absolute():
            normalised[section][key] = str((path.parent / value).resolve())
    store = normalised.get("store")
    if isinstance(store, dict) and isinstance(store.get("url"), str):
        store["url"] = resolve_store_url(store["url"], path.parent)
    experiment = normalised.get("experiment")
    # A workflow file (not a registered name) is relative to this file, like dataset_path.
    if isinstance(experiment, dict):
        workflow = experiment.get("workflow")
        if isinstance(workflow, str) and is_workflow_file(workflow):
            experiment["workflow"] = str((path.parent / workflow).resolve())
    try:
        Settings.model_validate(normalised)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(path))) from None
    return normalised


def _snake_keys(value: Any, path: tuple[str, ...]) -> Any:
    # Section and setting names are normalised; the contents of free-form maps (mock profiles)
    # are normalised too, which is harmless because their keys are snake_case already. Model
    # ids and request parameters are kept as written. Lists of tables (``[[gate.rules]]``, or
    # ``"Rules": [{"Figure": ...}]`` in appsettings.json) are normalised item by item.
    if isinstance(value, list) and not _is_request_extra(path):
        return [_snake_keys(item, path) for item in value]
    if not isinstance(value, dict) or _is_request_extra(path):
        return value
    verbatim = path in _VERBATIM_KEYS
    normalised: dict[str, Any] = {}
    for raw_key, item in value.items():
        key = str(raw_key) if verbatim else to_snake(str(raw_key))
        normalised[key] = _snake_keys(item, (*path, key))
    return normalised


def _is_request_extra(path: tuple[str, ...]) -> bool:
    return path == ("llm", "extra") or (len(path) == 3 and path[::2] == ("models", "extra"))


def _reject_unknown_environment(environ: Mapping[str, str]) -> None:
    for name in environ:
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if not _known_path(Settings, parts):
            raise ConfigError(f"environment variable {name} does not name a setting")


def _known_path(model: type[BaseModel], parts: list[str]) -> bool:
    if not parts or parts[0] not in model.model_fields:
        return False
    annotation = model.model_fields[parts[0]].annotation
    if len(parts) == 1:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _known_path(annotation, parts[1:])
    return annotation is not None and getattr(annotation, "__origin__", None) is dict


def _clean(flags: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """Flags the user did not give are ``None`` and must not override lower sources."""
    cleaned: dict[str, Any] = {}
    for section, values in (flags or {}).items():
        given = {k: v for k, v in values.items() if v is not None}
        if given:
            cleaned[section] = given
    return cleaned


def _describe(exc: ValidationError, source: str) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key {where}")
        else:
            problems.append(f"{where}: {error['msg']}")
    return f"{source}: " + "; ".join(problems)


def is_workflow_file(reference: str | Path) -> bool:
    """A reference ending in ``.toml``, ``.yaml`` or ``.yml`` is a file, anything else a name."""
    return Path(reference).suffix.lower() in WORKFLOW_FILE_SUFFIXES
