"""A rule judged on raw figures: the limit it sets and the seed's words for a breach."""

from __future__ import annotations

from dataclasses import dataclass

from modelup.config.rules import GateRule
from modelup.decide.figures import format_figure, label


@dataclass(frozen=True, slots=True)
class Limit:
    """A rule judged on two raw figures: its limit, whether the candidate is within it, and
    the reason in the seed's words."""

    limit: float
    passed: bool
    reason: str


def subject(rule: GateRule) -> str:
    where = "" if rule.scope == "overall" else f" ({rule.scope})"
    return f"{label(rule.figure)}{where}"


def limit_of(rule: GateRule, base: float | None, cand: float) -> Limit:
    """The seed's comparison of two raw figures, written exactly as the seed writes it."""
    name = subject(rule).lower()

    def show(value: float) -> str:
        return format_figure(rule.figure, value)

    threshold = rule.threshold
    if rule.comparison == "floor":
        reason = f"Candidate {name} {show(cand)} is below the floor {show(threshold)}."
        return Limit(threshold, cand >= threshold, reason)
    if rule.comparison == "ceiling":
        reason = f"Candidate {name} {show(cand)} is above the ceiling {show(threshold)}."
        return Limit(threshold, cand <= threshold, reason)
    assert base is not None
    if rule.comparison == "max_regression":
        # The seed: ``candidate + threshold < baseline`` fails. Kept in this form (not
        # ``candidate < baseline - threshold``), which rounds differently in floating point.
        return Limit(
            base - threshold,
            not (cand + threshold < base),
            f"Candidate {name} regressed beyond the allowed threshold: "
            f"{show(cand)} vs baseline {show(base)} (max regression {show(threshold)}).",
        )
    if rule.comparison == "min_improvement":
        limit = base + threshold
        return Limit(
            limit,
            not (cand < limit),
            f"Candidate {name} gain is below the minimum: {cand - base:+.3f} "
            f"({show(cand)} vs baseline {show(base)}; minimum gain {threshold:+.3f}).",
        )
    if rule.comparison == "max_relative_regression":
        limit = base * (1 - threshold)
        return Limit(
            limit,
            not (cand < limit),
            f"Candidate {name} fell {_relative(base, cand)} relative to baseline "
            f"({show(cand)} vs {show(base)}; max relative regression {threshold:.1%}).",
        )
    if rule.comparison == "min_relative_improvement":
        limit = base * (1 + threshold)
        return Limit(
            limit,
            not (cand < limit),
            f"Candidate {name} changed {_relative(base, cand)} relative to baseline "
            f"({show(cand)} vs {show(base)}; minimum relative gain {threshold:+.1%}).",
        )
    limit = base * (1 + threshold / 100)
    return Limit(
        limit,
        not (cand > limit),
        f"Candidate {name} exceeded the allowed regression threshold: "
        f"{show(cand)} vs {show(limit)} allowed (baseline {show(base)} + {threshold:g}%).",
    )


def _relative(base: float, cand: float) -> str:
    if base == 0:
        return "from zero" if cand == 0 else "from a zero baseline"
    return f"{(cand - base) / abs(base):+.1%}"
