"""The run-time shell: a workflow served over HTTP with the release registry's authority behind
it (``modelup serve``). ``create_app(settings, {workflow_id: workflow})`` is the ASGI app
(Starlette; the ``serve`` extra), for uvicorn or for embedding. See docs/serve.md.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelup.serve.app import SERVE_EXTRA, create_app
    from modelup.serve.options import ServeOptions

_EXPORTS = {
    "SERVE_EXTRA": ("modelup.serve.app", "SERVE_EXTRA"),
    "ServeOptions": ("modelup.serve.options", "ServeOptions"),
    "create_app": ("modelup.serve.app", "create_app"),
}


def __getattr__(name: str) -> Any:
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(found[0]), found[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "SERVE_EXTRA",
    "ServeOptions",
    "create_app",
]
