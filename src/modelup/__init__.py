"""modelup: treat an LLM model upgrade as a release.

Replay a frozen eval set against a baseline and candidate models with one fixed prompt, parse
every answer into a strict contract, score deterministically, and gate Promote / Hold / Rollback.
"""

from modelup.config.settings import Settings, load_settings
from modelup.decide.gate import Decision, GateRule, Verdict, decide, seed_policy
from modelup.errors import (
    ClientError,
    ConfigError,
    DatasetError,
    ModelNotFoundError,
    ModelupError,
    ReportError,
    StoreError,
    WorkflowError,
)
from modelup.evaluate.dataset import Dataset, EvalCase, load_dataset
from modelup.evaluate.plan import RunPlan, execute, make_clients, plan_run, run
from modelup.report import Report, read_report, write_report
from modelup.workflow import CheckSpec, PromptTemplate, Workflow, get_workflow, register_workflow
from modelup.workflow.loader import load_workflow_file

__all__ = [
    "CheckSpec",
    "ClientError",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "Decision",
    "EvalCase",
    "GateRule",
    "ModelNotFoundError",
    "ModelupError",
    "PromptTemplate",
    "Report",
    "ReportError",
    "RunPlan",
    "Settings",
    "StoreError",
    "Verdict",
    "Workflow",
    "WorkflowError",
    "decide",
    "execute",
    "get_workflow",
    "load_dataset",
    "load_settings",
    "load_workflow_file",
    "make_clients",
    "plan_run",
    "read_report",
    "register_workflow",
    "run",
    "seed_policy",
    "write_report",
]
