"""The release's verdict on its evaluation. It fails closed: the evaluation's verdict, with the
authority ``gate_classes`` give each rule, and a Hold for each release check that is not met: a
required subset with no cases, an expected delta not met, an identity ``alias_resolution`` does
not declare, a call that errored, a classed figure nothing judges, a candidate with no single
identity to pin."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from modelup.config.rules import Authority, GateRule
from modelup.decide.figures import format_change, format_figure, label
from modelup.decide.gate import Verdict, evaluate_rule, failed_to
from modelup.release.evidence import (
    DeltaEvidence,
    Evidence,
    RuleEvidence,
    Status,
    SubsetEvidence,
)
from modelup.release.identity import check_identity, single_identity
from modelup.release.record import ExpectedDelta, GateClass, ReleaseRecord
from modelup.report.schema import DecisionRecord, ModelRecord, Report, RuleRecord

_SEVERITY = {Verdict.PROMOTE: 0, Verdict.HOLD: 1, Verdict.ROLLBACK: 2}
_CLASS_AUTHORITY: dict[GateClass, Authority] = {
    "block": "block",
    "rollback_trigger": "rollback_trigger",
    "conditional": "conditional",
    "signal": "signal",
}
_ROUND = 12  # changes are compared rounded, so 0.87 - 0.86 meets a minimum change of 0.01
PROMOTE_REASON = "Candidate passed every blocking and conditional gate and every release check."


class _Verdicts:
    def __init__(self) -> None:
        self.verdict = Verdict.PROMOTE
        self.reasons: list[str] = []

    def add(self, verdict: Verdict, reason: str) -> None:
        if verdict is Verdict.PROMOTE:
            return
        self.verdict = max(self.verdict, verdict, key=_SEVERITY.__getitem__)
        self.reasons.append(reason)


def judge_release(
    record: ReleaseRecord,
    report: Report,
    *,
    source: str,
    report_path: str,
    report_sha256: str,
    gated_at: datetime,
    gated_by: str,
) -> Evidence:
    """The release's evidence and verdict from ``report`` (its head is enough)."""
    previous = report.model(record.previous_model)
    candidate = report.model(record.candidate_model)
    decision = next(d for d in report.decisions if d.candidate == record.candidate_model)
    verdicts = _Verdicts()
    classes = {name: gate_class for name, gate_class in record.gate_classes.entries()}
    figures = set(candidate.summary)
    rules = _evaluation_rules(decision, classes, verdicts)
    judged_figures = {rule.figure for rule in decision.rules} | {
        delta.figure for delta in record.expected_deltas
    }
    scoped_subsets = {rule.subset for rule in decision.rules if rule.subset is not None}
    for name, gate_class in classes.items():
        if name in figures:
            if name not in judged_figures:
                rules.append(_unjudged_figure(name, gate_class, verdicts))
        elif name not in scoped_subsets:
            rules.append(_subset_rule(name, gate_class, previous, candidate, verdicts))
    deltas = [_delta(delta, previous, candidate, verdicts) for delta in record.expected_deltas]
    subsets = [
        _required(subset, previous, candidate, verdicts) for subset in record.required_eval_subsets
    ]
    identities = [
        check_identity("previous", previous, record.expected_alias(previous.requested_model)),
        check_identity("candidate", candidate, record.expected_alias(candidate.requested_model)),
    ]
    for identity in identities:
        for reason in identity.reasons:
            verdicts.add(Verdict.HOLD, reason)
    pinned, why_not = single_identity(candidate)
    if why_not is not None:
        verdicts.add(Verdict.HOLD, why_not)
    errored = {
        model.requested_model: int(model.summary.get("error_count") or 0)
        for model in (previous, candidate)
    }
    for name, count in errored.items():
        if count:
            total = int(report.model(name).summary.get("case_count") or 0)
            verdicts.add(
                Verdict.HOLD,
                f"{name} has {count} errored call(s) out of {total}: a release is never "
                "approved on errored evidence.",
            )
    return Evidence(
        gated_at=gated_at,
        gated_by=gated_by,
        source="run" if source == "run" else "report",
        run_id=report.run_id,
        report_path=report_path,
        report_sha256=report_sha256,
        workflow=report.workflow.name,
        workflow_version=report.workflow.version,
        dataset_path=report.dataset.path,
        dataset_sha256=report.dataset.sha256,
        case_count=report.dataset.case_count,
        prompt_id=report.prompt.id,
        prompt_sha256=report.prompt.sha256,
        mode=report.mode,
        client=report.client,
        evaluation_verdict=decision.verdict,
        verdict=verdicts.verdict.value,
        reasons=verdicts.reasons if verdicts.reasons else [PROMOTE_REASON],
        rules=rules,
        expected_deltas=deltas,
        required_subsets=subsets,
        identities=identities,
        errored_calls=errored,
        candidate_identity=pinned,
        previous_identity=single_identity(previous)[0],
    )


