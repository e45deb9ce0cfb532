"""The report's ``grader`` section, recorded from the grader's evidence (``decide.grader``)."""

from __future__ import annotations

from modelup.decide.grader import GraderEvidence, Rate
from modelup.evaluate.grading import PROMPT_ID, prompt_sha256
from modelup.report.grader_schema import (
    ConflictRecord,
    CriterionRecord,
    GradedCaseRecord,
    GraderPriceRecord,
    GraderRecord,
    GraderUsageRecord,
    OrderRecord,
    PairCaseRecord,
    PairwiseRecord,
    RateRecord,
    RubricCaseRecord,
    RubricChangeRecord,
    RubricScoresRecord,
)


def _rate(rate: Rate) -> RateRecord:
    return RateRecord(estimate=rate.estimate, low=rate.low, high=rate.high)


def graded_cases(evidence: GraderEvidence) -> list[GradedCaseRecord]:
    """Every trial's judgements, in case order."""
    grading = evidence.grading
    models = evidence.models
    cases = []
    for position, (case_id, epoch) in enumerate(evidence.trials):
        pairwise = []
        for index, pairs in enumerate(grading.pairs):
            pair = pairs[position]
            pairwise.append(
                PairCaseRecord(
                    candidate=models[index + 1],
                    outcome=pair.outcome,
                    orders=[
                        OrderRecord(
                            baseline_shown="first" if order.baseline_first else "second",
                            preferred=order.preferred,
                            reason=order.reason,
                            error=order.error,
                        )
                        for order in pair.orders
                    ],
                    note=pair.note,
                )
            )
        rubric = []
        for model, judged in zip(models, grading.rubric, strict=False):
            judgement = judged[position]
            scores = judgement.scores
            rubric.append(
                RubricCaseRecord(
                    model=model,
                    scores=dict(scores) if scores is not None else None,
                    mean=judgement.mean,
                    reason=judgement.reason,
                    error=judgement.error,
                    skipped=judgement.skipped,
                )
            )
        cases.append(
            GradedCaseRecord(case_id=case_id, epoch=epoch, pairwise=pairwise, rubric=rubric)
        )
    return cases


def grader_record(evidence: GraderEvidence) -> GraderRecord:
    plan = evidence.grading.plan
    target = plan.target
    total = evidence.total
    statistics = evidence.statistics
    return GraderRecord(
        model=target.model,
        endpoint=target.endpoint,
        price=None
        if target.price is None
        else GraderPriceRecord(
            input_per_million=target.price.input_per_million,
            output_per_million=target.price.output_per_million,
        ),
        modes=list(plan.modes),
        fields=list(plan.fields),
        rubric=[CriterionRecord(name=c.name, description=c.description) for c in plan.rubric],
        prompt_id=PROMPT_ID,
        prompt_sha256=prompt_sha256(),
        confidence=statistics.confidence,
        resamples=statistics.resamples,
        seed=statistics.seed,
        usage=GraderUsageRecord(
            calls=total.calls,
            failed=total.failed,
            cached=total.cached,
            prompt_tokens=total.prompt_tokens,
            completion_tokens=total.completion_tokens,
            cost_usd=evidence.cost_usd,
        ),
        unavailable=evidence.grading.unavailable,
        pairwise=[
            PairwiseRecord(
                candidate=p.candidate,
                pairs=p.pairs,
                wins=p.wins,
                losses=p.losses,
                ties=p.ties,
                errors=p.errors,
                decided_by_contract=p.by_contract,
                disagreements=p.disagreements,
                win_rate=_rate(p.win_rate),
                loss_rate=_rate(p.loss_rate),
                tie_rate=_rate(p.tie_rate),
                net_win_rate=_rate(p.net_win_rate),
                disagreement_rate=p.disagreement_rate,
                error_rate=p.error_rate,
            )
            for p in evidence.pairwise
        ],
        rubric_scores=[
            RubricScoresRecord(
                model=r.model,
                graded=r.graded,
                errored=r.errored,
                skipped=r.skipped,
                criteria=dict(r.criteria),
                score=r.score,
            )
            for r in evidence.rubric
        ],
        rubric_changes=[
            RubricChangeRecord(candidate=c.candidate, n=c.n, delta=c.delta, low=c.low, high=c.high)
            for c in evidence.rubric_changes
        ],
        conflicts={
            models_name: [
                ConflictRecord(
                    case_id=c.case_id,
                    epoch=c.epoch,
                    preferred=c.preferred,
                    failed_checks=list(c.failed_checks),
                )
                for c in conflicts
            ]
            for models_name, conflicts in zip(evidence.models[1:], evidence.conflicts, strict=True)
        },
        cases=graded_cases(evidence),
    )
