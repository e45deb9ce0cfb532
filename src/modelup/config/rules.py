"""One gate rule as it is declared: in ``modelup.toml`` (``[[gate.rules]]``), in a workflow file
(``[gate]``) and in the report, where each rule's outcome carries the rule. Declared once here;
``modelup.decide`` judges it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Authority = Literal["block", "conditional", "signal", "rollback_trigger"]
"""What failing a rule does, in the doctrine's words (the one list of authorities; the gate maps
each to a verdict in ``modelup.decide.gate``): ``block`` fails to Rollback, ``conditional`` to
Hold, ``signal`` is only reported, and ``rollback_trigger`` is the early live canary's: offline
it acts as ``block``, and a run-time shell rolls a canary back on it."""
Comparison = Literal[
    "max_regression",
    "min_improvement",
    "max_relative_regression",
    "min_relative_improvement",
    "max_increase_percent",
    "floor",
    "ceiling",
]

AUTHORITIES: tuple[Authority, ...] = get_args(Authority)
COMPARISONS: tuple[Comparison, ...] = get_args(Comparison)
REGRESSION_COMPARISONS: tuple[Comparison, ...] = ("max_regression", "max_relative_regression")
"""Comparisons with the baseline where higher is better and a drop is what is guarded against."""
IMPROVEMENT_COMPARISONS: tuple[Comparison, ...] = ("min_improvement", "min_relative_improvement")
"""Comparisons with the baseline that demand a gain."""
BOUND_COMPARISONS: tuple[Comparison, ...] = ("floor", "ceiling")
"""Comparisons of the candidate's figure with a fixed bound."""


def scope_name(subset: str | None, family: str | None) -> str:
    """What a rule or an expectation scoped to ``subset`` or ``family`` is about: ``overall``,
    ``subset policy-sensitive`` or ``family billing``."""
    if subset is not None:
        return f"subset {subset}"
    if family is not None:
        return f"family {family}"
    return "overall"


class GateRule(BaseModel):
    """One rule of the gate policy.

    ``max_regression``: fail when candidate + threshold < baseline (higher is better).
    ``min_improvement``: fail when candidate < baseline + threshold.
    ``max_relative_regression``: fail when candidate < baseline * (1 - threshold).
    ``min_relative_improvement``: fail when candidate < baseline * (1 + threshold) (MLflow's
    ``min_relative_change``).
    ``max_increase_percent``: fail when candidate > baseline * (1 + threshold / 100).
    ``floor`` / ``ceiling``: fail when candidate < threshold / candidate > threshold.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    """How the rule is named in reasons and reports; built from the figure when empty."""
    figure: str = Field(min_length=1)
    comparison: Comparison
    threshold: float = Field(strict=True, allow_inf_nan=False)
    """Rates are fractions (0.05 = five points); relative thresholds are fractions of the
    baseline; ``max_increase_percent`` is in percent."""
    authority: Authority
    """``block`` fails to Rollback, ``conditional`` to Hold, ``signal`` is only reported,
    ``rollback_trigger`` acts as ``block`` offline. On a figure about the evidence
    (``error_count``, ``error_rate``, ``identity_drift``, ``identity_changes``) a failure holds
    at most: such evidence says nothing about the model."""
    subset: str | None = Field(None, min_length=1)
    """Judge the figure over this gate subset's cases only."""
    family: str | None = Field(None, min_length=1)
    """Judge the figure over this task family's cases only."""
    require_significance: bool = False
    """Judge on paired statistics: block only a significant regression, pass a required gain
    only when it is significant, Hold as inconclusive when the interval straddles the limit."""

    @model_validator(mode="after")
    def _coherent(self) -> GateRule:
        if self.subset is not None and self.family is not None:
            raise ValueError("a gate rule is scoped to a subset or a family, not both")
        if self.require_significance and self.comparison == "max_increase_percent":
            # Percent increases guard latency-like figures (p95), which have no per-case value
            # to pair, so there is no paired statistic to be significant.
            raise ValueError("max_increase_percent cannot require significance")
        return self

    @property
    def scope(self) -> str:
        """``overall``, ``subset policy-sensitive`` or ``family billing``."""
        return scope_name(self.subset, self.family)

    def covers(self, family: str, subsets: Sequence[str]) -> bool:
        """Whether a case of ``family`` in ``subsets`` is in this rule's scope."""
        if self.subset is not None:
            return self.subset in subsets
        if self.family is not None:
            return family == self.family
        return True

    @property
    def title(self) -> str:
        if self.name:
            return self.name
        where = "" if self.scope == "overall" else f" in {self.scope}"
        return f"{self.figure}{where} {self.comparison}"
