"""``modelup serve``: run the run-time shell (``modelup.serve.create_app``) on uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelup._cli.common import fail
from modelup.errors import ModelupError, ServeError

if TYPE_CHECKING:
    from modelup.workflow.base import Workflow


def serve(
    workflow: Annotated[
        list[str],
        typer.Option(
            metavar="[ID=]WORKFLOW",
            help="A workflow to serve (a bundled name or a file), under its release "
            "workflow_id (default: the workflow's name). Repeat for several.",
        ),
    ],
    store: Annotated[
        str | None,
        typer.Option(metavar="URL", help="The project store holding the releases and pins."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="modelup.toml: model endpoints, store, traces."),
    ] = None,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="The port to listen on.")] = 8000,
    refresh_s: Annotated[
        float,
        typer.Option(min=0.05, help="Re-read the store and analyse a canary this often (s)."),
    ] = 2.0,
    max_body_bytes: Annotated[
        int, typer.Option(min=1024, help="The largest request body accepted.")
    ] = 256 * 1024,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
) -> None:
    """Serve workflows over HTTP with the release registry's authority behind them."""
    # Imported here, not with the module: ``modelup --help`` never needs the stages.
    from modelup.config.loading import find_config_file, load_settings
    from modelup.session.plan import tool_version

    try:
        settings = load_settings(find_config_file(config), {"store": {"url": store}})
        workflows = _workflows(workflow)
        try:
            import uvicorn

            from modelup.serve import ServeOptions, create_app
        except ImportError:
            raise ServeError(
                "modelup serve needs the serve extra: pip install 'modelup[serve]'"
            ) from None
        options = ServeOptions(
            refresh_s=refresh_s, max_body_bytes=max_body_bytes, service_version=tool_version()
        )
        app = create_app(settings, workflows, options=options)
    except ModelupError as error:
        raise fail(error) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    uvicorn.run(app, host=host, port=port, access_log=access_log, ws="none", lifespan="on")


def _workflows(references: list[str]) -> dict[str, Workflow]:
    from modelup.workflow.catalog import get_workflow

    found: dict[str, Workflow] = {}
    for reference in references:
        workflow_id, _, name = reference.rpartition("=")
        loaded = get_workflow(name)
        workflow_id = workflow_id or loaded.name
        if workflow_id in found:
            raise ServeError(f"--workflow: {workflow_id} is given twice")
        found[workflow_id] = loaded
    return found
