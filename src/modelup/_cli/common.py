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
    NoEvidenceError,
    ReleaseError,
    ReportError,
    RequestsRejected,
    ServeError,
    WorkflowError,
)
from modelup.untrusted import clean

EXIT_PROMOTE = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_HOLD = 3
EXIT_ROLLBACK = 4
EXIT_NO_EVIDENCE = 5
EXIT_INTERRUPTED = 130
VERDICT_EXIT = {"Promote": EXIT_PROMOTE, "Hold": EXIT_HOLD, "Rollback": EXIT_ROLLBACK}

_USAGE_ERRORS = (
    ConfigError,
    DatasetError,
    WorkflowError,
    ModelNotFoundError,
    RequestsRejected,
    ReportError,
    ReleaseError,
    ServeError,
)


def exit_code(error: ModelupError) -> int:
    """2 for bad input (a request the endpoint refuses included), 5 for no evidence, else 1."""
    if isinstance(error, NoEvidenceError):
        return EXIT_NO_EVIDENCE
    return EXIT_USAGE if isinstance(error, _USAGE_ERRORS) else EXIT_FAILURE


def fail(error: ModelupError) -> typer.Exit:
    """Print ``error`` as one line on stderr (cleaned: it may quote an endpoint); the exit to
    raise (``exit_code``)."""
    Console(stderr=True, soft_wrap=True).print(
        Text.assemble(("error: ", "bold red"), clean(str(error)))
    )
    return typer.Exit(exit_code(error))
