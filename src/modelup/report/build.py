"""Turn a run's case results into the report record, figures and decision included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from modelup.decide.figures import format_figure, summarize, summarize_groups
from modelup.decide.gate import Decision, GateRule, RuleOutcome, decide
from modelup.decide.paired import (
    CandidateComparison,
    FigureChange,
    PairedCases,
    StatisticsSettings,
    compare_candidates,
    rule_evidence,
)
from modelup.decide.trials import summarize_trials
from modelup.evaluate.dataset import Dataset
from modelup.evaluate.replay import ModelTarget
from modelup.evaluate.scoring import CaseResult
from modelup.models.pricing import Price, case_cost
from modelup.report.schema import (
    CaseRecord,
    ChangeRecord,
    CheckRecord,
    ComparisonRecord,
    DatasetRecord,
    DecisionRecord,
    ModelRecord,
    PriceRecord,
    PromptRecord,
    RankingRecord,
    RecommendationRecord,
    Report,
    RuleRecord,
    RuleStatisticsRecord,
    TransitionRecord,
    TrialCaseRecord,
    TrialsRecord,
    UsageRecord,
    WorkflowRecord,
)
from modelup.workflow.base import Workflow

SHADOW_REASON = (
    "Shadow mode keeps the baseline model authoritative while the candidate is scored offline."
)


def case_record(result: CaseResult, price: Price | None = None) -> CaseRecord:
    return CaseRecord(
        case_id=result.case_id,
        family=result.family,
        subsets=list(result.subsets),
        epoch=result.epoch,
        passed=result.passed,
        strict_valid=result.strict_valid,
        valid=result.valid,
        repairs=list(result.repairs),
        checks=[CheckRecord(**asdict(check)) for check in result.checks],
        notes=list(result.notes),
        raw_output=result.raw_output,
        output=dict(result.output) if result.output is not None else None,
        latency_ms=result.latency_ms,
        usage=UsageRecord(
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        ),
        cost_usd=case_cost(price, result.usage),
        resolved_model=result.resolved_model,
        system_fingerprint=result.system_fingerprint,
        error=result.error,
        cached=result.cached,
    )


def model_record(
    workflow: Workflow,
    target: ModelTarget,
    results: Sequence[CaseResult],
    *,
    with_cases: bool = True,
) -> ModelRecord:
    """One model's record; without its cases (``with_cases=False``) when they are spooled
    (``report.stream``), in which case ``results`` may be slim results."""
    resolved = list(dict.fromkeys(r.resolved_model for r in results if r.resolved_model))
    fingerprints = list(
        dict.fromkeys(r.system_fingerprint for r in results if r.system_fingerprint)
    )
    price = target.price
    return ModelRecord(
        role=target.role,
        requested_model=target.model,
        endpoint=target.endpoint,
        resolved_models=resolved,
        alias_resolved=any(name != target.model for name in resolved),
        system_fingerprints=fingerprints,
        identity_changed=len(resolved) > 1 or len(fingerprints) > 1,
        price=PriceRecord(
            input_per_million=price.input_per_million,
            output_per_million=price.output_per_million,
        )
        if price is not None
        else None,
        summary=summarize(workflow, results, price=price),
        families=summarize_groups(workflow, results, by="family", price=price),
        subsets=summarize_groups(workflow, results, by="subset", price=price),
        cases=[case_record(result, price) for result in results] if with_cases else [],
        trials=trials_record(target, results, with_cases=with_cases),
    )


def trials_record(
    target: ModelTarget, results: Sequence[CaseResult], *, with_cases: bool = True
) -> TrialsRecord | None:
    """Repeated-trial figures; None when the model answered nothing. Without the per-case
    entries (``with_cases=False``) when they are streamed into the file (``report.stream``)."""
    if not results:
        return None
    trials = summarize_trials(results, temperature=target.temperature, seed=target.seed)
    return TrialsRecord(
        epochs=trials.epochs,
        temperature=trials.temperature,
        seed=trials.seed,
        pass_at_k={str(k): value for k, value in trials.pass_at_k.items()},
        pass_hat_k={str(k): value for k, value in trials.pass_hat_k.items()},
        flaky_cases=list(trials.flaky_cases),
        cases=[
            TrialCaseRecord(
                case_id=case.case_id,
                trials=case.trials,
                passes=case.passes,
                pass_probability=case.pass_probability,
            )
            for case in (trials.cases if with_cases else ())
        ],
    )


def decision_record(
    decision: Decision, mode: Literal["compare", "shadow"], baseline: str, candidate: str
) -> DecisionRecord:
    reasons = list(decision.reasons)
    if mode == "shadow":
        reasons.append(SHADOW_REASON)
        authoritative = baseline
    else:
        authoritative = candidate if decision.verdict == "Promote" else baseline
    return DecisionRecord(
        candidate=candidate,
        verdict=decision.verdict.value,
        reasons=reasons,
        authoritative_model=authoritative,
        rules=[rule_record(outcome) for outcome in decision.rules],
    )


def rule_record(outcome: RuleOutcome) -> RuleRecord:
    ev = outcome.evidence
    return RuleRecord(
        name=outcome.rule.title,
        figure=outcome.rule.figure,
        comparison=outcome.rule.comparison,
        threshold=outcome.rule.threshold,
        authority=outcome.rule.authority,
        baseline=outcome.baseline,
        candidate=outcome.candidate,
        limit=outcome.limit,
        passed=outcome.passed,
        reason=outcome.reason,
        subset=outcome.rule.subset,
        family=outcome.rule.family,
        require_significance=outcome.rule.require_significance,
        status=outcome.status,
        statistics=None
        if ev is None
        else RuleStatisticsRecord.model_validate(
            asdict(ev) | {"cases_to_settle": outcome.cases_to_settle}
        ),
    )


def change_record(change: FigureChange) -> ChangeRecord:
    # The record keeps the fields it declares (delta, interval, resamples, seed, p-value).
    return ChangeRecord.model_validate(change, from_attributes=True)


def comparison_record(comparison: CandidateComparison) -> ComparisonRecord:
    return ComparisonRecord(
        candidate=comparison.candidate,
        case_count=comparison.case_count,
        regressions=comparison.regressions,
        fixes=comparison.fixes,
        unchanged_passed=comparison.both_passed,
        unchanged_failed=comparison.both_failed,
        mcnemar_p_value=comparison.pass_rate.p_value,
        mcnemar_p_value_holm=comparison.p_value_adjusted,
        pass_rate=change_record(comparison.pass_rate),
        quality_score=None
        if comparison.quality_score is None
        else change_record(comparison.quality_score),
        transitions=[
            TransitionRecord(
                case_id=t.case_id,
                family=t.family,
                subsets=list(t.subsets),
                change=t.kind,
                baseline=t.baseline,
                candidate=t.candidate,
            )
            for t in comparison.transitions
        ],
    )


_VERDICT_RANK = {"Promote": 0, "Hold": 1, "Rollback": 2}


def recommend(decisions: Sequence[DecisionRecord], models: Sequence[ModelRecord]) -> DecisionRecord:
    """The candidate to act on: the best verdict, then the highest quality score, then the
    first given. With one candidate, that candidate."""
    quality = {m.requested_model: m.summary.get("quality_score") for m in models}

    def key(item: tuple[int, DecisionRecord]) -> tuple[int, float, int]:
        index, decision = item
        score = quality.get(decision.candidate)
        return (_VERDICT_RANK[decision.verdict], -(score if score is not None else -1.0), index)

    return min(enumerate(decisions), key=key)[1]


def rank(
    decisions: Sequence[DecisionRecord],
    models: Sequence[ModelRecord],
    comparisons: Sequence[ComparisonRecord],
) -> list[RankingRecord]:
    """The candidates in ``recommend``'s order (best first), with their headline evidence."""
    quality = {m.requested_model: m.summary.get("quality_score") for m in models}
    rate = {m.requested_model: m.summary.get("pass_rate") for m in models}
    by_name = {c.candidate: c for c in comparisons}

    def key(item: tuple[int, DecisionRecord]) -> tuple[int, float, int]:
        index, decision = item
        score = quality.get(decision.candidate)
        return (_VERDICT_RANK[decision.verdict], -(score if score is not None else -1.0), index)

    ranking = []
    for position, (_, decision) in enumerate(sorted(enumerate(decisions), key=key), start=1):
        comparison = by_name[decision.candidate]
        ranking.append(
            RankingRecord(
                rank=position,
                candidate=decision.candidate,
                verdict=decision.verdict,
                quality_score=quality.get(decision.candidate),
                pass_rate=rate.get(decision.candidate),
                pass_rate_delta=comparison.pass_rate.delta,
                regressions=comparison.regressions,
                fixes=comparison.fixes,
                mcnemar_p_value_holm=comparison.mcnemar_p_value_holm,
            )
        )
    return ranking


