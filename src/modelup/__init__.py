"""modelup: treat an LLM model upgrade as a release.

Replay a frozen eval set against a baseline and candidate models with one fixed prompt, parse
every answer into a strict contract, score deterministically, and gate Promote / Hold / Rollback.
``run()`` does exactly what ``modelup run`` does.
"""

from modelup.config.loading import load_settings
from modelup.config.rules import GateRule
from modelup.config.settings import Settings
from modelup.decide.decision import CandidateDecision, Decision, decide_run
from modelup.decide.gate import Judgement, Verdict, judge
from modelup.decide.rules import seed_policy
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
from modelup.evaluate.dataset import Dataset, EvalCase, load_dataset
from modelup.models.scripted import ScriptedClient
from modelup.report import Report, read_report, write_report
from modelup.session import (
    RunObserver,
    RunPlan,
    RunResult,
    Session,
    execute,
    plan_run,
    run,
)
from modelup.workflow import CheckSpec, PromptTemplate, Workflow, get_workflow, register_workflow
from modelup.workflow.loader import load_workflow_file

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
