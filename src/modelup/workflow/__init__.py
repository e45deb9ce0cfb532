"""Workflow definitions: prompt, output contract, checks and the registry that names them."""

from modelup.workflow.base import CheckSpec, SimulatedAnswer, Simulator, Workflow
from modelup.workflow.catalog import get_workflow, is_bundled, workflow_names
from modelup.workflow.checks import CheckOutcome, check_kinds, get_check, register_check
from modelup.workflow.checks_semantic import classify
from modelup.workflow.checks_text import plain_text_findings
from modelup.workflow.contract import Contract, ParseOutcome
from modelup.workflow.policy import Condition, Policy, PolicyDecision, PolicyRule
from modelup.workflow.prompt import Message, PromptTemplate
from modelup.workflow.registry import register_simulator, register_workflow, simulator_names

__all__ = [
    "CheckOutcome",
    "CheckSpec",
    "Condition",
    "Contract",
    "Message",
    "ParseOutcome",
    "Policy",
    "PolicyDecision",
    "PolicyRule",
    "PromptTemplate",
    "SimulatedAnswer",
    "Simulator",
    "Workflow",
    "check_kinds",
    "classify",
    "get_check",
    "get_workflow",
    "is_bundled",
    "plain_text_findings",
    "register_check",
    "register_simulator",
    "register_workflow",
    "simulator_names",
    "workflow_names",
]
