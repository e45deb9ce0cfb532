"""Python objects named from a workflow file: ``package.module:name`` or ``path/file.py:name``.

A workflow file is data, but some checks cannot be said in the vocabulary and a simulator is
code. The file names such code by *import path* rather than by a name registered at import time
because a registered name only exists once something has imported the module that registers it,
and nothing imports a user's module before ``modelup run`` reads their file. An import path is
resolved when the file is loaded, so a typo is an error naming the file and key, not a crash in
the middle of a run. ``file.py:name`` is relative to the workflow file, so a check can live
beside it without touching ``sys.path``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from modelup.errors import WorkflowError

_FILE_MODULES: dict[Path, ModuleType] = {}


def is_reference(text: str) -> bool:
    """``module:name`` (an import path) as opposed to a registered name."""
    return ":" in text


def absolute_reference(reference: str, base: Path | None) -> str:
    """``checks.py:fn`` relative to ``base`` (the workflow file's folder) made absolute."""
    module, _, name = reference.rpartition(":")
    if module.endswith(".py") and base is not None and not Path(module).is_absolute():
        return f"{(base / module).resolve()}:{name}"
    return reference


def resolve(reference: str) -> Any:
    """The object named by ``module:name`` (dots in ``name`` walk attributes)."""
    module_name, sep, attribute = reference.rpartition(":")
    if not sep or not module_name or not attribute:
        raise WorkflowError(f"{reference!r} is not an import path of the form module:name")
    module = _load_file(Path(module_name)) if module_name.endswith(".py") else _import(module_name)
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise WorkflowError(f"{reference!r}: {module_name} has no attribute {part!r}") from None
    return value


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise WorkflowError(f"cannot import module {name!r}: {exc}") from exc


def _load_file(path: Path) -> ModuleType:
    path = path.resolve()
    if path in _FILE_MODULES:
        return _FILE_MODULES[path]
    if not path.is_file():
        raise WorkflowError(f"{path}: Python file not found")
    digest = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"modelup_user_{path.stem}_{digest}", path)
    if spec is None or spec.loader is None:
        raise WorkflowError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise WorkflowError(f"{path}: failed to load: {type(exc).__name__}: {exc}") from exc
    _FILE_MODULES[path] = module
    return module