def _counted(rule: GateRule, status: Status, authority: Authority) -> Verdict:
    """What a rule's outcome counts for under ``authority`` (its gate class's, else its own),
    exactly as the gate counts it (``decide.gate.failed_to``): a failure its authority's
    verdict, capped at Hold for a figure about the evidence; missing or inconclusive evidence
    never promotes (Hold), unless the rule only signals."""
    if authority != rule.authority:
        rule = rule.model_copy(update={"authority": authority})
    return failed_to(rule, status)


def _evaluation_rules(
    decision: DecisionRecord, classes: Mapping[str, GateClass], verdicts: _Verdicts
) -> list[RuleEvidence]:
    judged = []
    for rule in decision.rules:
        gate_class = classes.get(rule.subset) if rule.subset is not None else None
        gate_class = gate_class or classes.get(rule.figure)
        authority = _CLASS_AUTHORITY[gate_class] if gate_class else rule.authority
        reason = rule.reason
        if gate_class is not None and authority != rule.authority:
            reason += f" [gate class {gate_class}: {authority}]"
        if rule.figure == "identity_drift" and gate_class is None:
            # Who may answer for a model is the release's to say (``alias_resolution``, checked
            # below on every identity seen), not the evaluation's default expectation.
            authority = "signal"
            reason += " [decided by the release's alias_resolution check instead]"
        verdicts.add(_counted(rule, rule.status, authority), reason)
        judged.append(
            _rule_evidence(rule, "evaluation", rule.authority, gate_class, authority, reason)
        )
    return judged


def _rule_evidence(
    rule: RuleRecord | GateRule,
    origin: str,
    declared: str | None,
    gate_class: GateClass | None,
    authority: Authority,
    reason: str,
    *,
    status: Status | None = None,
    values: tuple[float | None, float | None, float | None] | None = None,
) -> RuleEvidence:
    if isinstance(rule, RuleRecord):
        status = rule.status
        values = (rule.baseline, rule.candidate, rule.limit)
    assert status is not None and values is not None
    return RuleEvidence(
        name=rule.title,
        figure=rule.figure,
        scope=rule.scope,
        origin="evaluation" if origin == "evaluation" else "gate_classes",
        declared_authority=declared,
        gate_class=gate_class,
        authority=authority,
        status=status,
        baseline=values[0],
        candidate=values[1],
        limit=values[2],
        reason=reason,
    )


def _subset_rule(
    subset: str,
    gate_class: GateClass,
    previous: ModelRecord,
    candidate: ModelRecord,
    verdicts: _Verdicts,
) -> RuleEvidence:
    """A classed subset no evaluation rule scopes is judged by its pass rate, which may not
    regress."""
    authority = _CLASS_AUTHORITY[gate_class]
    rule = GateRule(
        name=f"pass rate in subset {subset} (gate class {gate_class})",
        figure="pass_rate",
        comparison="max_regression",
        threshold=0.0,
        authority=authority,
        subset=subset,
    )
    outcome = evaluate_rule(rule, previous.subsets.get(subset), candidate.subsets.get(subset))
    reason = f"[gate class {gate_class}] {outcome.reason}"
    verdicts.add(_counted(rule, outcome.status, authority), reason)
    values = (outcome.baseline, outcome.candidate, outcome.limit)
    return _rule_evidence(
        rule,
        "gate_classes",
        None,
        gate_class,
        authority,
        reason,
        status=outcome.status,
        values=values,
    )


def _unjudged_figure(figure: str, gate_class: GateClass, verdicts: _Verdicts) -> RuleEvidence:
    authority = _CLASS_AUTHORITY[gate_class]
    reason = (
        f"[gate class {gate_class}] {label(figure)}: no gate rule or expected delta judges it, "
        "so there is no evidence for its class."
    )
    rule = GateRule(
        name=f"{figure} (gate class {gate_class})",
        figure=figure,
        comparison="max_regression",
        threshold=0.0,
        authority=authority,
    )
    verdicts.add(_counted(rule, "missing", authority), reason)
    return _rule_evidence(
        rule,
        "gate_classes",
        None,
        gate_class,
        authority,
        reason,
        status="missing",
        values=(None, None, None),
    )


