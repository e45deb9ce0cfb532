"""The shape of a workflow file, as strict models: every table and key it may hold.

``modelup.workflow.loader`` validates a file against ``WorkflowFile`` (so an unknown key or a
wrong type is named by its key path), then checks what a shape cannot say (that a ``case``
parameter names a declared case field, ...) while it builds the ``Workflow``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from modelup.config.rules import GateRule
from modelup.workflow.case_fields import CaseFieldDecl
from modelup.workflow.policy import OPERATORS

FORMAT_VERSION: Literal[1] = 1
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


class Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MessageDecl(Declaration):
    role: Literal["system", "user", "assistant"]
    content: StrictStr


class PromptDecl(Declaration):
    id: StrictStr = Field(min_length=1)
    messages: list[MessageDecl] = Field(min_length=1)


class CheckDecl(Declaration):
    name: StrictStr = Field(pattern=IDENTIFIER)
    kind: StrictStr
    figure: StrictStr = Field(pattern=IDENTIFIER)
    aggregate: Literal["rate", "mean"] = "rate"
    subset: StrictStr | None = None
    params: dict[str, Any] = {}


class ConditionDecl(Declaration):
    field: StrictStr | None = None
    count: StrictStr | None = None
    equals: Scalar | None = None
    one_of: list[Scalar] | None = None
    at_least: StrictInt | StrictFloat | StrictStr | None = None
    at_most: StrictInt | StrictFloat | StrictStr | None = None
    below: StrictInt | StrictFloat | StrictStr | None = None
    above: StrictInt | StrictFloat | StrictStr | None = None

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> ConditionDecl:
        if (self.field is None) == (self.count is None):
            raise ValueError("give exactly one of 'field' or 'count'")
        operators = [name for name in OPERATORS if name in self.model_fields_set]
        if len(operators) != 1:
            raise ValueError(f"give exactly one of {', '.join(OPERATORS)}")
        return self


class PolicyRuleDecl(Declaration):
    name: StrictStr = Field(min_length=1)
    when: list[ConditionDecl] = Field(min_length=1)


class PolicyDecl(Declaration):
    description: StrictStr = ""
    rules: list[PolicyRuleDecl] = Field(min_length=1)


class GateDecl(Declaration):
    extends: Literal["promotion"] | None = None
    """``promotion``: these rules follow the seed's gate built from ``[promotion]`` instead of
    replacing it."""
    rules: list[GateRule] = Field(min_length=1)


class SimulatorDecl(Declaration):
    name: StrictStr = Field(min_length=1)
    options: dict[str, Any] = {}
    profiles: dict[str, dict[str, Any]] = {}


class CriterionDecl(Declaration):
    name: StrictStr = Field(pattern=IDENTIFIER)
    description: StrictStr = Field(min_length=1)


class GraderDecl(Declaration):
    fields: list[StrictStr] = []
    rubric: list[CriterionDecl] = []


class PolicyOwnedDecl(Declaration):
    policy: StrictStr
    contained: StrictBool | None = None
    """The field's value under containment (``true``: escalation forced), whatever the policy
    decides; unset: the policy decides under containment too."""


class ActionsDecl(Declaration):
    check: StrictStr
    """A ``lexicon`` check: its classes classify the suggested next steps."""
    allowed: list[StrictStr] = Field(min_length=1)
    contained: list[StrictStr] = Field(min_length=1)


class AuthorityDecl(Declaration):
    """``[authority]``: what the run-time shell decides, not the model (docs/serve.md)."""

    policy_owned: dict[str, StrictStr | PolicyOwnedDecl] = {}
    actions: ActionsDecl | None = None
    on_fail: Literal["reask", "fallback", "escalate"] = "reask"
    safe_default: dict[str, Any] | None = None
    routing_key: StrictStr | None = None


class WorkflowFile(Declaration):
    format_version: Literal[1] = FORMAT_VERSION
    name: StrictStr = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: StrictStr | StrictInt
    description: StrictStr = ""
    family_field: StrictStr | None = None
    prompt: PromptDecl
    case_fields: dict[str, CaseFieldDecl] = Field(min_length=1)
    contract: dict[str, Any] | StrictStr
    checks: list[CheckDecl] = Field(min_length=1)
    quality_weights: dict[str, StrictInt | StrictFloat] = {}
    policies: dict[str, PolicyDecl] = {}
    gate: GateDecl | None = None
    simulator: SimulatorDecl | None = None
    grader: GraderDecl | None = None
    authority: AuthorityDecl | None = None
