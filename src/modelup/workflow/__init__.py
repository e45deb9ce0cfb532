"""Workflow definitions: prompt, output contract, checks and the registry that names them."""

from modelup.workflow.base import (
    CheckSpec,
    PromptTemplate,
    SimulatedAnswer,
    Simulator,
    Workflow,
)
from modelup.workflow.checks import CheckOutcome, check_kinds, get_check, register_check
from modelup.workflow.contract import Contract, ParseOutcome
from modelup.workflow.registry import get_workflow, register_workflow, workflow_names

__all__ = [
    "CheckOutcome",
    "CheckSpec",
    "Contract",
    "ParseOutcome",
    "PromptTemplate",
    "SimulatedAnswer",
    "Simulator",
    "Workflow",
    "check_kinds",
    "get_check",
    "get_workflow",
    "register_check",
    "register_workflow",
    "workflow_names",
]
