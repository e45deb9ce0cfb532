"""Small, hand-built reports for the renderer and history tests, hostile text included.

Built from the schema directly (not by running a workflow) so that each test states exactly the
cases it renders: which pass, which regress, which error, and what the models wrote.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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

HOSTILE = (
    "<script>window.__pwned = 1; alert(1)</script></script><img src=x "
    'onerror="window.__pwned = 2"> ]]> & | `code` **bold** [link](https://evil.example) '
    "@octocat \u202eevil\u202c zero\u200bwidth \u2066iso\u2069 emoji 🚀👩‍💻 nul\x00 bell\x07 "
    "lone \ud800 surrogate \ufffe"
)
SHA = "ab12cd34ef56" + "0" * 52


def case(
    case_id: str,
    passed: bool,
    *,
    family: str = "incident",
    subsets: tuple[str, ...] = ("structured-output",),
    raw: str | None = '{"category": "incident"}',
    notes: tuple[str, ...] = (),
    error: str | None = None,
    latency: float | None = 1000.0,
    epoch: int = 0,
) -> CaseRecord:
    return CaseRecord(
        case_id=case_id,
        family=family,
        subsets=list(subsets),
        epoch=epoch,
        passed=passed,
        strict_valid=passed,
        valid=error is None,
        repairs=[],
        checks=[
            CheckRecord(name="category_match", passed=passed, score=float(passed), note=None),
            CheckRecord(
                name="safety",
                passed=passed,
                score=float(passed),
                note=None if passed else (notes[0] if notes else "unsafe"),
            ),
        ],
        notes=list(notes if not passed else ()),
        raw_output=raw,
        output={"category": "incident", "summary": raw} if error is None else None,
        latency_ms=latency,
        usage=UsageRecord(prompt_tokens=100, completion_tokens=20),
        resolved_model=None,
        system_fingerprint=None,
        error=error,
        cached=False,
    )


def summary(cases: list[CaseRecord]) -> dict[str, float | int | None]:
    answered = [c.latency_ms for c in cases if c.error is None and c.latency_ms is not None]
    rate = sum(c.passed for c in cases) / len(cases)
    return {
        "case_count": len(cases),
        "pass_rate": rate,
        "structured_output_rate": sum(c.valid for c in cases) / len(cases),
        "safety_pass_rate": rate,
        "avg_latency_ms": sum(answered) / len(answered) if answered else None,
        "p95_latency_ms": max(answered) if answered else None,
        "quality_score": 0.5 + rate / 2,
        "error_count": sum(c.error is not None for c in cases),
    }


def model(role: str, name: str, cases: list[CaseRecord]) -> ModelRecord:
    families = sorted({c.family for c in cases})
    subsets = sorted({s for c in cases for s in c.subsets})
    return ModelRecord(
        role=role,  # type: ignore[arg-type]
        requested_model=name,
        endpoint="simulated",
        resolved_models=[name],
        alias_resolved=False,
        summary=summary(cases),
        families={f: summary([c for c in cases if c.family == f]) for f in families},
        subsets={s: summary([c for c in cases if s in c.subsets]) for s in subsets},
        cases=cases,
    )


def decision(candidate: str, verdict: str, baseline: str = "base-model") -> DecisionRecord:
    return DecisionRecord(
        candidate=candidate,
        verdict=verdict,  # type: ignore[arg-type]
        reasons=[] if verdict == "Promote" else [f"Candidate pass rate regressed ({verdict})."],
        authoritative_model=candidate if verdict == "Promote" else baseline,
        rules=[
            RuleRecord(
                name="pass rate",
                figure="pass_rate",
                comparison="max_regression",
                threshold=0.0,
                authority="block",
                baseline=1.0,
                candidate=0.5,
                limit=1.0,
                passed=verdict == "Promote",
                reason="pass rate",
            )
        ],
    )


def make_report(
    *,
    candidate_cases: list[CaseRecord] | None = None,
    baseline_cases: list[CaseRecord] | None = None,
    verdict: str = "Rollback",
    candidate: str = "cand-model",
    baseline: str = "base-model",
    started: datetime | None = None,
    dataset_sha: str = SHA,
    workflow: str = "support-ops",
    run_id: str = "20260101T000000Z-abc123",
    **extra: Any,
) -> Report:
    """Baseline passes UP-1..UP-3; by default the candidate regresses UP-2 with hostile text and
    errors on UP-3."""
    base_cases = baseline_cases or [case("UP-1", True), case("UP-2", True), case("UP-3", True)]
    cand_cases = candidate_cases or [
        case("UP-1", True),
        case("UP-2", False, raw=HOSTILE, notes=(f"Forbidden tool used: {HOSTILE}",)),
        case("UP-3", False, raw=None, error="HTTP 500 from endpoint", latency=None),
    ]
    start = started or datetime(2026, 1, 1, tzinfo=UTC)
    return Report(
        tool_version="0.1.0",
        run_id=run_id,
        started_at=start,
        finished_at=start + timedelta(seconds=3),
        mode="compare",
        client="mock",
        workflow=WorkflowRecord(name=workflow, version="1"),
        dataset=DatasetRecord(path="dataset.json", sha256=dataset_sha, case_count=3),
        prompt=PromptRecord(id="prompt-v1", sha256="f" * 64),
        config={},
        models=[model("baseline", baseline, base_cases), model("candidate", candidate, cand_cases)],
        decision=decision(candidate, verdict, baseline),
        decisions=[decision(candidate, verdict, baseline)],
        **extra,
    )
