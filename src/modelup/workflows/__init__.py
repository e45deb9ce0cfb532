"""The workflows that ship with modelup, declared as files beside this module; importing this
package registers their simulators, then loads and registers the files."""

from __future__ import annotations

from pathlib import Path

from modelup.workflow.base import Workflow
from modelup.workflow.loader import load_workflow_file
from modelup.workflow.registry import register_simulator, register_workflow
from modelup.workflows.incident_triage_sim import simulator as incident_triage_simulator
from modelup.workflows.support_ops_sim import simulator as support_ops_simulator

BUNDLED_DIRECTORY = Path(__file__).resolve().parent
BUNDLED_FILES = ("support_ops.toml", "incident_triage.toml")

register_simulator("support-ops", support_ops_simulator)
register_simulator("incident-triage", incident_triage_simulator)


def _bundled(file: str) -> Workflow:
    return register_workflow(load_workflow_file(BUNDLED_DIRECTORY / file))


SUPPORT_OPS, INCIDENT_TRIAGE = (_bundled(file) for file in BUNDLED_FILES)


def is_bundled(workflow: Workflow) -> bool:
    """Whether ``workflow`` was declared in one of the files that ship with modelup."""
    return workflow.source is not None and Path(workflow.source).parent == BUNDLED_DIRECTORY


__all__ = ["BUNDLED_DIRECTORY", "BUNDLED_FILES", "INCIDENT_TRIAGE", "SUPPORT_OPS", "is_bundled"]
