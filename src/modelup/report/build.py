"""Turn a run's case results into the report record, figures and decision included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from modelup.dataset import Dataset
from modelup.figures import summarize, summarize_groups
from modelup.gate import Decision, GateRule, decide
from modelup.report.schema import (
    CaseRecord,
    CheckRecord,
    DatasetRecord,
    DecisionRecord,
    ModelRecord,
    PromptRecord,
    Report,
    RuleRecord,
    UsageRecord,
    WorkflowRecord,
)
from modelup.runner import ModelTarget
from modelup.scoring import CaseResult
from modelup.workflow.base import Workflow

SHADOW_REASON = (
    "Shadow mode keeps the baseline model authoritative while the candidate is scored offline."
)


def case_record(result: CaseResult) -> CaseRecord:
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
        resolved_model=result.resolved_model,
        system_fingerprint=result.system_fingerprint,
        error=result.error,
        cached=result.cached,
    )


def model_record(
    workflow: Workflow, target: ModelTarget, results: Sequence[CaseResult]
) -> ModelRecord:
    resolved = list(dict.fromkeys(r.resolved_model for r in results if r.resolved_model))
    return ModelRecord(
        role=target.role,
        requested_model=target.model,
        endpoint=target.endpoint,
        resolved_models=resolved,
        alias_resolved=any(name != target.model for name in resolved),
        summary=summarize(workflow, results),
        families=summarize_groups(workflow, results, by="family"),
        subsets=summarize_groups(workflow, results, by="subset"),
        cases=[case_record(result) for result in results],
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
        rules=[
            RuleRecord(
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
            )
            for outcome in decision.rules
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
) -> Report:
    """The report of a baseline (the first target) against each candidate (the others)."""
    models = [model_record(workflow, t, r) for t, r in zip(targets, results, strict=True)]
    baseline = models[0]
    decisions = [
        decision_record(
            decide(rules, baseline.summary, candidate.summary),
            mode,
            baseline.requested_model,
            candidate.requested_model,
        )
        for candidate in models[1:]
    ]
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
    )
