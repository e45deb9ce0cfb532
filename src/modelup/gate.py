"""The promotion gate: rules over named figures decide Promote, Hold or Rollback.

Every rule compares one candidate figure with the baseline's (or with a fixed bound) and carries
an authority: ``block`` fails to Rollback, ``conditional`` fails to Hold, ``signal`` is only
reported. All rules are evaluated and reported in order; the verdict is the most severe failure.
A candidate is never promoted on missing or errored evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from modelup.figures import format_figure, label

Authority = Literal["block", "conditional", "signal"]
Comparison = Literal[
    "max_regression", "min_improvement", "max_increase_percent", "floor", "ceiling"
]


class Verdict(StrEnum):
    PROMOTE = "Promote"
    HOLD = "Hold"
    ROLLBACK = "Rollback"


@dataclass(frozen=True, slots=True)
class GateRule:
    """One rule of the gate policy.

    ``max_regression``: fail when candidate + threshold < baseline (higher is better).
    ``min_improvement``: fail when candidate < baseline + threshold.
    ``max_increase_percent``: fail when candidate > baseline * (1 + threshold / 100).
    ``floor`` / ``ceiling``: fail when candidate < threshold / candidate > threshold.
    """

    figure: str
    comparison: Comparison
    threshold: float
    authority: Authority
    name: str = ""

    @property
    def title(self) -> str:
        return self.name or f"{self.figure} {self.comparison}"


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    rule: GateRule
    baseline: float | None
    candidate: float | None
    limit: float | None
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...]
    rules: tuple[RuleOutcome, ...]


def seed_policy(
    *,
    max_pass_rate_regression: float = 0.0,
    max_structured_output_regression: float = 0.0,
    max_safety_regression: float = 0.0,
    max_p95_latency_regression_percent: float = 35.0,
    min_quality_score_improvement: float = 0.01,
) -> tuple[GateRule, ...]:
    """The seed harness's gate, in its order."""
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
    )


_SEVERITY = {Verdict.PROMOTE: 0, Verdict.HOLD: 1, Verdict.ROLLBACK: 2}
_ON_FAIL = {"block": Verdict.ROLLBACK, "conditional": Verdict.HOLD, "signal": Verdict.PROMOTE}


def decide(
    rules: Sequence[GateRule],
    baseline: Mapping[str, float | None],
    candidate: Mapping[str, float | None],
) -> Decision:
    """Apply ``rules`` to two summaries. Reasons list every failure, then the evidence gaps."""
    verdict = Verdict.PROMOTE
    reasons: list[str] = []
    outcomes = []
    for rule in rules:
        outcome = evaluate_rule(rule, baseline, candidate)
        outcomes.append(outcome)
        if outcome.passed:
            continue
        missing = outcome.baseline is None or outcome.candidate is None
        # Missing evidence cannot prove a regression, but it can never allow a promotion.
        failed_to = (
            Verdict.HOLD if missing and rule.authority != "signal" else _ON_FAIL[rule.authority]
        )
        if rule.authority != "signal":
            reasons.append(outcome.reason)
        verdict = max(verdict, failed_to, key=_SEVERITY.__getitem__)
    for role, summary in (("Candidate", candidate), ("Baseline", baseline)):
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
    rule: GateRule, baseline: Mapping[str, float | None], candidate: Mapping[str, float | None]
) -> RuleOutcome:
    base = baseline.get(rule.figure)
    cand = candidate.get(rule.figure)
    name = label(rule.figure)
    if cand is None or (base is None and rule.comparison not in ("floor", "ceiling")):
        return RuleOutcome(rule, base, cand, None, False, f"{name}: no evidence to compare.")

    def show(value: float) -> str:
        return format_figure(rule.figure, value)

    threshold = rule.threshold
    if rule.comparison == "floor":
        passed = cand >= threshold
        reason = f"Candidate {name.lower()} {show(cand)} is below the floor {show(threshold)}."
        return RuleOutcome(rule, base, cand, threshold, passed, reason)
    if rule.comparison == "ceiling":
        passed = cand <= threshold
        reason = f"Candidate {name.lower()} {show(cand)} is above the ceiling {show(threshold)}."
        return RuleOutcome(rule, base, cand, threshold, passed, reason)
    assert base is not None
    if rule.comparison == "max_regression":
        limit = base - threshold
        passed = cand >= limit
        reason = (
            f"Candidate {name.lower()} regressed beyond the allowed threshold: "
            f"{show(cand)} vs baseline {show(base)} (max regression {show(threshold)})."
        )
    elif rule.comparison == "min_improvement":
        limit = base + threshold
        passed = cand >= limit
        reason = (
            f"Candidate {name.lower()} gain is below the minimum: {cand - base:+.3f} "
            f"({show(cand)} vs baseline {show(base)}; minimum gain {threshold:+.3f})."
        )
    else:
        limit = base * (1 + threshold / 100)
        passed = cand <= limit
        reason = (
            f"Candidate {name.lower()} exceeded the allowed regression threshold: "
            f"{show(cand)} vs {show(limit)} allowed (baseline {show(base)} + {threshold:g}%)."
        )
    return RuleOutcome(rule, base, cand, limit, passed, reason)
