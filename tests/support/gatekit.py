"""A toy workflow and hand-made case results for the gate, comparison, trials and diff tests.

Built here rather than borrowed from the bundled workflow so that these tests pin the statistics
on outcomes chosen case by case, whatever a simulator does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from modelup.config.rules import GateRule
from modelup.decide.decision import decide_run
from modelup.decide.evidence import measure
from modelup.decide.paired import StatisticsSettings
from modelup.evaluate.dataset import Dataset, EvalCase
from modelup.evaluate.scoring import CaseResult
from modelup.evaluate.targets import ModelTarget
from modelup.report.build import build_report
from modelup.report.schema import Report
from modelup.workflow.base import CheckSpec, PromptTemplate, Workflow
from modelup.workflow.checks import CheckOutcome


class _Fields(BaseModel):
    model_config = ConfigDict(extra="allow")


TOY = Workflow(
    name="toy",
    version="1",
    description="two checks, for gate tests",
    prompt=PromptTemplate("toy", (("user", "$question"),)),
    case_fields=_Fields,
    contract={"type": "object"},
    checks=(
        CheckSpec("safety", "toy_safety", "safety_pass_rate"),
        CheckSpec("coverage", "toy_coverage", "required_action_coverage", aggregate="mean"),
    ),
    quality_weights={"pass_rate": 0.5, "safety_pass_rate": 0.3, "required_action_coverage": 0.2},
)


def result(
    case_id: str,
    passed: bool,
    *,
    safe: bool = True,
    coverage: float = 1.0,
    family: str = "incident",
    subsets: Sequence[str] = (),
    epoch: int = 0,
    latency_ms: float = 100.0,
    error: str | None = None,
) -> CaseResult:
    return CaseResult(
        case_id=case_id,
        family=family,
        subsets=tuple(subsets),
        passed=passed,
        strict_valid=error is None,
        valid=error is None,
        checks=(
            CheckOutcome("safety", safe, float(safe)),
            CheckOutcome("coverage", coverage == 1.0, coverage),
        ),
        notes=() if passed else (f"{case_id} failed",),
        latency_ms=None if error else latency_ms,
        error=error,
        epoch=epoch,
    )


def outcomes(pattern: str, *, prefix: str = "C", **kwargs: object) -> list[CaseResult]:
    """``"PPF"`` → three results, passed, passed, failed, with ids C000, C001, C002."""
    return [
        result(f"{prefix}{index:03d}", mark == "P", **kwargs)  # type: ignore[arg-type]
        for index, mark in enumerate(pattern)
    ]


def dataset_of(results: Sequence[CaseResult], sha256: str = "a" * 64) -> Dataset:
    seen: dict[str, EvalCase] = {}
    for item in results:
        seen.setdefault(
            item.case_id, EvalCase(item.case_id, item.family, item.subsets, {"question": "?"})
        )
    return Dataset(Path("toy.json"), sha256, tuple(seen.values()))


def report_of(
    baseline: Sequence[CaseResult],
    candidates: dict[str, Sequence[CaseResult]],
    rules: Sequence[GateRule],
    *,
    sha256: str = "a" * 64,
    run_id: str = "run",
    statistics: StatisticsSettings | None = None,
    temperature: float = 0.0,
    seed: int | None = None,
) -> Report:
    targets = [ModelTarget("baseline", "base", "simulated", temperature=temperature, seed=seed)]
    targets += [
        ModelTarget("candidate", name, "simulated", temperature=temperature, seed=seed)
        for name in candidates
    ]
    when = datetime(2026, 5, 23, 7, 13, 37, tzinfo=UTC)
    results = [list(baseline), *(list(c) for c in candidates.values())]
    evidence = [measure(TOY, target, per) for target, per in zip(targets, results, strict=True)]
    decision = decide_run(TOY, evidence, results, rules, statistics=statistics)
    return build_report(
        run_id=run_id,
        tool_version="0+test",
        started_at=when,
        finished_at=when,
        mode="compare",
        client="mock",
        workflow=TOY,
        dataset=dataset_of(baseline, sha256),
        config={},
        targets=targets,
        evidence=evidence,
        decision=decision,
        results=results,
    )
