"""Find a workflow by reference: a registered name, a bundled one, or a workflow file.

The bundled workflows are files beside ``modelup.workflow.bundled``, registered by name here and
read on first use, so a run reads only the file it needs.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from modelup.config.settings import is_workflow_file
from modelup.errors import WorkflowError
from modelup.workflow import registry
from modelup.workflow.base import Workflow
from modelup.workflow.bundled import BUNDLED_DIRECTORY, BUNDLED_FILES
from modelup.workflow.loader import load_workflow_file

_bundled_registered = False


def _register_bundled() -> None:
    global _bundled_registered
    if _bundled_registered:
        return
    _bundled_registered = True
    for name, file in BUNDLED_FILES.items():
        if name not in registry.registered_names():
            registry.register_deferred(name, partial(load_workflow_file, BUNDLED_DIRECTORY / file))


def get_workflow(name: str | Path) -> Workflow:
    """The workflow registered (or bundled) as ``name``, or the one declared in the file
    ``name``."""
    _register_bundled()
    if isinstance(name, str):
        found = registry.registered(name)
        if found is not None:
            return found
    if is_workflow_file(name):
        return load_workflow_file(Path(name))
    known = ", ".join(workflow_names()) or "none"
    raise WorkflowError(
        f"unknown workflow {str(name)!r} (registered: {known}; or give a .toml/.yaml file)"
    )


def workflow_names() -> tuple[str, ...]:
    """Every workflow known by name, bundled ones included."""
    _register_bundled()
    return registry.registered_names()


def is_bundled(workflow: Workflow) -> bool:
    """Whether ``workflow`` was declared in one of the files that ship with modelup."""
    return workflow.source is not None and Path(workflow.source).parent == BUNDLED_DIRECTORY
