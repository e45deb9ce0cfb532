"""The release's verdict on an evaluation: gate classes over the evaluation's rules, and each
release check failing closed (required subsets, expected deltas, identities, errored calls)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from modelup.release.evidence import Evidence
from modelup.release.judge import PROMOTE_REASON, judge_release
from modelup.release.record import ReleaseRecord, parse_record
from modelup.report.schema import (
    DatasetRecord,
    DecisionRecord,
    ModelRecord,
    PromptRecord,
    Report,
    RuleRecord,
    WorkflowRecord,
)
from support.releases import RECORD

AT = datetime(2026, 5, 1, tzinfo=UTC)
GOOD = {"case_count": 10, "pass_rate": 0.9, "quality_score": 0.80, "error_count": 0}
BETTER = {"case_count": 10, "pass_rate": 0.9, "quality_score": 0.85, "error_count": 0}
SUBSETS = {
    name: {"case_count": 4, "pass_rate": 1.0}
    for name in ("policy-sensitive", "structured-output", "tool-posture", "latency-cost")
}


def record(**fields: Any) -> ReleaseRecord:
    return parse_record({"format_version": 1, **RECORD, **fields}, "release.toml")


def model(
    role: str,
    name: str,
    summary: dict[str, Any],
    *,
    subsets: dict[str, dict[str, Any]] | None = None,
    resolved: list[str] | None = None,
    fingerprints: tuple[str, ...] = (),
) -> ModelRecord:
    return ModelRecord(
        role=role,  # type: ignore[arg-type]
        requested_model=name,
        endpoint="http://127.0.0.1:1/v1",
        resolved_models=[name] if resolved is None else resolved,
        alias_resolved=False,
        system_fingerprints=list(fingerprints),
        summary=summary,
        families={},
        subsets=SUBSETS if subsets is None else subsets,
        cases=[],
    )


def rule(status: str = "passed", authority: str = "block", subset: str | None = None) -> RuleRecord:
    return RuleRecord(
        name="pass rate" + (f" in {subset}" if subset else ""),
        figure="pass_rate",
        comparison="max_regression",
        threshold=0.0,
        authority=authority,  # type: ignore[arg-type]
        subset=subset,
        baseline=0.9,
        candidate=0.9 if status == "passed" else 0.7,
        limit=0.9,
        passed=status == "passed",
        reason=f"pass rate {status}",
        status=status,  # type: ignore[arg-type]
    )


def report(
    previous: ModelRecord | None = None,
    candidate: ModelRecord | None = None,
    rules: list[RuleRecord] | None = None,
    verdict: str = "Promote",
) -> Report:
    decision = DecisionRecord(
        candidate="qwen3:8b",
        verdict=verdict,  # type: ignore[arg-type]
        reasons=[],
        authoritative_model="qwen3:8b",
        rules=[rule()] if rules is None else rules,
    )
    return Report(
        tool_version="0.1.0",
        run_id="20260501T000000Z-abcdef",
        started_at=AT,
        finished_at=AT,
        mode="compare",
        client="live",
        workflow=WorkflowRecord(name="support-ops", version="1"),
        dataset=DatasetRecord(path="d.json", sha256="d" * 64, case_count=10),
        prompt=PromptRecord(id="p", sha256="p" * 64),
        config={},
        models=[
            previous or model("baseline", "gpt-oss:20b", GOOD),
            candidate or model("candidate", "qwen3:8b", BETTER),
        ],
        decision=decision,
        decisions=[decision],
    )


def judge(rec: ReleaseRecord | None = None, rep: Report | None = None) -> Evidence:
    return judge_release(
        rec or record(),
        rep or report(),
        source="run",
        report_path="/r.json",
        report_sha256="s" * 64,
        gated_at=AT,
        gated_by="ci",
    )


def test_a_good_candidate_is_promoted_and_its_identity_is_the_pin() -> None:
    evidence = judge()
    assert evidence.verdict == "Promote" and evidence.reasons == [PROMOTE_REASON]
    assert evidence.candidate_identity is not None
    assert evidence.candidate_identity.model == "qwen3:8b"
    assert evidence.previous_identity is not None
    # every classed subset no evaluation rule scopes is judged by its pass rate
    added = {r.scope: r for r in evidence.rules if r.origin == "gate_classes"}
    assert set(added) == {f"subset {name}" for name in SUBSETS}
    assert added["subset policy-sensitive"].authority == "block"
    assert added["subset latency-cost"].authority == "signal"


def test_a_required_subset_with_no_cases_holds() -> None:
    subsets = {k: v for k, v in SUBSETS.items() if k != "structured-output"}
    rep = report(candidate=model("candidate", "qwen3:8b", BETTER, subsets=subsets))
    evidence = judge(rep=rep)
    assert evidence.verdict == "Hold"
    assert any("Required eval subset structured-output has no cases" in r for r in evidence.reasons)
    assert [s.met for s in evidence.required_subsets] == [True, False]


def test_an_expected_delta_not_met_holds() -> None:
    rep = report(candidate=model("candidate", "qwen3:8b", GOOD))  # quality unchanged
    evidence = judge(rep=rep)
    assert evidence.verdict == "Hold"
    (delta,) = evidence.expected_deltas
    assert not delta.met and delta.improvement == 0
    assert "min_absolute_change: improved by +0, needs +0.01" in delta.reason


@pytest.mark.parametrize(
    ("claim", "met"),
    [
        ({"greater_is_better": True, "min_absolute_change": 0.05}, True),
        ({"greater_is_better": True, "min_absolute_change": 0.06}, False),
        ({"greater_is_better": True, "min_relative_change": 0.06}, True),  # +6.25%
        ({"greater_is_better": True, "min_relative_change": 0.07}, False),
        ({"greater_is_better": True, "threshold": 0.85}, True),
        ({"greater_is_better": False, "threshold": 0.84}, False),
        ({"greater_is_better": False, "min_absolute_change": -0.05}, True),  # may worsen 0.05
        ({"greater_is_better": False, "min_absolute_change": 0.0}, False),
        ({"greater_is_better": True, "max_absolute_change": 0.05}, True),
        ({"greater_is_better": True, "max_absolute_change": 0.04}, False),
        ({"greater_is_better": True, "max_relative_change": 0.05}, False),
    ],
)
def test_expected_deltas_read_like_mlflow_metric_thresholds(
    claim: dict[str, Any], met: bool
) -> None:
    rec = record(expected_deltas=[{"figure": "quality_score", **claim}])
    (delta,) = judge(rec).expected_deltas
    assert delta.met is met, delta.reason


def test_a_relative_change_from_a_zero_baseline_is_not_met() -> None:
    rec = record(
        expected_deltas=[
            {"figure": "error_count", "greater_is_better": False, "max_relative_change": 1}
        ]
    )
    (delta,) = judge(rec).expected_deltas
    assert not delta.met and "zero baseline is undefined" in delta.reason


def test_a_delta_in_a_subset_without_the_figure_has_no_evidence() -> None:
    rec = record(
        expected_deltas=[
            {"figure": "quality_score", "greater_is_better": True, "threshold": 0.5}
            | {"subset": "policy-sensitive"}
        ]
    )
    evidence = judge(rec)
    assert evidence.verdict == "Hold"
    assert "no evidence in subset policy-sensitive" in evidence.expected_deltas[0].reason


def test_errored_calls_hold() -> None:
    errored = {**BETTER, "error_count": 2}
    evidence = judge(rep=report(candidate=model("candidate", "qwen3:8b", errored)))
    assert evidence.verdict == "Hold"
    assert evidence.errored_calls == {"gpt-oss:20b": 0, "qwen3:8b": 2}
    assert any("2 errored call(s) out of 10" in reason for reason in evidence.reasons)


def test_missing_evidence_in_a_rule_holds_but_a_signal_never_decides() -> None:
    assert judge(rep=report(rules=[rule("missing")])).verdict == "Hold"
    assert judge(rep=report(rules=[rule("inconclusive", "conditional")])).verdict == "Hold"
    assert judge(rep=report(rules=[rule("failed", "signal")])).verdict == "Promote"


def test_gate_classes_give_rules_their_authority() -> None:
    # A conditional rule that fails in a block-class subset blocks: Rollback.
    failing = rule("failed", "conditional", subset="policy-sensitive")
    evidence = judge(rep=report(rules=[failing], verdict="Hold"))
    assert evidence.evaluation_verdict == "Hold" and evidence.verdict == "Rollback"
    judged = next(r for r in evidence.rules if r.origin == "evaluation")
    assert (judged.declared_authority, judged.gate_class, judged.authority) == (
        "conditional",
        "block",
        "block",
    )
    assert "[gate class block: block]" in judged.reason
    # A blocking rule on a figure the release only signals does not decide.
    rec = record(gate_classes={"signal": ["pass_rate"]})
    assert judge(rec, report(rules=[rule("failed", "block")], verdict="Rollback")).verdict == (
        "Promote"
    )
    # A rollback trigger blocks at the gate.
    rec = record(gate_classes={"rollback_trigger": ["pass_rate"]})
    evidence = judge(rec, report(rules=[rule("failed", "conditional")], verdict="Hold"))
    assert evidence.verdict == "Rollback"


def test_a_classed_subset_that_regresses_or_has_no_cases() -> None:
    worse = {**SUBSETS, "tool-posture": {"case_count": 4, "pass_rate": 0.75}}
    rep = report(candidate=model("candidate", "qwen3:8b", BETTER, subsets=worse))
    evidence = judge(rep=rep)
    assert evidence.verdict == "Hold"  # tool-posture is conditional
    assert any("subset tool-posture" in reason for reason in evidence.reasons)
    gone = {k: v for k, v in SUBSETS.items() if k != "policy-sensitive"}
    rec = record(required_eval_subsets=["structured-output"])
    evidence = judge(rec, report(candidate=model("candidate", "qwen3:8b", BETTER, subsets=gone)))
    assert evidence.verdict == "Hold"  # no cases: missing evidence never promotes
    assert any("no cases in subset policy-sensitive" in reason for reason in evidence.reasons)


def test_a_classed_figure_nothing_judges_holds_unless_it_only_signals() -> None:
    rec = record(gate_classes={"block": ["p95_latency_ms"]})
    rep = report(candidate=model("candidate", "qwen3:8b", {**BETTER, "p95_latency_ms": 900.0}))
    evidence = judge(rec, rep)
    assert evidence.verdict == "Hold"
    assert any("no gate rule or expected delta judges it" in r for r in evidence.reasons)
    rec = record(gate_classes={"signal": ["p95_latency_ms"]})
    assert judge(rec, rep).verdict == "Promote"


def test_undeclared_identity_drift_holds_and_a_declared_alias_does_not() -> None:
    drifted = model("candidate", "qwen3:8b", BETTER, resolved=["qwen3:8b-fp16"])
    evidence = judge(rep=report(candidate=drifted))
    assert evidence.verdict == "Hold"
    assert any("Identity drift: qwen3:8b answered as qwen3:8b-fp16" in r for r in evidence.reasons)
    rec = record(alias_resolution={"qwen3:8b": "qwen3:8b-*"})
    evidence = judge(rec, report(candidate=drifted))
    assert evidence.verdict == "Promote"
    assert evidence.candidate_identity is not None
    assert evidence.candidate_identity.model == "qwen3:8b-fp16"  # the pin is what answered


def test_the_previous_model_drifting_holds_too() -> None:
    drifted = model("baseline", "gpt-oss:20b", GOOD, resolved=["gpt-oss:120b"])
    evidence = judge(rep=report(previous=drifted))
    assert evidence.verdict == "Hold"
    assert not evidence.identities[0].declared and evidence.identities[1].declared
