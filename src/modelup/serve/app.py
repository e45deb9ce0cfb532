"""The run-time shell as an ASGI app: ``create_app(...)`` returns a Starlette app whose lifespan
opens the store, the model clients and the trace recorder, reads what each workflow serves, and
keeps re-reading it (and analysing a running canary) every ``refresh_s`` seconds; uvicorn only
runs it (``modelup serve``), so the same app can be embedded or driven by tests.

Routes: ``POST /v1/workflows/{workflow_id}/decide``, ``GET /v1/workflows``, ``GET /healthz``,
``GET /metrics``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from modelup import jsonbytes
from modelup.config.settings import Settings
from modelup.errors import ServeError
from modelup.serve.clients import ModelPool
from modelup.serve.metrics import UNKNOWN_WORKFLOW
from modelup.serve.options import ServeOptions
from modelup.serve.request_body import BadRequest, parse_inputs, read_body
from modelup.serve.runtime import ServeRuntime

SERVE_EXTRA = "pip install 'modelup[serve]'"
try:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ServeError(f"modelup serve needs the serve extra: {SERVE_EXTRA}") from exc


def create_app(
    settings: Settings,
    workflows: Mapping[str, Any],
    *,
    options: ServeOptions | None = None,
    pool: ModelPool | None = None,
) -> Starlette:
    """The shell for ``workflows`` (workflow id → ``Workflow``; the id is the releases'
    ``workflow_id``) on the project store and model endpoints ``settings`` name. ``pool``
    replaces the model clients (tests)."""
    options = options or ServeOptions()
    runtime = ServeRuntime(settings, workflows, options=options, pool=pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    async def decide(request: Request) -> Response:
        started = time.perf_counter()
        workflow_id = request.path_params["workflow_id"]
        served = runtime.runtimes.get(workflow_id)
        if served is None:
            known = ", ".join(sorted(runtime.runtimes))
            message = f"no workflow {workflow_id[:100]!r} is served here (served: {known})"
            return _refuse(
                runtime, UNKNOWN_WORKFLOW, BadRequest(404, message, "workflow_id"), "not_found"
            )
        try:
            body = await read_body(
                request.stream(), request.headers.get("content-length"), options.max_body_bytes
            )
            fields = parse_inputs(body, served.inputs)
        except BadRequest as refused:
            return _refuse(runtime, workflow_id, refused, "invalid_request")
        outcome = await runtime.serve(served, fields, request.headers.get("x-routing-key"))
        if outcome is None:
            message = (
                f"workflow {workflow_id} has no promoted release to serve: promote one with "
                "modelup release promote"
            )
            return _refuse(runtime, workflow_id, BadRequest(503, message), "unavailable")
        runtime.metrics.served(workflow_id, outcome, time.perf_counter() - started)
        return _json(outcome.status, outcome.body)

    async def workflows_list(request: Request) -> Response:
        return _json(200, {"workflows": runtime.describe()})

    async def healthz(request: Request) -> Response:
        health = runtime.health()
        return _json(200 if health["status"] == "ok" else 503, health)

    async def metrics(request: Request) -> Response:
        return Response(runtime.metrics.text(), media_type=runtime.metrics.content_type)

    routes = [
        Route("/v1/workflows/{workflow_id}/decide", decide, methods=["POST"]),
        Route("/v1/workflows", workflows_list, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    return app


def _json(status: int, body: Any) -> Response:
    return Response(jsonbytes.compact(body), status_code=status, media_type="application/json")


def _refuse(runtime: ServeRuntime, workflow_id: str, refused: BadRequest, kind: str) -> Response:
    runtime.metrics.refused(workflow_id, refused.status, kind)
    body = refused.to_json()
    if kind != "invalid_request":
        body["error"]["type"] = kind
    return _json(refused.status, body)
