"""``modelup traces``: list, show and export the trace records in the project store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelup import jsonbytes
from modelup._cli.common import EXIT_USAGE, fail
from modelup._cli.help import Command, Group
from modelup._cli.history import store_url
from modelup.errors import ConfigError, ModelupError, StoreError

if TYPE_CHECKING:
    from modelup.observe.record import TraceRecord
    from modelup.store.traces import TraceQuery, TraceStore

# The stages (the store, the trace records) are imported in the functions that use them:
# ``modelup --help`` never needs them.

traces = typer.Typer(
    cls=Group,
    help="List, show and export the trace records of model calls (one per call).",
    no_args_is_help=True,
)

StoreOption = Annotated[
    str | None,
    typer.Option(metavar="URL", help="The store: a path, sqlite:///path or postgresql://..."),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="modelup.toml naming the store.")
]
WorkflowOption = Annotated[str | None, typer.Option(help="Only traces of this workflow.")]
SinceOption = Annotated[
    str | None, typer.Option(metavar="WHEN", help="Only traces since: 7d, 24h, or an ISO date.")
]
FailedOption = Annotated[bool, typer.Option("--failed", help="Only calls that failed.")]
OverriddenOption = Annotated[
    bool, typer.Option("--overridden", help="Only calls a policy overrode.")
]
DriftOption = Annotated[
    bool, typer.Option("--drift", help="Only calls whose answering identity drifted.")
]


def query(
    workflow: str | None,
    since: str | None,
    failed: bool,
    overridden: bool,
    drift: bool,
    *,
    limit: int | None = None,
    newest_first: bool = False,
    run: str | None = None,
) -> TraceQuery:
    from modelup.observe.queries import parse_since
    from modelup.store.traces import TraceQuery

    return TraceQuery(
        workflow=workflow,
        since=parse_since(since) if since is not None else None,
        run_id=run,
        failed=failed,
        overridden=overridden,
        drift=drift,
        limit=limit,
        newest_first=newest_first,
    )


def _open(config: Path | None, store: str | None) -> TraceStore | None:
    from modelup.store.traces import open_trace_store

    return open_trace_store(store_url(config, store), create=False)


@traces.command(cls=Command, name="list")
def list_traces(
    workflow: WorkflowOption = None,
    since: SinceOption = None,
    failed: FailedOption = False,
    overridden: OverriddenOption = False,
    drift: DriftOption = False,
    run: Annotated[str | None, typer.Option(metavar="RUN_ID", help="Only this run.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Traces to list, newest first.")] = 50,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """List recorded calls, newest first. With several of --failed, --overridden and --drift:
    calls with any of them."""
    from modelup.observe.queries import records

    out = Console(soft_wrap=True)
    if not out.is_terminal:
        out.width = 200
    try:
        selected = query(
            workflow, since, failed, overridden, drift, limit=limit, newest_first=True, run=run
        )
        opened = _open(config, store)
        if opened is None:
            out.print("No traces recorded yet.")
            return
        with opened:
            found = list(records(opened.find(selected)))
    except ModelupError as error:
        raise _exit(error) from None
    if not found:
        out.print("No traces match.")
        return
    table = Table(title=f"Traces (newest first, at most {limit})", title_justify="left")
    for column in ("Time (UTC)", "Span", "Workflow", "Case", "Model → resolved", "Outcome"):
        table.add_column(column, overflow="fold")
    for record in found:
        table.add_row(
            Text(record.finished_at.strftime("%Y-%m-%d %H:%M:%S")),
            Text(record.span_id),
            Text(f"{record.workflow} v{record.workflow_version}"),
            Text(record.case_id or ""),
            Text(f"{record.requested_model} → {record.resolved_model or '?'}"),
            Text(outcome(record)),
        )
    out.print(table)


def outcome(record: TraceRecord) -> str:
    """A call's outcome in a few words: passed, failed, errored; overridden, drift."""
    words = ["error " + (record.error_type or "")] if record.error else []
    words.append("failed" if record.failed else "passed")
    if record.overridden:
        words.append("overridden: " + ", ".join(p.policy for p in record.policies if p.overridden))
    if record.drift:
        words.append("drift")
    return "; ".join(word.strip() for word in words if word)


@traces.command(cls=Command, name="show")
def show(
    ident: Annotated[str, typer.Argument(metavar="ID", help="A span id, a trace id, or a prefix.")],
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the full record of one call (a span id), or of every call of one trace (a trace
    id), as JSON."""
    from modelup.observe.queries import records

    try:
        opened = _open(config, store)
        if opened is None:
            raise StoreError("no traces recorded yet")
        with opened:
            found = list(records(opened.get(ident)))
    except ModelupError as error:
        raise _exit(error) from None
    if not found:
        raise _exit(StoreError(f"no trace {ident!r}"))
    for record in found:
        sys.stdout.write(jsonbytes.dumps(record, indent=True).decode())
        sys.stdout.write("\n")


@traces.command(cls=Command, name="export")
def export(
    export_format: Annotated[
        str, typer.Option("--format", help="The output format: jsonl (one record per line).")
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
    workflow: WorkflowOption = None,
    since: SinceOption = None,
    failed: FailedOption = False,
    overridden: OverriddenOption = False,
    drift: DriftOption = False,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Export the matching records, oldest first, one JSON object per line."""
    try:
        if export_format != "jsonl":
            raise ConfigError(f"--format: {export_format!r} is not a format (jsonl)")
        opened = _open(config, store)
        rows = []
        if opened is not None:
            with opened:
                rows = opened.find(query(workflow, since, failed, overridden, drift))
    except ModelupError as error:
        raise _exit(error) from None
    lines = [row.record.encode("utf-8") + b"\n" for row in rows]
    if output is None:
        sys.stdout.buffer.write(b"".join(lines))
        sys.stdout.flush()
        return
    try:
        output.write_bytes(b"".join(lines))
    except OSError as exc:
        raise _exit(ConfigError(f"{output}: cannot write: {exc.strerror or exc}")) from None
    Console(stderr=True).print(Text(f"{len(lines)} trace(s) written to {output}"))


def _exit(error: ModelupError) -> typer.Exit:
    if isinstance(error, StoreError):
        fail(error)  # a broken or foreign store, or an unknown id: bad input
        return typer.Exit(EXIT_USAGE)
    return fail(error)
