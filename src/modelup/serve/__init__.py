"""The run-time shell: a workflow served over HTTP with the release registry's authority behind
it (``modelup serve``). ``create_app(settings, {workflow_id: workflow})`` is the ASGI app
(Starlette; the ``serve`` extra), for uvicorn or for embedding. See docs/serve.md.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
    from modelup.serve.app import SERVE_EXTRA, create_app
    from modelup.serve.options import ServeOptions

_EXPORTS = {
    "SERVE_EXTRA": ("modelup.serve.app", "SERVE_EXTRA"),
    "ServeOptions": ("modelup.serve.options", "ServeOptions"),
    "create_app": ("modelup.serve.app", "create_app"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


__all__ = [
    "SERVE_EXTRA",
    "ServeOptions",
    "create_app",
]
