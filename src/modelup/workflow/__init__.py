"""Workflow definitions: prompt, output contract, checks and the registry that names them.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
    from modelup.workflow.base import CheckSpec, SimulatedAnswer, Simulator, Workflow
    from modelup.workflow.catalog import get_workflow, is_bundled, workflow_names
    from modelup.workflow.checks import CheckOutcome, check_kinds, get_check, register_check
    from modelup.workflow.checks_semantic import classify
    from modelup.workflow.checks_text import plain_text_findings
    from modelup.workflow.contract import Contract, ParseOutcome
    from modelup.workflow.policy import Condition, Policy, PolicyDecision, PolicyRule
    from modelup.workflow.prompt import Message, PromptTemplate
    from modelup.workflow.registry import register_simulator, register_workflow, simulator_names

_EXPORTS = {
    "CheckOutcome": ("modelup.workflow.checks", "CheckOutcome"),
    "CheckSpec": ("modelup.workflow.base", "CheckSpec"),
    "Condition": ("modelup.workflow.policy", "Condition"),
    "Contract": ("modelup.workflow.contract", "Contract"),
    "Message": ("modelup.workflow.prompt", "Message"),
    "ParseOutcome": ("modelup.workflow.contract", "ParseOutcome"),
    "Policy": ("modelup.workflow.policy", "Policy"),
    "PolicyDecision": ("modelup.workflow.policy", "PolicyDecision"),
    "PolicyRule": ("modelup.workflow.policy", "PolicyRule"),
    "PromptTemplate": ("modelup.workflow.prompt", "PromptTemplate"),
    "SimulatedAnswer": ("modelup.workflow.base", "SimulatedAnswer"),
    "Simulator": ("modelup.workflow.base", "Simulator"),
    "Workflow": ("modelup.workflow.base", "Workflow"),
    "check_kinds": ("modelup.workflow.checks", "check_kinds"),
    "classify": ("modelup.workflow.checks_semantic", "classify"),
    "get_check": ("modelup.workflow.checks", "get_check"),
    "get_workflow": ("modelup.workflow.catalog", "get_workflow"),
    "is_bundled": ("modelup.workflow.catalog", "is_bundled"),
    "plain_text_findings": ("modelup.workflow.checks_text", "plain_text_findings"),
    "register_check": ("modelup.workflow.checks", "register_check"),
    "register_simulator": ("modelup.workflow.registry", "register_simulator"),
    "register_workflow": ("modelup.workflow.registry", "register_workflow"),
    "simulator_names": ("modelup.workflow.registry", "simulator_names"),
    "workflow_names": ("modelup.workflow.catalog", "workflow_names"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


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
