"""Workflows registered by name, so configuration, reports and history can refer to them."""

from __future__ import annotations

from modelup.errors import WorkflowError
from modelup.workflow.base import Workflow

_REGISTRY: dict[str, Workflow] = {}


def register_workflow(workflow: Workflow, *, replace: bool = False) -> Workflow:
    """Make ``workflow`` available by its name; refuses to shadow another unless ``replace``."""
    if workflow.name in _REGISTRY and not replace:
        raise WorkflowError(f"workflow {workflow.name!r} is already registered")
    _REGISTRY[workflow.name] = workflow
    return workflow


def get_workflow(name: str) -> Workflow:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise WorkflowError(f"unknown workflow {name!r} (registered: {known})") from None


def workflow_names() -> tuple[str, ...]:
    _load_builtins()
    return tuple(sorted(_REGISTRY))


def _load_builtins() -> None:
    # Imported here, not at module import, so that the registry has no import cycle with the
    # built-in workflows that register themselves through it.
    import modelup.workflows  # noqa: F401