def recommendation(ranking: Sequence[RankingRecord]) -> RecommendationRecord:
    """Why the first-ranked candidate is the one to act on, in a sentence."""
    best = ranking[0]
    if len(ranking) == 1:
        reason = f"The only candidate; the gate says {best.verdict}."
    else:
        tied = [r for r in ranking if r.verdict == best.verdict]
        if len(tied) == 1:
            reason = f"The only candidate with the verdict {best.verdict}."
        else:
            runner_up = tied[1]
            reason = (
                f"Best verdict ({best.verdict}, shared by {len(tied)}), then the highest "
                f"quality score: {format_figure('quality_score', best.quality_score)} vs "
                f"{format_figure('quality_score', runner_up.quality_score)} for "
                f"{runner_up.candidate}."
            )
    return RecommendationRecord(candidate=best.candidate, verdict=best.verdict, reason=reason)


def build_report(
    *,
    run_id: str,
    tool_version: str,
    started_at: datetime,
    finished_at: datetime,
    mode: Literal["compare", "shadow"],
    client: Literal["mock", "live"],
    workflow: Workflow,
    dataset: Dataset,
    config: dict[str, object],
    targets: Sequence[ModelTarget],
    results: Sequence[Sequence[CaseResult]],
    rules: Sequence[GateRule],
    statistics: StatisticsSettings | None = None,
    with_cases: bool = True,
) -> Report:
    """The report of a baseline (the first target) against each candidate (the others).
    ``with_cases=False`` builds its head: every model's ``cases`` empty (they are spooled and
    streamed into the file by ``report.stream``), everything else the same."""
    settings = statistics or StatisticsSettings()
    models = [
        model_record(workflow, t, r, with_cases=with_cases)
        for t, r in zip(targets, results, strict=True)
    ]
    baseline = models[0]
    paired = [PairedCases(workflow, results[0], cand) for cand in results[1:]]
    evidence = rule_evidence(rules, paired, settings)
    decisions = [
        decision_record(
            decide(rules, baseline, candidate, evidence=found, confidence=settings.confidence),
            mode,
            baseline.requested_model,
            candidate.requested_model,
        )
        for candidate, found in zip(models[1:], evidence, strict=True)
    ]
    comparisons = [
        comparison_record(c)
        for c in compare_candidates([m.requested_model for m in models[1:]], paired, settings)
    ]
    ranking = rank(decisions, models, comparisons)
    return Report(
        tool_version=tool_version,
        run_id=run_id,
        started_at=started_at,
        finished_at=finished_at,
        mode=mode,
        client=client,
        workflow=WorkflowRecord(name=workflow.name, version=workflow.version),
        dataset=DatasetRecord(
            path=str(dataset.path), sha256=dataset.sha256, case_count=len(dataset)
        ),
        prompt=PromptRecord(id=workflow.prompt.id, sha256=workflow.prompt.sha256),
        config=config,
        models=models,
        decision=recommend(decisions, models),
        decisions=decisions,
        comparisons=comparisons,
        ranking=ranking,
        recommended=recommendation(ranking),
    )
