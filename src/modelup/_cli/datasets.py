"""``modelup validate-dataset``: check one dataset file against a workflow's case fields."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from modelup._cli.common import fail
from modelup.errors import ModelupError


def validate_dataset(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Dataset file to check.")],
    workflow: Annotated[
        str, typer.Option(metavar="NAME|FILE", help="Workflow whose case fields apply.")
    ] = "support-ops",
) -> None:
    """Check a dataset; print its case count, families and sha256, or exit 2 naming the problem."""
    # Imported here, not with the module: ``modelup --help`` never needs the stages.
    from modelup.evaluate.dataset import load_dataset
    from modelup.workflow.catalog import get_workflow

    try:
        loaded = load_dataset(file, get_workflow(workflow))
    except ModelupError as error:
        raise fail(error) from None
    families = Counter(case.family for case in loaded.cases)
    spread = ", ".join(f"{name} {count}" for name, count in sorted(families.items()))
    print(f"{file}: {len(loaded)} valid cases for workflow {workflow} ({spread})")
    print(f"sha256 {loaded.sha256}")
