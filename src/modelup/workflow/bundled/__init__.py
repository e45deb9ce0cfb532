"""The workflows that ship with modelup, declared as files beside this module; importing this
package registers their simulators and their names; a file is read when its workflow is first
asked for."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from modelup.workflow.base import Workflow
from modelup.workflow.bundled.incident_triage_sim import simulator as incident_triage_simulator
from modelup.workflow.bundled.support_ops_sim import simulator as support_ops_simulator
from modelup.workflow.loader import load_workflow_file
from modelup.workflow.registry import register_deferred, register_simulator

BUNDLED_DIRECTORY = Path(__file__).resolve().parent
BUNDLED_FILES = {"support-ops": "support_ops.toml", "incident-triage": "incident_triage.toml"}

register_simulator("support-ops", support_ops_simulator)
register_simulator("incident-triage", incident_triage_simulator)

for _name, _file in BUNDLED_FILES.items():
    register_deferred(_name, partial(load_workflow_file, BUNDLED_DIRECTORY / _file))


def is_bundled(workflow: Workflow) -> bool:
    """Whether ``workflow`` was declared in one of the files that ship with modelup."""
    return workflow.source is not None and Path(workflow.source).parent == BUNDLED_DIRECTORY


__all__ = ["BUNDLED_DIRECTORY", "BUNDLED_FILES", "is_bundled"]
