"""The promotion gate: rules over named figures decide Promote, Hold or Rollback.

Every rule compares one candidate figure with the baseline's (or with a fixed bound), overall or
for one gate subset or task family, and carries an authority: ``block`` (and, offline,
``rollback_trigger``) fails to Rollback, ``conditional`` fails to Hold, ``signal`` is only
reported. All rules are evaluated and reported in order, each with a reason that states its
figures and its threshold, passed or not; the verdict is the most severe failure. A candidate is
never promoted on missing evidence.

A rule on a figure about the evidence (``EVIDENCE_FIGURES``: errored calls, identity drift and
changes) judges the baseline too when it is a bound (``ceiling``/``floor``), and failing it holds
the release, never rolls it back: evidence that is not about the requested model, or is no
evidence at all, says nothing about that model; a baseline that fails it makes the comparison
unsound.

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

from modelup.config.rules import BOUND_COMPARISONS, Authority, GateRule
from modelup.decide.figures import EVIDENCE_FIGURES, Summary, format_figure, label
from modelup.decide.identity import describe
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
ON_FAIL: dict[Authority, Verdict] = {
    "block": Verdict.ROLLBACK,
    "conditional": Verdict.HOLD,
    "signal": Verdict.PROMOTE,
    "rollback_trigger": Verdict.ROLLBACK,  # offline; a canary shell rolls back on it live
}
"""The verdict a failed rule of each authority gives (every authority of ``config.rules``)."""


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
    index for the rules that require significance. Reasons list every failed, inconclusive and
    unjudgeable rule (``signal`` rules only in the rule list), in rule order."""
    verdict = Verdict.PROMOTE
    reasons: list[str] = []
    outcomes = []
    paired = evidence or {}
    for index, rule in enumerate(rules):
        if rule.figure in EVIDENCE_FIGURES and rule.comparison in BOUND_COMPARISONS:
            outcome = judge_evidence_rule(rule, baseline, candidate)
        else:
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
        if rule.authority != "signal":
            reasons.append(outcome.reason)
        verdict = max(verdict, failed_to(rule, outcome.status), key=_SEVERITY.__getitem__)
    if verdict is Verdict.PROMOTE:
        reasons.insert(0, "Candidate passed every blocking and conditional gate.")
    return Judgement(verdict, tuple(reasons), tuple(outcomes))


def failed_to(rule: GateRule, status: Status) -> Verdict:
    """The verdict a rule that did not pass gives: its authority's when it failed, capped at
    Hold for a figure about the evidence; Hold when the evidence is missing or inconclusive,
    which cannot prove a regression but can never allow a promotion; ``signal`` never acts."""
    if rule.authority == "signal" or status == "passed":
        return Verdict.PROMOTE
    if status != "failed":
        return Verdict.HOLD
    verdict = ON_FAIL[rule.authority]
    if rule.figure in EVIDENCE_FIGURES:
        return min(verdict, Verdict.HOLD, key=_SEVERITY.__getitem__)
    return verdict


def judge_evidence_rule(
    rule: GateRule, baseline: Summary | ModelFigures, candidate: Summary | ModelFigures
) -> RuleOutcome:
    """A bound on a figure about the evidence, judged on both models: the candidate's evidence
    must be about the candidate, and the baseline's about the baseline, or the comparison is
    unsound."""
    sides = []
    for role, figures in (("Baseline", baseline), ("Candidate", candidate)):
        summary = scoped_summary(figures, rule)
        value = summary.get(rule.figure) if summary is not None else None
        sides.append((role, figures, summary, value))
    (_, _, _, base), (_, _, _, cand) = sides
    name = subject(rule)
    missing = [role for role, _, summary, value in sides if summary is None or value is None]
    if missing:
        reason = f"{name}: no evidence for the {' or '.join(r.lower() for r in missing)}."
        return RuleOutcome(rule, base, cand, rule.threshold, False, reason, "missing")
    failures = []
    for role, figures, summary, value in sides:
        assert summary is not None and value is not None
        if not limit_of(rule, None, value).passed:
            failures.append(_evidence_failure(rule, role, value, summary, figures))
    if failures:
        return RuleOutcome(rule, base, cand, rule.threshold, False, " ".join(failures), "failed")
    word = "at or below the ceiling" if rule.comparison == "ceiling" else "at or above the floor"
    reason = (
        f"{name}: baseline {format_figure(rule.figure, base)}, candidate "
        f"{format_figure(rule.figure, cand)}: {word} {format_figure(rule.figure, rule.threshold)}."
    )
    return RuleOutcome(rule, base, cand, rule.threshold, True, reason, "passed")


def _evidence_failure(
    rule: GateRule, role: str, value: float, summary: Summary, figures: object
) -> str:
    """Why one model's evidence fails ``rule``, naming what it saw: the errored calls, or every
    identity that answered."""
    bound = f"the {rule.comparison} {format_figure(rule.figure, rule.threshold)}"
    where = "" if rule.scope == "overall" else f" in {rule.scope}"
    seen = describe(getattr(figures, "identities", ()) or ())
    expected = getattr(figures, "expected", None)
    if rule.figure in ("error_count", "error_rate"):
        errors = summary.get("error_count") or 0
        total = summary.get("case_count") or 0
        what = (
            f"{role} has {errors:.0f} errored call(s) out of {total:.0f}{where} "
            f"({label(rule.figure).lower()} {format_figure(rule.figure, value)}, beyond {bound}): "
            "errored calls are evidence of nothing about the model's answers"
        )
    elif rule.figure == "identity_drift":
        wanted = expected.described if expected is not None else "the model requested"
        what = (
            f"{role} identity drift{where}: {value:.0f} call(s) answered by a model other than "
            f"{wanted} (beyond {bound}); identities seen: {seen}"
        )
    else:
        what = (
            f"{role} identity changed during the run{where}: {value + 1:.0f} identities answered "
            f"(beyond {bound}); identities seen: {seen}"
        )
    if role == "Baseline":
        return f"{what}; the comparison is unsound."
    if rule.figure == "identity_drift":
        hint = (
            f' (to accept an alias, declare [models."{expected.requested}"] expect_resolved)'
            if expected is not None
            else ""
        )
        return f"{what}; the evidence is not about the requested model{hint}."
    if rule.figure == "identity_changes":
        return f"{what}; the evidence mixes models."
    return f"{what}; a model is never promoted on errored evidence."


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
        reason = f"{name}: no evidence to compare{_why_none(rule, baseline, candidate)}."
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


def _why_none(rule: GateRule, baseline: Summary | None, candidate: Summary | None) -> str:
    """Why a figure has no value, when it is because every call in the scope errored: said
    so, so that an outage is never read as a safety or quality regression."""
    for role, summary in (("candidate", candidate), ("baseline", baseline)):
        if summary is None or summary.get(rule.figure) is not None:
            continue
        total = summary.get("case_count") or 0
        if total and summary.get("error_count") == total:
            where = "" if rule.scope == "overall" else f" in {rule.scope}"
            return f": every {role} call{where} errored ({total:.0f}), so nothing was scored"
    return ""
