"""Who decides what in a served answer: the workflow's ``[authority]``.

The model describes; the deterministic shell decides. A workflow file names the contract fields
a policy owns (the model's value there is never authority: the policy's stands, and the
disagreement is recorded as an override), the action classes its suggested next steps may take
normally and under containment (read-only), what happens to an answer that fails its contract
(``on_fail``, in Guardrails AI's words: ``reask`` once, ``fallback`` to the last-known-good
model, or ``escalate`` to a deterministic safe default), and the case field that keeps one
incident on one canary arm (``routing_key``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelup.workflow.policy import Policy

OnFail = Literal["reask", "fallback", "escalate"]
ON_FAIL: tuple[OnFail, ...] = ("reask", "fallback", "escalate")


@dataclass(frozen=True, slots=True)
class PolicyOwned:
    """A contract field a policy decides: ``policy`` from the request's inputs, or, under
    containment, ``contained`` when it is set (escalation forced)."""

    field: str
    policy: Policy
    contained: bool | None = None


@dataclass(frozen=True, slots=True)
class ActionRule:
    """Which classes of suggested next steps may reach the operator. The items of ``output``
    are classified as the lexicon check ``check`` classifies them."""

    check: str
    output: str
    classes: Mapping[str, Sequence[str]]
    default: str
    allowed: tuple[str, ...]
    """Allowed normally."""
    contained: tuple[str, ...]
    """Allowed under containment (the read-only class)."""
    allow_when: str | None = None
    """The check's case field that, when true, also allows every class (remediation was
    authorised by the request); never under containment."""

    def permitted(self, fields: Mapping[str, Any], *, contained: bool) -> frozenset[str] | None:
        """The classes allowed for this request; ``None``: every class."""
        if contained:
            return frozenset(self.contained)
        if self.allow_when is not None and fields.get(self.allow_when) is True:
            return None
        return frozenset(self.allowed)


@dataclass(frozen=True, slots=True)
class Authority:
    """What the shell decides for a workflow's served answers."""

    policy_owned: tuple[PolicyOwned, ...] = ()
    actions: ActionRule | None = None
    on_fail: OnFail = "escalate"
    safe_default: Mapping[str, Any] | None = None
    """A deterministic answer that satisfies the contract: what ``escalate`` returns (its
    policy-owned fields decided by their policies), and the steps that replace suggested next
    steps none of which may be shown."""
    routing_key: str | None = None
    """The input field whose value keeps a request on one canary arm (hashed)."""

    @property
    def owned_fields(self) -> tuple[str, ...]:
        return tuple(owned.field for owned in self.policy_owned)