def _scoped(model: ModelRecord, delta: ExpectedDelta) -> Mapping[str, float | int | None] | None:
    if delta.subset is not None:
        return model.subsets.get(delta.subset)
    if delta.family is not None:
        return model.families.get(delta.family)
    return model.summary


def _delta(
    delta: ExpectedDelta, previous: ModelRecord, candidate: ModelRecord, verdicts: _Verdicts
) -> DeltaEvidence:
    before, after = _scoped(previous, delta), _scoped(candidate, delta)
    base = before.get(delta.figure) if before is not None else None
    cand = after.get(delta.figure) if after is not None else None
    name = label(delta.figure) + ("" if delta.scope == "overall" else f" ({delta.scope})")
    if base is None or cand is None:
        reason = f"Expected delta on {name} not met: no evidence in {delta.scope}."
        verdicts.add(Verdict.HOLD, reason)
        return DeltaEvidence(
            figure=delta.figure,
            scope=delta.scope,
            greater_is_better=delta.greater_is_better,
            baseline=base,
            candidate=cand,
            improvement=None,
            relative_improvement=None,
            met=False,
            reason=reason,
        )
    sign = 1.0 if delta.greater_is_better else -1.0
    improvement = round(sign * (cand - base), _ROUND)
    relative = round(improvement / abs(base), _ROUND) if base != 0 else None
    misses = _misses(delta, float(cand), float(base), improvement, relative)
    shown = (
        f"{format_figure(delta.figure, cand)} vs baseline {format_figure(delta.figure, base)}, "
        f"{format_change(delta.figure, cand - base)}"
    )
    if misses:
        reason = f"Expected delta on {name} not met: {shown}; " + "; ".join(misses) + "."
        verdicts.add(Verdict.HOLD, reason)
    else:
        reason = f"Expected delta on {name} met: {shown}."
    return DeltaEvidence(
        figure=delta.figure,
        scope=delta.scope,
        greater_is_better=delta.greater_is_better,
        baseline=base,
        candidate=cand,
        improvement=improvement,
        relative_improvement=relative,
        met=not misses,
        reason=reason,
    )


def _misses(
    delta: ExpectedDelta, cand: float, base: float, improvement: float, relative: float | None
) -> list[str]:
    """Each bound of ``delta`` the change does not meet, in words (MetricThreshold's)."""
    misses = []
    if delta.threshold is not None:
        bound = delta.threshold
        within = cand >= bound if delta.greater_is_better else cand <= bound
        if not within:
            needs = "at least" if delta.greater_is_better else "at most"
            misses.append(f"threshold: needs {needs} {format_figure(delta.figure, bound)}")
    least = delta.min_absolute_change
    if least is not None and improvement < least:
        misses.append(f"min_absolute_change: improved by {improvement:+.4g}, needs {least:+.4g}")
    undefined = "a relative change from a zero baseline is undefined"
    least = delta.min_relative_change
    if least is not None and (relative is None or relative < least):
        shown = f"improved by {relative:+.2%}, needs {least:+.2%}" if relative is not None else ""
        misses.append(f"min_relative_change: {shown or undefined}")
    most = delta.max_absolute_change
    if most is not None and abs(improvement) > most:
        misses.append(f"max_absolute_change: moved {abs(improvement):.4g}, at most {most:.4g}")
    most = delta.max_relative_change
    if most is not None and (relative is None or abs(relative) > most):
        shown = f"moved {abs(relative):.2%}, at most {most:.2%}" if relative is not None else ""
        misses.append(f"max_relative_change: {shown or undefined}")
    return misses


def _required(
    subset: str, previous: ModelRecord, candidate: ModelRecord, verdicts: _Verdicts
) -> SubsetEvidence:
    counts = [
        int((model.subsets.get(subset) or {}).get("case_count") or 0)
        for model in (previous, candidate)
    ]
    met = all(counts)
    if not met:
        verdicts.add(
            Verdict.HOLD,
            f"Required eval subset {subset} has no cases in the evaluation "
            f"(previous {counts[0]}, candidate {counts[1]}).",
        )
    return SubsetEvidence(
        subset=subset, baseline_cases=counts[0], candidate_cases=counts[1], met=met
    )
