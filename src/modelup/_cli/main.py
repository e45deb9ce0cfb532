"""The ``modelup`` command, assembled from one module per command."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

import typer

from modelup._cli.datasets import validate_dataset
from modelup._cli.diff import diff
from modelup._cli.golden import golden
from modelup._cli.help import Command, Group
from modelup._cli.history import history
from modelup._cli.release import release_app
from modelup._cli.report import report
from modelup._cli.run import run
from modelup._cli.serve import serve
from modelup._cli.traces import traces
from modelup._cli.workflows import workflows

app = typer.Typer(
    cls=Group,
    name="modelup",
    help="Treat an LLM model upgrade as a release: replay, score, gate: Promote, Hold, Rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's costs --help 0.2 s more (docs/benchmarks.md)
    context_settings={"max_content_width": 120},
)
app.command(cls=Command)(run)
app.command("validate-dataset", cls=Command)(validate_dataset)
app.command(cls=Command)(diff)
app.command(cls=Command)(workflows)
app.command(cls=Command)(report)
app.command(cls=Command)(history)
app.command(cls=Command)(serve)
app.add_typer(traces, name="traces")
app.add_typer(golden, name="golden")
app.add_typer(release_app, name="release")


@app.command(cls=Command)
def version() -> None:
    """Print modelup's version."""
    from modelup.session.plan import tool_version

    print(tool_version())


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as done:
        leave(done.code)
    leave(0)


def leave(code: object) -> NoReturn:
    """End the process once the command is done: what exiting does that matters (the ``atexit``
    handlers, threads that are not daemons, the output flushed), and then ``os._exit``, without
    tearing the interpreter down. Freeing every object of a big run one by one took 0.08 to 0.12 s
    after a 2,000-case run's last line (docs/benchmarks.md); the system frees the memory at once.
    ``code`` is a ``SystemExit``'s: ``None`` is 0, a number is itself, anything else is printed
    on standard error and is 1."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``modelup ... | head``): nothing to add
            status = status or 120  # what the interpreter itself exits with then
    os._exit(status)
