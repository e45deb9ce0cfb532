"""A package's public names imported on first use (PEP 562): importing one module of a package
does not import every module its ``__init__`` names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

Export = str | tuple[str, str]
"""Where a public name lives: a module (the attribute of the same name), or (module, attribute)."""


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, Export]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is ``namespace``:
    a name in ``exports`` is imported when first asked for, then kept in the namespace."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        found = exports.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = (found, name) if isinstance(found, str) else found
        value = getattr(import_module(module), attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return __getattr__, __dir__
