"""What every command shares: exit codes and turning a ``ModelupError`` into one line."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

from modelup.errors import (
    ConfigError,
    DatasetError,
    ModelNotFoundError,
    ModelupError,
    ReleaseError,
    ReportError,
    ServeError,
    WorkflowError,
)

EXIT_PROMOTE = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_HOLD = 3
EXIT_ROLLBACK = 4
EXIT_INTERRUPTED = 130
VERDICT_EXIT = {"Promote": EXIT_PROMOTE, "Hold": EXIT_HOLD, "Rollback": EXIT_ROLLBACK}

_USAGE_ERRORS = (
    ConfigError,
    DatasetError,
    WorkflowError,
    ModelNotFoundError,
    ReportError,
    ReleaseError,
    ServeError,
)


def fail(error: ModelupError) -> typer.Exit:
    """Print ``error`` as one line on stderr; the exit to raise: 2 for bad input, else 1."""
    Console(stderr=True, soft_wrap=True).print(Text.assemble(("error: ", "bold red"), str(error)))
    return typer.Exit(EXIT_USAGE if isinstance(error, _USAGE_ERRORS) else EXIT_FAILURE)
