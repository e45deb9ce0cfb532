"""Deterministic policies over case fields: the shell decides, the model only describes.

A policy answers one yes/no question about a case (for incident triage: must this incident go to
a human?) from the case's own fields, never from the model's answer. It is a list of rules; the
answer is yes when every condition of at least one rule holds. A ``policy`` check then compares
the model's field with the policy's answer, so the report shows each disagreement and why.

A condition reads one case field (``field``), or the number of items in a list or map field
(``count``), and compares it with exactly one of ``equals``, ``one_of``, ``at_least``,
``at_most``, ``below`` or ``above``. Ordered comparisons of strings use the ``scale`` the field
declares (its ``enum``, lowest first), so ``impact at_least "high"`` means high or critical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelup.errors import WorkflowError

Operator = Literal["equals", "one_of", "at_least", "at_most", "below", "above"]
OPERATORS: tuple[Operator, ...] = ("equals", "one_of", "at_least", "at_most", "below", "above")
_ORDERED = ("at_least", "at_most", "below", "above")
_SYMBOL = {"at_least": "≥", "at_most": "≤", "below": "<", "above": ">"}


@dataclass(frozen=True, slots=True)
class Condition:
    """One comparison of a case field (or of its item count) with a fixed value."""

    field: str
    operator: Operator
    value: Any
    count: bool = False
    """Compare the number of items in the field rather than its value."""
    scale: tuple[str, ...] = ()
    """The order of a string field's values, lowest first, for ordered comparisons."""

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise WorkflowError(f"unknown policy operator {self.operator!r}")
        if self.operator not in _ORDERED:
            return
        if self.scale and not self.count:
            if self.value not in self.scale:
                known = ", ".join(self.scale)
                raise WorkflowError(f"{self.field}: {self.value!r} is not on its scale ({known})")
        elif isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise WorkflowError(
                f"{self.field}: {self.operator} needs a number (or a field with an enum scale)"
            )

    def holds(self, case: Mapping[str, Any]) -> tuple[bool, str]:
        """Whether the condition holds for ``case``, and how it reads (``impact high ≥ high``)."""
        actual = case.get(self.field)
        subject = self.field
        if self.count:
            actual = len(actual) if isinstance(actual, Sequence | Mapping) else 0
            subject = f"{self.field} count"
        if self.operator == "equals":
            passed = actual == self.value
            return passed, f"{subject} {_show(actual)} {'=' if passed else '≠'} {_show(self.value)}"
        if self.operator == "one_of":
            passed = actual in self.value
            verb = "in" if passed else "not in"
            return passed, f"{subject} {_show(actual)} {verb} {_show(list(self.value))}"
        passed = self._compare(actual)
        symbol = _SYMBOL[self.operator]
        return passed, f"{subject} {_show(actual)} {symbol if passed else 'not ' + symbol} " + (
            _show(self.value)
        )

    def _compare(self, actual: Any) -> bool:
        left: float
        right: float
        if self.scale and not self.count:
            if actual not in self.scale:
                return False
            left, right = self.scale.index(actual), self.scale.index(self.value)
        elif isinstance(actual, int | float) and not isinstance(actual, bool):
            left, right = actual, self.value
        else:
            return False
        if self.operator == "at_least":
            return bool(left >= right)
        if self.operator == "at_most":
            return bool(left <= right)
        if self.operator == "below":
            return bool(left < right)
        return bool(left > right)


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A named conjunction of conditions: the rule fires when all of them hold."""

    name: str
    when: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The policy's answer for one case, with the rule that fired and why."""

    value: bool
    rule: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Policy:
    """A deterministic yes/no decision over case fields: yes when any rule fires."""

    name: str
    rules: tuple[PolicyRule, ...]
    description: str = ""

    def decide(self, case: Mapping[str, Any]) -> PolicyDecision:
        for rule in self.rules:
            readings = [condition.holds(case) for condition in rule.when]
            if all(held for held, _ in readings):
                why = ", ".join(text for _, text in readings)
                return PolicyDecision(True, rule.name, f"rule '{rule.name}' fired: {why}")
        return PolicyDecision(False, None, "no rule fired")


def _show(value: Any) -> str:
    # JSON's spelling (true, null, 3, 2.5); the common scalars without json.dumps, which a
    # served request would otherwise pay for on every condition of every rule.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)
