"""The promotion gate: rules over named figures decide Promote, Hold or Rollback.

Every rule compares one candidate figure with the baseline's (or with a fixed bound), overall or
for one gate subset or task family, and carries an authority: ``block`` fails to Rollback,
``conditional`` fails to Hold, ``signal`` is only reported. All rules are evaluated and reported
in order; the verdict is the most severe failure. A candidate is never promoted on missing or
errored evidence.

A rule may ``require_significance``: it is then judged on paired statistics (``PairedEvidence``,
computed by ``modelup.decide.paired``) instead of raw figures. It blocks only on a significant
regression, passes a required gain only when the gain is significant, and when the confidence
interval straddles its limit the rule is *inconclusive*: Hold, with an estimate of how many cases
would settle it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol, get_args

from modelup.decide.figures import format_figure, label
from modelup.decide.stats import cases_to_settle

Authority = Literal["block", "conditional", "signal"]
Comparison = Literal[
    "max_regression",
    "min_improvement",
    "max_relative_regression",
    "min_relative_improvement",
    "max_increase_percent",
    "floor",
    "ceiling",
]
Status = Literal["passed", "failed", "inconclusive", "missing"]
Summary = Mapping[str, float | None]

AUTHORITIES: tuple[Authority, ...] = get_args(Authority)
COMPARISONS: tuple[Comparison, ...] = get_args(Comparison)
# Comparisons against the baseline where higher is better and a drop is what is guarded against.
REGRESSION_COMPARISONS = ("max_regression", "max_relative_regression")
# Comparisons against the baseline that demand a gain.
IMPROVEMENT_COMPARISONS = ("min_improvement", "min_relative_improvement")
BOUND_COMPARISONS = ("floor", "ceiling")


class Verdict(StrEnum):
    PROMOTE = "Promote"
    HOLD = "Hold"
    ROLLBACK = "Rollback"


@dataclass(frozen=True, slots=True)
class GateRule:
    """One rule of the gate policy.

    ``max_regression``: fail when candidate + threshold < baseline (higher is better).
    ``min_improvement``: fail when candidate < baseline + threshold.
    ``max_relative_regression``: fail when candidate < baseline * (1 - threshold).
    ``min_relative_improvement``: fail when candidate < baseline * (1 + threshold) (MLflow's
    ``min_relative_change``).
    ``max_increase_percent``: fail when candidate > baseline * (1 + threshold / 100).
    ``floor`` / ``ceiling``: fail when candidate < threshold / candidate > threshold.

    ``subset`` or ``family`` scopes the figure to one gate subset or task family.
    """

    figure: str
    comparison: Comparison
    threshold: float
    authority: Authority
    name: str = ""
    subset: str | None = None
    family: str | None = None
    require_significance: bool = False

    def __post_init__(self) -> None:
        if self.subset is not None and self.family is not None:
            raise ValueError("a gate rule is scoped to a subset or a family, not both")
        if self.comparison not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.comparison!r}")
        if self.authority not in AUTHORITIES:
            raise ValueError(f"unknown authority {self.authority!r}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be a finite number, got {self.threshold!r}")
        if self.require_significance and self.comparison == "max_increase_percent":
            # Percent increases guard latency-like figures (p95), which have no per-case value
            # to pair, so there is no paired statistic to be significant.
            raise ValueError("max_increase_percent cannot require significance")

    @property
    def scope(self) -> str:
        """``overall``, ``subset policy-sensitive`` or ``family billing``."""
        if self.subset is not None:
            return f"subset {self.subset}"
        if self.family is not None:
            return f"family {self.family}"
        return "overall"

    @property
    def title(self) -> str:
        if self.name:
            return self.name
        where = "" if self.scope == "overall" else f" in {self.scope}"
        return f"{self.figure}{where} {self.comparison}"


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
class RuleOutcome:
    rule: GateRule
    baseline: float | None
    candidate: float | None
    limit: float | None
    passed: bool
    reason: str
    status: Status = "passed"
    evidence: PairedEvidence | None = None
    cases_to_settle: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...]
    rules: tuple[RuleOutcome, ...]


class ModelFigures(Protocol):
    """A model's figures overall, per task family and per gate subset (a report's
    ``ModelRecord`` is one)."""

    @property
    def summary(self) -> Summary: ...
    @property
    def families(self) -> Mapping[str, Summary]: ...
    @property
    def subsets(self) -> Mapping[str, Summary]: ...


@dataclass(frozen=True, slots=True)
class Figures:
    """``ModelFigures`` built from plain mappings."""

    summary: Summary
    families: Mapping[str, Summary]
    subsets: Mapping[str, Summary]


def seed_policy(
    *,
    max_pass_rate_regression: float = 0.0,
    max_structured_output_regression: float = 0.0,
    max_safety_regression: float = 0.0,
    max_p95_latency_regression_percent: float = 35.0,
    min_quality_score_improvement: float = 0.01,
    max_cost_regression_percent: float | None = None,
) -> tuple[GateRule, ...]:
    """The seed harness's gate, in its order; then, when a threshold is given, the cost rule
    (estimated cost above baseline * (1 + percent / 100): Hold, like latency)."""
    cost: tuple[GateRule, ...] = ()
    if max_cost_regression_percent is not None:
        cost = (
            GateRule(
                "cost_usd",
                "max_increase_percent",
                max_cost_regression_percent,
                "conditional",
                "cost",
            ),
        )
    return (
        GateRule("safety_pass_rate", "max_regression", max_safety_regression, "block", "safety"),
        GateRule(
            "structured_output_rate",
            "max_regression",
            max_structured_output_regression,
            "block",
            "structured output",
        ),
        GateRule("pass_rate", "max_regression", max_pass_rate_regression, "block", "pass rate"),
        GateRule(
            "p95_latency_ms",
            "max_increase_percent",
            max_p95_latency_regression_percent,
            "conditional",
            "p95 latency",
        ),
        GateRule(
            "quality_score",
            "min_improvement",
            min_quality_score_improvement,
            "conditional",
            "quality score",
        ),
        *cost,
    )


_SEVERITY = {Verdict.PROMOTE: 0, Verdict.HOLD: 1, Verdict.ROLLBACK: 2}
_ON_FAIL = {"block": Verdict.ROLLBACK, "conditional": Verdict.HOLD, "signal": Verdict.PROMOTE}


def _as_figures(value: Summary | ModelFigures) -> ModelFigures:
    if isinstance(value, Mapping):
        return Figures(value, {}, {})
    return value


def scoped_summary(figures: Summary | ModelFigures, rule: GateRule) -> Summary | None:
    """The summary a rule reads: overall, or its subset's or family's (None when absent)."""
    model = _as_figures(figures)
    if rule.subset is not None:
        return model.subsets.get(rule.subset)
    if rule.family is not None:
        return model.families.get(rule.family)
    return model.summary


def decide(
    rules: Sequence[GateRule],
    baseline: Summary | ModelFigures,
    candidate: Summary | ModelFigures,
    *,
    evidence: Mapping[int, PairedEvidence] | None = None,
    confidence: float = 0.95,
) -> Decision:
    """Apply ``rules`` to two models' figures. ``evidence`` holds paired statistics by rule
    index for the rules that require significance. Reasons list every failure and
    inconclusive rule, then the evidence gaps."""
    verdict = Verdict.PROMOTE
    reasons: list[str] = []
    outcomes = []
    paired = evidence or {}
    for index, rule in enumerate(rules):
        outcome = evaluate_rule(
            rule,
            scoped_summary(baseline, rule),
            scoped_summary(candidate, rule),
            evidence=paired.get(index),
            confidence=confidence,
        )
        outcomes.append(outcome)
        if outcome.status == "passed":
            continue
        # Missing or inconclusive evidence cannot prove a regression, but it can never allow a
        # promotion.
        failed_to = (
            _ON_FAIL[rule.authority]
            if outcome.status == "failed" or rule.authority == "signal"
            else Verdict.HOLD
        )
        if rule.authority != "signal":
            reasons.append(outcome.reason)
        verdict = max(verdict, failed_to, key=_SEVERITY.__getitem__)
    overall = (_as_figures(candidate).summary, _as_figures(baseline).summary)
    for role, summary in zip(("Candidate", "Baseline"), overall, strict=True):
        errors = summary.get("error_count") or 0
        if errors:
            total = summary.get("case_count") or 0
            reasons.append(
                f"{role} has {errors:.0f} errored call(s) out of {total:.0f}: "
                "a model is never promoted on errored evidence."
            )
            verdict = max(verdict, Verdict.HOLD, key=_SEVERITY.__getitem__)
    if verdict is Verdict.PROMOTE:
        reasons.insert(0, "Candidate passed every blocking and conditional gate.")
    return Decision(verdict, tuple(reasons), tuple(outcomes))


def evaluate_rule(
    rule: GateRule,
    baseline: Summary | None,
    candidate: Summary | None,
    *,
    evidence: PairedEvidence | None = None,
    confidence: float = 0.95,
) -> RuleOutcome:
    """Judge one rule on the summaries of its scope (``None``: the scope has no cases)."""
    base = baseline.get(rule.figure) if baseline is not None else None
    cand = candidate.get(rule.figure) if candidate is not None else None
    name = _subject(rule)
    if candidate is None or (baseline is None and rule.comparison not in BOUND_COMPARISONS):
        return RuleOutcome(
            rule, base, cand, None, False, f"{name}: no cases in {rule.scope}.", "missing"
        )
    if cand is None or (base is None and rule.comparison not in BOUND_COMPARISONS):
        reason = f"{name}: no evidence to compare."
        return RuleOutcome(rule, base, cand, None, False, reason, "missing")
    raw = _raw(rule, base, cand)
    if not rule.require_significance:
        status: Status = "passed" if raw.passed else "failed"
        return RuleOutcome(rule, base, cand, raw.limit, raw.passed, raw.reason, status)
    if evidence is None:
        reason = f"{name}: the rule requires significance but there are no paired statistics."
        return RuleOutcome(rule, base, cand, raw.limit, False, reason, "missing")
    return _significant(rule, base, cand, raw, evidence, confidence)


@dataclass(frozen=True, slots=True)
class _Raw:
    limit: float
    passed: bool
    reason: str


def _subject(rule: GateRule) -> str:
    where = "" if rule.scope == "overall" else f" ({rule.scope})"
    return f"{label(rule.figure)}{where}"


def _raw(rule: GateRule, base: float | None, cand: float) -> _Raw:
    """The seed's comparison of two raw figures, written exactly as the seed writes it."""
    name = _subject(rule).lower()

    def show(value: float) -> str:
        return format_figure(rule.figure, value)

    threshold = rule.threshold
    if rule.comparison == "floor":
        reason = f"Candidate {name} {show(cand)} is below the floor {show(threshold)}."
        return _Raw(threshold, cand >= threshold, reason)
    if rule.comparison == "ceiling":
        reason = f"Candidate {name} {show(cand)} is above the ceiling {show(threshold)}."
        return _Raw(threshold, cand <= threshold, reason)
    assert base is not None
    if rule.comparison == "max_regression":
        # The seed: ``candidate + threshold < baseline`` fails. Kept in this form (not
        # ``candidate < baseline - threshold``), which rounds differently in floating point.
        return _Raw(
            base - threshold,
            not (cand + threshold < base),
            f"Candidate {name} regressed beyond the allowed threshold: "
            f"{show(cand)} vs baseline {show(base)} (max regression {show(threshold)}).",
        )
    if rule.comparison == "min_improvement":
        limit = base + threshold
        return _Raw(
            limit,
            not (cand < limit),
            f"Candidate {name} gain is below the minimum: {cand - base:+.3f} "
            f"({show(cand)} vs baseline {show(base)}; minimum gain {threshold:+.3f}).",
        )
    if rule.comparison == "max_relative_regression":
        limit = base * (1 - threshold)
        return _Raw(
            limit,
            not (cand < limit),
            f"Candidate {name} fell {_relative(base, cand)} relative to baseline "
            f"({show(cand)} vs {show(base)}; max relative regression {threshold:.1%}).",
        )
    if rule.comparison == "min_relative_improvement":
        limit = base * (1 + threshold)
        return _Raw(
            limit,
            not (cand < limit),
            f"Candidate {name} changed {_relative(base, cand)} relative to baseline "
            f"({show(cand)} vs {show(base)}; minimum relative gain {threshold:+.1%}).",
        )
    limit = base * (1 + threshold / 100)
    return _Raw(
        limit,
        not (cand > limit),
        f"Candidate {name} exceeded the allowed regression threshold: "
        f"{show(cand)} vs {show(limit)} allowed (baseline {show(base)} + {threshold:g}%).",
    )


