"""``modelup workflows``: the workflows this installation knows, and where each is declared."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelup._cli.common import fail
from modelup.errors import ModelupError

if TYPE_CHECKING:
    from modelup.workflow.base import Workflow


def workflows(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILES", help="Workflow files (.toml, .yaml) to check and list as well."
        ),
    ] = None,
) -> None:
    """List the registered and bundled workflows with their source; check workflow files."""
    # Imported here, not with the module: ``modelup --help`` never needs the stages.
    from modelup.workflow.catalog import get_workflow, workflow_names
    from modelup.workflow.loader import load_workflow_file

    try:
        found = [get_workflow(name) for name in workflow_names()]
        found += [load_workflow_file(file) for file in files or ()]
    except ModelupError as error:
        raise fail(error) from None
    for definition in found:
        print(f"{definition.name}  v{definition.version}  {_origin(definition)}")
        if definition.description:
            print(f"    {definition.description}")
        print(f"    figures: {', '.join(definition.check_figures)}")
        if definition.gate_extends_promotion:
            gate = f"the seed's, from [promotion], then {len(definition.gate_rules)} of its own"
        elif definition.gate_rules:
            gate = f"its own default ({len(definition.gate_rules)} rules)"
        else:
            gate = "the seed's, from [promotion]"
        simulated = "yes" if definition.simulator is not None else "no"
        print(f"    gate: {gate}; simulated models: {simulated}")


def _origin(definition: Workflow) -> str:
    from modelup.workflow.catalog import is_bundled

    if definition.source is None:
        return "registered in Python"
    kind = "bundled" if is_bundled(definition) else "file"
    return f"{kind}: {definition.source}"
