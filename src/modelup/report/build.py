"""Turn a run into its report record: the cases, each model's evidence, and the ``Decision``.

Nothing is decided here: the figures and the verdicts come from ``modelup.decide``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from modelup.decide.decision import CandidateDecision, Decision, Ranked
from modelup.decide.evidence import ModelEvidence
from modelup.decide.gate import RuleOutcome
from modelup.decide.grader import GraderEvidence
from modelup.decide.paired import CandidateComparison, FigureChange
from modelup.decide.trials import TrialsSummary
from modelup.evaluate.dataset import Dataset
from modelup.evaluate.scoring import CaseResult
from modelup.evaluate.targets import ModelTarget
from modelup.models.pricing import Price, case_cost
from modelup.report.grader_build import grader_record
from modelup.report.schema import (
    CaseRecord,
    ChangeRecord,
    CheckRecord,
    ComparisonRecord,
    DatasetRecord,
    DecisionRecord,
    IdentityRecord,
    LabelFreeRecord,
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
    evidence: ModelEvidence,
    target: ModelTarget,
    results: Sequence[CaseResult] = (),
    *,
    with_cases: bool = True,
) -> ModelRecord:
    """One model's record; without its cases (``with_cases=False``) when they are spooled and
    streamed into the file (``report.stream``)."""
    price = target.price
    return ModelRecord(
        role=target.role,
        requested_model=target.model,
        endpoint=target.endpoint,
        resolved_models=list(evidence.resolved_models),
        alias_resolved=evidence.alias_resolved,
        system_fingerprints=list(evidence.system_fingerprints),
        identity_changed=evidence.identity_changed,
        expect_resolved=target.expect_resolved,
        identities=[
            IdentityRecord(
                model=identity.model,
                system_fingerprint=identity.system_fingerprint,
                calls=identity.calls,
            )
            for identity in evidence.identities
        ],
        price=PriceRecord(
            input_per_million=price.input_per_million,
            output_per_million=price.output_per_million,
        )
        if price is not None
        else None,
        summary=evidence.summary,
        families=dict(evidence.families),
        subsets=dict(evidence.subsets),
        cases=[case_record(result, price) for result in results] if with_cases else [],
        trials=trials_record(evidence.trials, with_cases=with_cases),
    )


def trials_record(trials: TrialsSummary | None, *, with_cases: bool = True) -> TrialsRecord | None:
    """Repeated-trial figures; without the per-case entries (``with_cases=False``) when they
    are streamed into the file (``report.stream``)."""
    if trials is None:
        return None
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


def decision_record(decision: CandidateDecision) -> DecisionRecord:
    return DecisionRecord(
        candidate=decision.candidate,
        verdict=decision.verdict.value,
        reasons=list(decision.reasons),
        authoritative_model=decision.authoritative_model,
        rules=[rule_record(outcome) for outcome in decision.rules],
    )


def rule_record(outcome: RuleOutcome) -> RuleRecord:
    ev = outcome.evidence
    return RuleRecord(
        **outcome.rule.model_dump(exclude={"name"}),
        name=outcome.rule.title,
        baseline=outcome.baseline,
        candidate=outcome.candidate,
        limit=outcome.limit,
        passed=outcome.passed,
        reason=outcome.reason,
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


def ranking_record(entry: Ranked) -> RankingRecord:
    return RankingRecord(
        rank=entry.rank,
        candidate=entry.candidate,
        verdict=entry.verdict.value,
        quality_score=entry.quality_score,
        pass_rate=entry.pass_rate,
        pass_rate_delta=entry.pass_rate_delta,
        regressions=entry.regressions,
        fixes=entry.fixes,
        mcnemar_p_value_holm=entry.p_value_holm,
        strict_structured_output_rate=entry.strict_structured_output_rate,
        repair_rate=entry.repair_rate,
        decided_by=entry.decided_by,
    )


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
    evidence: Sequence[ModelEvidence],
    decision: Decision,
    results: Sequence[Sequence[CaseResult]] | None = None,
    label_free: LabelFreeRecord | None = None,
    grader: GraderEvidence | None = None,
) -> Report:
    """The report of a run: the baseline (the first target) against each candidate. Without
    ``results`` it is the report's head: every model's ``cases`` empty (they are spooled and
    streamed into the file by ``report.stream``), everything else the same. ``grader`` is what
    the grader found, when the run had one."""
    with_cases = results is not None
    models = [
        model_record(
            model, target, results[index] if results is not None else (), with_cases=with_cases
        )
        for index, (model, target) in enumerate(zip(evidence, targets, strict=True))
    ]
    recommended = decision.recommended
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
        decision=decision_record(recommended),
        decisions=[decision_record(candidate) for candidate in decision.candidates],
        comparisons=[comparison_record(c) for c in decision.comparisons],
        ranking=[ranking_record(entry) for entry in decision.ranking],
        recommended=RecommendationRecord(
            candidate=recommended.candidate,
            verdict=recommended.verdict.value,
            reason=decision.recommendation,
        ),
        label_free=label_free,
        grader=grader_record(grader) if grader is not None else None,
    )