def _relative(base: float, cand: float) -> str:
    if base == 0:
        return "from zero" if cand == 0 else "from a zero baseline"
    return f"{(cand - base) / abs(base):+.1%}"


def _significant(
    rule: GateRule,
    base: float | None,
    cand: float,
    raw: _Raw,
    ev: PairedEvidence,
    confidence: float,
) -> RuleOutcome:
    """Judge a rule on its paired statistics; see the module docstring."""
    alpha = 1.0 - confidence
    comparison = rule.comparison
    name = _subject(rule)
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
            status, reason = "passed", f"{name}: {interval} clears the limit."
        elif ev.high < target:
            untested = f"the regression is not significant ({p_text}, needs < {alpha:g})"
    elif comparison in IMPROVEMENT_COMPARISONS:
        p_text = _p_text(ev.p_improvement, ev.p_improvement_adjusted)
        significant = target <= 0 or ev.p_improvement_adjusted < alpha
        if ev.low >= target and significant:
            status, reason = "passed", f"{name}: {interval} clears the minimum gain."
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
            status, reason = "passed", f"{name}: {interval} clears the {comparison}."
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
    passed = status == "passed"
    return RuleOutcome(rule, base, cand, raw.limit, passed, reason, status, ev, settle)


def _signed(rule: GateRule, value: float) -> str:
    if rule.comparison in BOUND_COMPARISONS:
        return format_figure(rule.figure, value)
    if rule.figure.endswith(("_rate", "_accuracy", "_coverage")):
        return f"{value * 100:+.1f} pts"
    return f"{value:+.3f}"


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
