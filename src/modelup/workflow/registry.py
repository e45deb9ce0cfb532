"""Workflows and simulators registered by name, so configuration, reports and history can refer
to them. A workflow reference is a registered name or the path of a workflow file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modelup.errors import WorkflowError
from modelup.workflow.base import Simulator, Workflow
from modelup.workflow.policy import Policy

WORKFLOW_FILE_SUFFIXES = (".toml", ".yaml", ".yml")

SimulatorFactory = Callable[[Mapping[str, Any], Mapping[str, Policy]], Simulator]
"""(the workflow file's ``simulator.options``, its policies by name) -> a ``Simulator``."""

_REGISTRY: dict[str, Workflow] = {}
_DEFERRED: dict[str, Callable[[], Workflow]] = {}
"""Workflows known by name whose file is read on first use (the bundled ones)."""
_SIMULATORS: dict[str, SimulatorFactory] = {}


def register_workflow(workflow: Workflow, *, replace: bool = False) -> Workflow:
    """Make ``workflow`` available by its name; refuses to shadow another unless ``replace``."""
    if (workflow.name in _REGISTRY or workflow.name in _DEFERRED) and not replace:
        raise WorkflowError(f"workflow {workflow.name!r} is already registered")
    _DEFERRED.pop(workflow.name, None)
    _REGISTRY[workflow.name] = workflow
    return workflow


def register_deferred(name: str, load: Callable[[], Workflow]) -> None:
    """Make the workflow ``load()`` returns available as ``name``, loading it on first use."""
    if name in _REGISTRY or name in _DEFERRED:
        raise WorkflowError(f"workflow {name!r} is already registered")
    _DEFERRED[name] = load


def is_workflow_file(reference: str | Path) -> bool:
    """A reference ending in ``.toml``, ``.yaml`` or ``.yml`` is a file, anything else a name."""
    return Path(reference).suffix.lower() in WORKFLOW_FILE_SUFFIXES


def get_workflow(name: str | Path) -> Workflow:
    """The workflow registered as ``name``, or the one declared in the file ``name``."""
    _load_builtins()
    if isinstance(name, str) and name in _DEFERRED:
        workflow = _DEFERRED[name]()
        if workflow.name != name:
            raise WorkflowError(f"the file of workflow {name!r} declares {workflow.name!r}")
        register_workflow(workflow, replace=True)
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    if is_workflow_file(name):
        # Imported here: the loader builds gate rules, and the gate's import chain leads back
        # to the dataset module, which imports the workflow package.
        from modelup.workflow.loader import load_workflow_file

        return load_workflow_file(Path(name))
    known = ", ".join(workflow_names()) or "none"
    raise WorkflowError(
        f"unknown workflow {str(name)!r} (registered: {known}; or give a .toml/.yaml file)"
    )


def workflow_names() -> tuple[str, ...]:
    _load_builtins()
    return tuple(sorted({*_REGISTRY, *_DEFERRED}))


def register_simulator(name: str, factory: SimulatorFactory, *, replace: bool = False) -> None:
    """Make a simulator available to workflow files as ``[simulator] name = "..."``."""
    if name in _SIMULATORS and not replace:
        raise WorkflowError(f"simulator {name!r} is already registered")
    _SIMULATORS[name] = factory


def get_simulator(name: str) -> SimulatorFactory:
    _load_builtins()
    try:
        return _SIMULATORS[name]
    except KeyError:
        known = ", ".join(sorted(_SIMULATORS)) or "none"
        raise WorkflowError(
            f"unknown simulator {name!r} (registered: {known}; or give module:factory)"
        ) from None


def simulator_names() -> tuple[str, ...]:
    _load_builtins()
    return tuple(sorted(_SIMULATORS))


def _load_builtins() -> None:
    # Imported here, not at module import, so that the registry has no import cycle with the
    # built-in workflows that register themselves through it.
    import modelup.workflow.bundled  # noqa: F401
