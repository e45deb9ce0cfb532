"""The shell's authority over an answer: policy-owned fields take the policy's value, suggested
next steps keep only the action classes allowed (read-only under containment), and every
change is an override the response and the trace carry: the field, what the model said, what
stands, and why. The model describes; this decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelup.workflow.authority import Authority
from modelup.workflow.checks_semantic import classify


@dataclass(frozen=True, slots=True)
class Override:
    field: str
    model_value: Any
    policy_value: Any
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "model_value": self.model_value,
            "policy_value": self.policy_value,
            "why": self.why,
        }


def apply_authority(
    authority: Authority,
    output: Mapping[str, Any],
    fields: Mapping[str, Any],
    *,
    contained: bool,
) -> tuple[dict[str, Any], list[Override]]:
    """``output`` as the shell returns it, and the overrides that made it so."""
    decided = dict(output)
    overrides: list[Override] = []
    for owned in authority.policy_owned:
        decision = owned.policy.decide(fields)
        value, why = decision.value, f"policy {owned.policy.name}: {decision.reason}"
        if contained and owned.contained is not None:
            value = owned.contained
            why = f"contained: {owned.field} forced to {_show(value)} until the workflow is resumed"
        said = decided.get(owned.field)
        if said is not value:
            overrides.append(Override(owned.field, said, value, why))
        decided[owned.field] = value
    rule = authority.actions
    if rule is None:
        return decided, overrides
    items = decided.get(rule.output)
    if not isinstance(items, list):
        return decided, overrides
    permitted = rule.permitted(fields, contained=contained)
    if permitted is None:
        return decided, overrides
    kept, removed, classes = [], [], set()
    for item in items:
        name, _ = classify(str(item), rule.classes, rule.default)
        if name in permitted:
            kept.append(item)
        else:
            removed.append(item)
            classes.add(name)
    if not removed:
        return decided, overrides
    allowed = ", ".join(sorted(permitted)) or "none"
    under = "contained: " if contained else ""
    why = f"action class {', '.join(sorted(classes))} not allowed ({under}allowed: {allowed})"
    if not kept and authority.safe_default is not None:
        kept = list(authority.safe_default.get(rule.output) or [])
        why += "; replaced by the safe default's steps"
    overrides.append(Override(rule.output, removed, kept, why))
    decided[rule.output] = kept
    return decided, overrides


def _show(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)
