"""The ``modelup`` command, assembled from one module per command."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from modelup._cli.datasets import validate_dataset
from modelup._cli.diff import diff
from modelup._cli.history import history
from modelup._cli.report import report
from modelup._cli.run import run
from modelup._cli.workflows import workflows
from modelup.session.plan import tool_version


class _NamedArgument(TyperArgument):
    """An argument whose placeholder (``FILE``) says what it takes: no ``<path>`` after it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _Command(TyperCommand):
    """A command whose ``--help`` shows readable placeholders: none for a flag (not
    ``<bool>``), and an argument's own (``FILE``, not ``<path>`` or ``<list[Path]>``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument and param.metavar is not None:
                param.__class__ = _NamedArgument

    def get_help_option(self, ctx: Any) -> Any:
        return _no_placeholder(super().get_help_option(ctx))


class _Group(TyperGroup):
    def get_help_option(self, ctx: Any) -> Any:
        return _no_placeholder(super().get_help_option(ctx))


def _no_placeholder(option: Any) -> Any:
    if option is not None:
        option.metavar = ""
    return option


app = typer.Typer(
    cls=_Group,
    name="modelup",
    help="Treat an LLM model upgrade as a release: replay, score, gate: Promote, Hold, Rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(cls=_Command)(run)
app.command("validate-dataset", cls=_Command)(validate_dataset)
app.command(cls=_Command)(diff)
app.command(cls=_Command)(workflows)
app.command(cls=_Command)(report)
app.command(cls=_Command)(history)


@app.command(cls=_Command)
def version() -> None:
    """Print modelup's version."""
    print(tool_version())


def main() -> None:
    """Console-script entry point."""
    app()
