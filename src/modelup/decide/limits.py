"""A rule judged on raw figures: the limit it sets, and its reason whether it passes or not (a
breach in the seed's words)."""

from __future__ import annotations

from dataclasses import dataclass

from modelup.config.rules import GateRule
from modelup.decide.figures import format_figure, label


@dataclass(frozen=True, slots=True)
class Limit:
    """A rule judged on two raw figures: its limit, whether the candidate is within it, and
    why, with the figures and the threshold (a breach in the seed's words)."""

    limit: float
    passed: bool
    reason: str


def subject(rule: GateRule) -> str:
    where = "" if rule.scope == "overall" else f" ({rule.scope})"
    return f"{label(rule.figure)}{where}"


def limit_of(rule: GateRule, base: float | None, cand: float) -> Limit:
    """The seed's comparison of two raw figures. A breach is written exactly as the seed writes
    it; a pass states the same figures and threshold and says it is within them."""
    name = subject(rule)
    lower = name.lower()

    def show(value: float) -> str:
        return format_figure(rule.figure, value)

    threshold = rule.threshold
    if rule.comparison == "floor":
        passed = cand >= threshold
        return Limit(
            threshold,
            passed,
            f"{name} {show(cand)}: at or above the floor {show(threshold)}."
            if passed
            else f"Candidate {lower} {show(cand)} is below the floor {show(threshold)}.",
        )
    if rule.comparison == "ceiling":
        passed = cand <= threshold
        return Limit(
            threshold,
            passed,
            f"{name} {show(cand)}: at or below the ceiling {show(threshold)}."
            if passed
            else f"Candidate {lower} {show(cand)} is above the ceiling {show(threshold)}.",
        )
    assert base is not None
    versus = f"{show(cand)} vs baseline {show(base)}"
    if rule.comparison == "max_regression":
        # The seed: ``candidate + threshold < baseline`` fails. Kept in this form (not
        # ``candidate < baseline - threshold``), which rounds differently in floating point.
        passed = not (cand + threshold < base)
        return Limit(
            base - threshold,
            passed,
            f"{name} {versus}: within the allowed regression {show(threshold)}."
            if passed
            else f"Candidate {lower} regressed beyond the allowed threshold: "
            f"{versus} (max regression {show(threshold)}).",
        )
    if rule.comparison == "min_improvement":
        limit = base + threshold
        passed = not (cand < limit)
        gain = f"{cand - base:+.3f}"
        return Limit(
            limit,
            passed,
            f"{name} {versus}: the gain {gain} meets the minimum {threshold:+.3f}."
            if passed
            else f"Candidate {lower} gain is below the minimum: {gain} "
            f"({versus}; minimum gain {threshold:+.3f}).",
        )
    if rule.comparison == "max_relative_regression":
        limit = base * (1 - threshold)
        passed = not (cand < limit)
        change = _relative(base, cand)
        return Limit(
            limit,
            passed,
            f"{name} {versus}: {change} relative, within the allowed relative regression "
            f"{threshold:.1%}."
            if passed
            else f"Candidate {lower} fell {change} relative to baseline "
            f"({show(cand)} vs {show(base)}; max relative regression {threshold:.1%}).",
        )
    if rule.comparison == "min_relative_improvement":
        limit = base * (1 + threshold)
        passed = not (cand < limit)
        change = _relative(base, cand)
        return Limit(
            limit,
            passed,
            f"{name} {versus}: {change} relative meets the minimum relative gain {threshold:+.1%}."
            if passed
            else f"Candidate {lower} changed {change} relative to baseline "
            f"({show(cand)} vs {show(base)}; minimum relative gain {threshold:+.1%}).",
        )
    limit = base * (1 + threshold / 100)
    passed = not (cand > limit)
    allowed = f"{show(limit)} allowed (baseline {show(base)} + {threshold:g}%)"
    return Limit(
        limit,
        passed,
        f"{name} {show(cand)} vs {allowed}: within the limit."
        if passed
        else f"Candidate {lower} exceeded the allowed regression threshold: "
        f"{show(cand)} vs {allowed}.",
    )


def _relative(base: float, cand: float) -> str:
    if base == 0:
        return "from zero" if cand == 0 else "from a zero baseline"
    return f"{(cand - base) / abs(base):+.1%}"
