"""``modelup workflows``: the workflows this installation knows."""

from __future__ import annotations

from modelup.workflow.registry import get_workflow, workflow_names


def workflows() -> None:
    """List the registered workflows."""
    for name in workflow_names():
        definition = get_workflow(name)
        print(f"{name}  v{definition.version}  {definition.description}")
