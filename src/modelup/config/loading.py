"""Read a configuration file and merge every source into ``Settings``.

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
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from modelup._naming import to_snake
from modelup.config.sections import is_workflow_file
from modelup.config.settings import ENV_PREFIX, Settings, file_data
from modelup.config.store_url import resolve_store_url
from modelup.errors import ConfigError

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
_VERBATIM_KEYS = (("models",), ("prices",), ("mock", "models"), ("otel", "headers"))


def find_config_file(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """``--config`` if given (it must exist), else ``./modelup.toml`` if present."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        return explicit
    default = (cwd or Path.cwd()) / DEFAULT_CONFIG_FILE
    return default if default.is_file() else None


def load_settings(
    config_file: Path | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    config_data: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults, ``config_file``, the ``MODELUP_`` environment and ``flags`` (nested by
    section; a flag left at ``None`` was not given and overrides nothing). ``config_data`` is a
    configuration already read by ``normalise_config`` (an inline table in another file), used
    in place of ``config_file``."""
    if config_data is not None:
        from_file: Mapping[str, Any] = config_data
    else:
        from_file = read_config_file(config_file) if config_file is not None else {}
    _reject_unknown_environment(os.environ)
    token = file_data.set(from_file)
    try:
        return Settings(**_clean(flags))
    except ValidationError as exc:
        source = "configuration (file, MODELUP_ environment or flags)"
        raise ConfigError(_describe(exc, source)) from None
    finally:
        file_data.reset(token)


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
    return normalise_config(data, path.parent, str(path))


def normalise_config(data: Mapping[str, Any], directory: Path, source: str) -> dict[str, Any]:
    """A configuration's sections (as read from a file, or an inline table of another file)
    with their keys normalised and relative paths made relative to ``directory``; validated
    alone so that an unknown key or bad value is reported against ``source``."""
    normalised: dict[str, Any] = _snake_keys(data, ())
    for section, key in _PATH_KEYS:
        values = normalised.get(section)
        value = values.get(key) if isinstance(values, dict) else None
        if isinstance(value, str) and not Path(value).is_absolute():
            normalised[section][key] = str((directory / value).resolve())
    store = normalised.get("store")
    if isinstance(store, dict) and isinstance(store.get("url"), str):
        store["url"] = resolve_store_url(store["url"], directory)
    experiment = normalised.get("experiment")
    # A workflow file (not a registered name) is relative to this file, like dataset_path.
    if isinstance(experiment, dict):
        workflow = experiment.get("workflow")
        if isinstance(workflow, str) and is_workflow_file(workflow):
            experiment["workflow"] = str((directory / workflow).resolve())
    try:
        Settings.model_validate(normalised)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
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
