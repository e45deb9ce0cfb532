"""Workflows and simulators registered by name, so configuration, reports and history can refer
to them. ``modelup.workflow.catalog`` resolves a reference (a name or a file) to a workflow."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from modelup.errors import WorkflowError
from modelup.workflow.base import Simulator, Workflow
from modelup.workflow.contract import check_contract
from modelup.workflow.policy import Policy
from modelup.workflow.references import resolve

SimulatorFactory = Callable[[Mapping[str, Any], Mapping[str, Policy]], Simulator]
"""(the workflow file's ``simulator.options``, its policies by name) -> a ``Simulator``."""

_REGISTRY: dict[str, Workflow] = {}
_DEFERRED: dict[str, Callable[[], Workflow]] = {}
"""Workflows known by name whose file is read on first use (the bundled ones)."""
_SIMULATORS: dict[str, SimulatorFactory] = {}
_BUILTIN_SIMULATORS = {
    "support-ops": "modelup.workflow.bundled.support_ops_sim:simulator",
    "incident-triage": "modelup.workflow.bundled.incident_triage_sim:simulator",
}
"""The simulators that ship with modelup, by import path: imported when first asked for."""


def register_workflow(workflow: Workflow, *, replace: bool = False) -> Workflow:
    """Make ``workflow`` available by its name; refuses to shadow another unless ``replace``.
    Its output contract is checked here (a workflow file's is checked as the file loads): the
    run trusts a registered workflow's contract."""
    check_contract(workflow.contract)
    return _register(workflow, replace=replace)


def _register(workflow: Workflow, *, replace: bool) -> Workflow:
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


def registered(name: str) -> Workflow | None:
    """The workflow registered as ``name`` (a deferred one is read now), or None."""
    if name in _DEFERRED:
        workflow = _DEFERRED[name]()
        if workflow.name != name:
            raise WorkflowError(f"the file of workflow {name!r} declares {workflow.name!r}")
        _register(workflow, replace=True)  # loaded from its file: checked as it loaded
    return _REGISTRY.get(name)


def registered_names() -> tuple[str, ...]:
    return tuple(sorted({*_REGISTRY, *_DEFERRED}))


def register_simulator(name: str, factory: SimulatorFactory, *, replace: bool = False) -> None:
    """Make a simulator available to workflow files as ``[simulator] name = "..."``."""
    if (name in _SIMULATORS or name in _BUILTIN_SIMULATORS) and not replace:
        raise WorkflowError(f"simulator {name!r} is already registered")
    _SIMULATORS[name] = factory


def get_simulator(name: str) -> SimulatorFactory:
    if name not in _SIMULATORS and name in _BUILTIN_SIMULATORS:
        _SIMULATORS[name] = resolve(_BUILTIN_SIMULATORS[name])
    try:
        return _SIMULATORS[name]
    except KeyError:
        known = ", ".join(simulator_names()) or "none"
        raise WorkflowError(
            f"unknown simulator {name!r} (registered: {known}; or give module:factory)"
        ) from None


def simulator_names() -> tuple[str, ...]:
    return tuple(sorted({*_SIMULATORS, *_BUILTIN_SIMULATORS}))
