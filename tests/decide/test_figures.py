"""Figures: rates over scored cases, errors on their own, coverage means, latency percentiles,
quality weights, pass@K, identity."""

from __future__ import annotations

from dataclasses import replace

import pytest

from modelup.decide.figures import format_figure, label
from modelup.decide.identity import ExpectedIdentity
from modelup.decide.summary import percentile, summarize, summarize_groups
from modelup.evaluate.scoring import CaseResult
from modelup.models.chat import Usage
from modelup.workflow.catalog import get_workflow
from modelup.workflow.checks import CheckOutcome

WORKFLOW = get_workflow("support-ops")


def result(
    case_id: str,
    *,
    passed: bool = True,
    latency: float | None = 100.0,
    error: str | None = None,
    family: str = "incident",
    coverage: float = 1.0,
    safe: bool = True,
    repaired: bool = False,
) -> CaseResult:
    checks = []
    for spec in WORKFLOW.checks:
        if error is not None:
            checks.append(CheckOutcome(spec.name, False, 0.0))
        elif spec.name == "required_actions":
            checks.append(CheckOutcome(spec.name, coverage == 1.0, coverage))
        elif spec.name == "safety":
            checks.append(CheckOutcome(spec.name, safe, float(safe)))
        else:
            checks.append(CheckOutcome(spec.name, True, 1.0))
    return CaseResult(
        case_id=case_id,
        family=family,
        subsets=("policy-sensitive",) if family == "refusal" else (),
        passed=passed and error is None,
        strict_valid=error is None and not repaired,
        valid=error is None,
        checks=tuple(checks),
        notes=(),
        repairs=("extracted JSON from a markdown code fence",) if repaired else (),
        latency_ms=None if error else latency,
        usage=Usage(100, 50) if error is None else Usage(),
        error=error,
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([], 0.95) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0


def test_summary_figures() -> None:
    results = [
        result("a", latency=100),
        result("b", passed=False, coverage=0.5, latency=300),
        result("c", passed=False, safe=False, latency=200, repaired=True),
        result("d", error="HTTP 500"),
    ]
    summary = summarize(WORKFLOW, results)
    # Rates are over the three scored cases: the errored call is evidence of nothing about
    # the model's answers, and is counted on its own.
    assert summary["case_count"] == 4
    assert summary["pass_rate"] == pytest.approx(1 / 3)
    assert summary["structured_output_rate"] == 1.0
    assert summary["strict_structured_output_rate"] == pytest.approx(2 / 3)
    assert summary["repair_rate"] == pytest.approx(1 / 3)
    assert summary["required_action_coverage"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert summary["safety_pass_rate"] == pytest.approx(2 / 3)  # an error is not unsafe
    assert summary["avg_latency_ms"] == 200.0  # errored calls have no latency
    assert summary["p95_latency_ms"] == 300.0
    assert summary["error_count"] == 1
    assert summary["error_rate"] == 0.25
    assert summary["prompt_tokens"] == 300
    weights = WORKFLOW.quality_weights
    expected = sum(weights[name] * summary[name] for name in weights)  # type: ignore[operator]
    assert summary["quality_score"] == pytest.approx(expected)


def test_all_errored_has_no_evidence_of_quality() -> None:
    summary = summarize(WORKFLOW, [result("a", error="timeout"), result("b", error="timeout")])
    assert summary["avg_latency_ms"] is None and summary["p95_latency_ms"] is None
    assert summary["pass_rate"] is None and summary["safety_pass_rate"] is None
    assert summary["quality_score"] is None and summary["pass_at_k"] is None
    assert summary["error_count"] == 2 and summary["error_rate"] == 1.0


def test_every_summary_figure_is_declared_in_order() -> None:
    summary = summarize(WORKFLOW, [result("a"), result("b", error="HTTP 500")])
    assert tuple(summary) == WORKFLOW.figures


def test_repeated_trial_figures_are_in_the_summary() -> None:
    # A passes 2 of 2 epochs, B 1 of 2 (flaky), C 0 of 2; K = 2.
    results = [
        result(case, passed=mark == "P", family="incident")
        for case, marks in (("A", "PP"), ("B", "PF"), ("C", "FF"))
        for mark in marks
    ]
    summary = summarize(WORKFLOW, results)
    assert summary["pass_at_k"] == pytest.approx((1 + 1 + 0) / 3)  # pass@2
    assert summary["pass_hat_k"] == pytest.approx((1 + 0 + 0) / 3)  # pass^2
    assert summary["flaky_case_count"] == 1


def test_identity_figures_count_drift_against_the_expected_model() -> None:
    results = [
        replace(result("a"), resolved_model="m-x"),
        replace(result("b"), resolved_model="m-x-2026-05-18", system_fingerprint="fp_1"),
        replace(result("c"), resolved_model="m-x-2026-05-18", system_fingerprint="fp_2"),
        result("d", error="HTTP 500"),  # reports nothing: neither drift nor an identity
    ]
    plain = summarize(WORKFLOW, results, expected=ExpectedIdentity("m-x"))
    assert plain["identity_drift"] == 2
    assert plain["identity_changes"] == 2  # three identities seen
    pinned = summarize(WORKFLOW, results, expected=ExpectedIdentity("m-x", "m-x-2026-*"))
    assert pinned["identity_drift"] == 1  # the pattern accepts the dated name, not "m-x"
    exact = summarize(WORKFLOW, results, expected=ExpectedIdentity("m-x", "m-x-2026-05-18"))
    assert exact["identity_drift"] == 1
    quiet = summarize(WORKFLOW, [result("a"), result("b")], expected=ExpectedIdentity("m"))
    assert quiet["identity_drift"] == 0 and quiet["identity_changes"] == 0


def test_groups_by_family_and_subset() -> None:
    results = [result("a"), result("b", family="refusal", passed=False)]
    families = summarize_groups(WORKFLOW, results, by="family")
    assert families["incident"]["pass_rate"] == 1.0
    assert families["refusal"]["pass_rate"] == 0.0
    subsets = summarize_groups(WORKFLOW, results, by="subset")
    assert list(subsets) == ["policy-sensitive"]
    assert subsets["policy-sensitive"]["case_count"] == 1


def test_format_and_label() -> None:
    assert format_figure("pass_rate", 0.8333) == "83.3%"
    assert format_figure("p95_latency_ms", 1234.4) == "1234 ms"
    assert format_figure("error_count", 2) == "2"
    assert format_figure("quality_score", 0.5) == "0.500"
    assert format_figure("pass_rate", None) == "n/a"
    assert label("p95_latency_ms") == "P95 latency"
    assert format_figure("pass_at_k", 0.5) == "50.0%" and label("pass_hat_k") == "Pass^K"
    assert (
        format_figure("identity_drift", 3) == "3" and format_figure("error_rate", 0.25) == "25.0%"
    )
