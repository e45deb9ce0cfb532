"""modelup: treat an LLM model upgrade as a release.

Replay a frozen eval set against a baseline and candidate models with one fixed prompt, parse
every answer into a strict contract, score deterministically, and gate Promote / Hold / Rollback.
``run()`` does exactly what ``modelup run`` does.

The public names are imported when first used (PEP 562): ``import modelup`` and ``modelup
--help`` do not pay for the stages a command never reaches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy
from modelup.errors import (
    ClientError,
    ConfigError,
    DatasetError,
    ModelNotFoundError,
    ModelupError,
    ReleaseError,
    ReportError,
    ServeError,
    StoreError,
    WorkflowError,
)

if TYPE_CHECKING:
    from modelup.config.loading import load_settings
    from modelup.config.rules import GateRule
    from modelup.config.settings import Settings
    from modelup.decide.decision import CandidateDecision, Decision, decide_run
    from modelup.decide.gate import Judgement, Verdict, judge
    from modelup.decide.rules import seed_policy
    from modelup.evaluate.dataset import Dataset, EvalCase, load_dataset
    from modelup.models.scripted import ScriptedClient
    from modelup.report import Report, read_report, write_report
    from modelup.session import RunObserver, RunPlan, RunResult, Session, plan_run, run
    from modelup.session.execute import execute
    from modelup.workflow import (
        CheckSpec,
        PromptTemplate,
        Workflow,
        get_workflow,
        register_workflow,
    )
    from modelup.workflow.loader import load_workflow_file

_EXPORTS = {
    "CandidateDecision": "modelup.decide.decision",
    "CheckSpec": "modelup.workflow",
    "Dataset": "modelup.evaluate.dataset",
    "Decision": "modelup.decide.decision",
    "EvalCase": "modelup.evaluate.dataset",
    "GateRule": "modelup.config.rules",
    "Judgement": "modelup.decide.gate",
    "PromptTemplate": "modelup.workflow",
    "Report": "modelup.report",
    "RunObserver": "modelup.session",
    "RunPlan": "modelup.session",
    "RunResult": "modelup.session",
    "ScriptedClient": "modelup.models.scripted",
    "Session": "modelup.session",
    "Settings": "modelup.config.settings",
    "Verdict": "modelup.decide.gate",
    "Workflow": "modelup.workflow",
    "decide_run": "modelup.decide.decision",
    "execute": "modelup.session.execute",
    "get_workflow": "modelup.workflow",
    "judge": "modelup.decide.gate",
    "load_dataset": "modelup.evaluate.dataset",
    "load_settings": "modelup.config.loading",
    "load_workflow_file": "modelup.workflow.loader",
    "plan_run": "modelup.session",
    "read_report": "modelup.report",
    "register_workflow": "modelup.workflow",
    "run": "modelup.session",
    "seed_policy": "modelup.decide.rules",
    "write_report": "modelup.report",
}
"""Public name -> the module that defines it, imported on first use."""


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


__all__ = [
    "CandidateDecision",
    "CheckSpec",
    "ClientError",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "Decision",
    "EvalCase",
    "GateRule",
    "Judgement",
    "ModelNotFoundError",
    "ModelupError",
    "PromptTemplate",
    "ReleaseError",
    "Report",
    "ReportError",
    "RunObserver",
    "RunPlan",
    "RunResult",
    "ScriptedClient",
    "ServeError",
    "Session",
    "Settings",
    "StoreError",
    "Verdict",
    "Workflow",
    "WorkflowError",
    "decide_run",
    "execute",
    "get_workflow",
    "judge",
    "load_dataset",
    "load_settings",
    "load_workflow_file",
    "plan_run",
    "read_report",
    "register_workflow",
    "run",
    "seed_policy",
    "write_report",
]
