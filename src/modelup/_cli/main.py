"""The ``modelup`` command, assembled from one module per command."""

from __future__ import annotations

import typer

from modelup._cli.datasets import validate_dataset
from modelup._cli.diff import diff
from modelup._cli.golden import golden
from modelup._cli.history import history
from modelup._cli.release import release_app
from modelup._cli.report import report
from modelup._cli.run import run
from modelup._cli.serve import serve
from modelup._cli.traces import traces
from modelup._cli.workflows import workflows
from modelup.session.plan import tool_version

app = typer.Typer(
    name="modelup",
    help="Treat an LLM model upgrade as a release: replay, score, gate: Promote, Hold, Rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run)
app.command("validate-dataset")(validate_dataset)
app.command()(diff)
app.command()(workflows)
app.command()(report)
app.command()(history)
app.command()(serve)
app.add_typer(traces, name="traces")
app.add_typer(golden, name="golden")
app.add_typer(release_app, name="release")


@app.command()
def version() -> None:
    """Print modelup's version."""
    print(tool_version())


def main() -> None:
    """Console-script entry point."""
    app()
