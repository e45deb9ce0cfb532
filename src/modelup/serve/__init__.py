"""The run-time shell: a workflow served over HTTP with the release registry's authority behind
it (``modelup serve``). ``create_app(settings, {workflow_id: workflow})`` is the ASGI app
(Starlette; the ``serve`` extra), for uvicorn or for embedding. See docs/serve.md."""

from modelup.serve.app import SERVE_EXTRA, create_app
from modelup.serve.options import ServeOptions

__all__ = ["SERVE_EXTRA", "ServeOptions", "create_app"]
