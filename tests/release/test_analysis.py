"""A canary's live analysis: figures per arm, success and failure conditions, mustHaveData."""

from __future__ import annotations

from modelup.release.analysis import judge_figure, live_figure, measure
from modelup.release.record import DEFAULT_METRICS, AnalysisMetric, RolloutScope
from modelup.store.serve_rows import CanaryCounts

SCOPE = RolloutScope.model_validate({"kind": "canary", "steps": [10, 100], "must_have_data": 20})


def arm(
    requests: int, *, errors: int = 0, invalid: int = 0, latency: float = 100.0
) -> CanaryCounts:
    counts = CanaryCounts()
    for index in range(requests):
        counts.add(
            error=index < errors,
            invalid=errors <= index < errors + invalid,
            overridden=False,
            drift=False,
            latency_ms=None if index < errors else latency,
        )
    return counts


def test_live_figures() -> None:
    counts = arm(10, errors=2, invalid=2)
    assert live_figure(counts, "error_rate") == 0.2
    assert live_figure(counts, "contract_validity") == 6 / 8  # of the answered requests
    assert live_figure(counts, "override_rate") == 0.0
    assert live_figure(CanaryCounts(), "contract_validity") is None
    assert 100 <= (live_figure(counts, "p95_latency_ms") or 0) < 115  # a 15% bucket


def test_success_failure_and_in_between() -> None:
    metric = AnalysisMetric(
        figure="contract_validity", success_worse_at_most=0.02, failure_worse_above=0.05
    )
    stable = arm(100)
    assert judge_figure(metric, arm(100, invalid=1), stable).status == "successful"
    assert judge_figure(metric, arm(100, invalid=4), stable).status == "inconclusive"
    failed = judge_figure(metric, arm(100, invalid=10), stable)
    assert failed.status == "failed" and abs((failed.worse or 0) - 0.1) < 1e-9
    better = judge_figure(metric, arm(100), arm(100, invalid=10))
    assert better.status == "successful" and (better.worse or 0) < 0


def test_relative_latency() -> None:
    metric = next(m for m in DEFAULT_METRICS if m.figure == "p95_latency_ms")
    assert judge_figure(metric, arm(50, latency=110), arm(50, latency=100)).status == "successful"
    assert judge_figure(metric, arm(50, latency=400), arm(50, latency=100)).status == "failed"


def test_a_measurement_needs_data_on_both_arms() -> None:
    unsure = measure(SCOPE, arm(100), arm(5))
    assert unsure.status == "inconclusive" and "mustHaveData" in unsure.reasons[0]
    assert measure(SCOPE, arm(100), arm(100)).status == "successful"
    failed = measure(SCOPE, arm(100, errors=30), arm(100))
    assert failed.status == "failed"
    assert any("error_rate" in reason for reason in failed.reasons)
    assert {figure.figure for figure in failed.figures} == {m.figure for m in DEFAULT_METRICS}
