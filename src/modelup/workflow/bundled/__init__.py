"""The workflows that ship with modelup: files beside this module (read by name on first use,
see ``modelup.workflow.catalog``) and the simulators they name (``*_sim.py``, imported when first
asked for, see ``modelup.workflow.registry``)."""

from __future__ import annotations

from pathlib import Path

BUNDLED_DIRECTORY = Path(__file__).resolve().parent
BUNDLED_FILES = {"support-ops": "support_ops.toml", "incident-triage": "incident_triage.toml"}

__all__ = ["BUNDLED_DIRECTORY", "BUNDLED_FILES"]
