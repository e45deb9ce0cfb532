"""Gate rules judged on paired statistics (``require_significance``).

A regression rule blocks only on a significant regression, a gain rule passes only when the gain
is significant, and when the confidence interval straddles the limit the rule is *inconclusive*:
Hold, with an estimate of how many cases would settle it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelup.config.rules import (
    BOUND_COMPARISONS,
    IMPROVEMENT_COMPARISONS,
    REGRESSION_COMPARISONS,
    GateRule,
)
from modelup.decide.figures import format_change, format_figure
from modelup.decide.limits import Limit, subject
from modelup.decide.stats import cases_to_settle

Status = Literal["passed", "failed", "inconclusive", "missing"]
"""How a rule fared: within its limit, beyond it, undecided by the statistics, or unjudgeable."""


@dataclass(frozen=True, slots=True)
class PairedEvidence:
    """Paired statistics on one rule's figure, over the cases in the rule's scope.

    For comparisons with the baseline, ``estimate``/``low``/``high`` are the change (candidate -
    baseline) and its bootstrap interval; for ``floor``/``ceiling`` they are the candidate's
    figure and its interval. The p-values are the exact one-sided sign test on per-case changes
    (McNemar's exact test when the figure is a pass/fail rate); the adjusted ones are
    Holm-corrected across challengers and are what the gate compares with 1 - confidence.
    """

    n: int
    estimate: float
    low: float
    high: float
    confidence: float
    regressions: int = 0
    fixes: int = 0
    p_regression: float = 1.0
    p_improvement: float = 1.0
    p_regression_adjusted: float = 1.0
    p_improvement_adjusted: float = 1.0


@dataclass(frozen=True, slots=True)
class Significance:
    """A rule's outcome on its paired statistics."""

    status: Status
    reason: str
    cases_to_settle: int | None = None
    """When inconclusive: about how many cases would settle it (None: not estimable)."""


def judge_significance(
    rule: GateRule,
    base: float | None,
    raw: Limit,
    ev: PairedEvidence,
    confidence: float,
) -> Significance:
    """Judge a rule on its paired statistics (see the module docstring): its outcome's status,
    reason, limit and, when inconclusive, the cases that would settle it."""
    alpha = 1.0 - confidence
    comparison = rule.comparison
    name = subject(rule)
    if comparison in BOUND_COMPARISONS:
        target = raw.limit
    else:
        assert base is not None
        target = raw.limit - base  # the limit as a change from the baseline
    interval = _interval(rule, ev)
    status: Status = "inconclusive"
    reason = ""
    untested = ""  # why a clear interval is still not enough: the exact test disagrees
    if comparison in REGRESSION_COMPARISONS:
        p_text = _p_text(ev.p_regression, ev.p_regression_adjusted)
        if not raw.passed and ev.p_regression_adjusted < alpha:
            status = "failed"
            reason = f"{name} regressed significantly beyond its limit: {interval}; {p_text}."
        elif ev.low >= target:
            status = "passed"
            reason = f"{name}: {interval} clears the limit {_signed(rule, target)}."
        elif ev.high < target:
            untested = f"the regression is not significant ({p_text}, needs < {alpha:g})"
    elif comparison in IMPROVEMENT_COMPARISONS:
        p_text = _p_text(ev.p_improvement, ev.p_improvement_adjusted)
        significant = target <= 0 or ev.p_improvement_adjusted < alpha
        if ev.low >= target and significant:
            status = "passed"
            reason = f"{name}: {interval} clears the minimum gain {_signed(rule, target)}."
        elif ev.high < target:
            status = "failed"
            reason = (
                f"{name}: the change is below the minimum {_signed(rule, target)} across its "
                f"whole interval: {interval}."
            )
        elif ev.low >= target:
            untested = f"the gain is not significant ({p_text}, needs < {alpha:g})"
    else:
        above = comparison == "floor"
        if (ev.low >= target) if above else (ev.high <= target):
            status = "passed"
            reason = (
                f"{name}: {interval} clears the {comparison} {format_figure(rule.figure, target)}."
            )
        elif (ev.high < target) if above else (ev.low > target):
            status = "failed"
            reason = (
                f"{name}: {interval} is entirely beyond the {comparison} "
                f"{format_figure(rule.figure, target)}."
            )
    settle = None
    if status == "inconclusive" and untested:
        reason = (
            f"{name}: inconclusive: {interval} is clear of the limit "
            f"{_signed(rule, target)}, but {untested}; more cases are needed."
        )
    elif status == "inconclusive":
        settle = cases_to_settle(ev.estimate, ev.low, ev.high, ev.n, target)
        if settle is None:
            more = "more cases will not settle it while the estimate sits on the limit"
        else:
            more = f"about {max(settle, ev.n + 1)} cases would settle it ({ev.n} now)"
        reason = (
            f"{name}: inconclusive: {interval} straddles the limit {_signed(rule, target)}; {more}."
        )
    return Significance(status, reason, settle)


def _signed(rule: GateRule, value: float) -> str:
    if rule.comparison in BOUND_COMPARISONS:
        return format_figure(rule.figure, value)
    return format_change(rule.figure, value)


def _interval(rule: GateRule, ev: PairedEvidence) -> str:
    what = "candidate" if rule.comparison in BOUND_COMPARISONS else "change"
    return (
        f"{what} {_signed(rule, ev.estimate)}, {ev.confidence:.0%} CI "
        f"[{_signed(rule, ev.low)}, {_signed(rule, ev.high)}] over {ev.n} cases"
    )


def _p_text(raw: float, adjusted: float) -> str:
    if adjusted != raw:
        return f"exact test p = {raw:.3g}, Holm-adjusted p = {adjusted:.3g}"
    return f"exact test p = {raw:.3g}"
