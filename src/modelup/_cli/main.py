"""The ``modelup`` command, assembled from one module per command."""

from __future__ import annotations

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
    app()
