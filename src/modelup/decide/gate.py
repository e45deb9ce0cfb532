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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from modelup.config.rules import BOUND_COMPARISONS, GateRule
from modelup.decide.figures import Summary
from modelup.decide.limits import limit_of, subject
from modelup.decide.significance import PairedEvidence, Status, judge_significance


class Verdict(StrEnum):
    PROMOTE = "Promote"
    HOLD = "Hold"
    ROLLBACK = "Rollback"


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """How one rule fared on one candidate: the figures it read, its limit, and why."""

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
class Judgement:
    """The gate's verdict on one candidate against the baseline, with every rule's outcome."""

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


def judge(
    rules: Sequence[GateRule],
    baseline: Summary | ModelFigures,
    candidate: Summary | ModelFigures,
    *,
    evidence: Mapping[int, PairedEvidence] | None = None,
    confidence: float = 0.95,
) -> Judgement:
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
    return Judgement(verdict, tuple(reasons), tuple(outcomes))


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
    name = subject(rule)
    if candidate is None or (baseline is None and rule.comparison not in BOUND_COMPARISONS):
        return RuleOutcome(
            rule, base, cand, None, False, f"{name}: no cases in {rule.scope}.", "missing"
        )
    if cand is None or (base is None and rule.comparison not in BOUND_COMPARISONS):
        reason = f"{name}: no evidence to compare."
        return RuleOutcome(rule, base, cand, None, False, reason, "missing")
    raw = limit_of(rule, base, cand)
    if not rule.require_significance:
        status: Status = "passed" if raw.passed else "failed"
        return RuleOutcome(rule, base, cand, raw.limit, raw.passed, raw.reason, status)
    if evidence is None:
        reason = f"{name}: the rule requires significance but there are no paired statistics."
        return RuleOutcome(rule, base, cand, raw.limit, False, reason, "missing")
    judged = judge_significance(rule, base, raw, evidence, confidence)
    passed = judged.status == "passed"
    return RuleOutcome(
        rule,
        base,
        cand,
        raw.limit,
        passed,
        judged.reason,
        judged.status,
        evidence,
        judged.cases_to_settle,
    )
