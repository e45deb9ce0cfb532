"""A canary's live analysis: the canary arm compared with the stable arm on live figures.

In Argo Rollouts' and Kayenta's words: each figure has a success and a failure condition (how
much worse the canary may be); a measurement is ``successful`` when every figure succeeds,
``failed`` when any figure fails, and ``inconclusive`` otherwise, or when either arm has fewer
requests than ``must_have_data``. What a measurement leads to (the next step, a pause, a
rollback, promotion) is ``modelup.release.rollout``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from modelup.release.record import AnalysisMetric, LiveFigure, RolloutScope
from modelup.store.serve_rows import CanaryCounts

Status = Literal["successful", "failed", "inconclusive"]
_HIGHER_IS_BETTER = frozenset({"contract_validity"})


def live_figure(counts: CanaryCounts, figure: LiveFigure) -> float | None:
    """One live figure of an arm; ``None`` without the data for it. Rates other than
    ``error_rate`` are of the requests the model answered."""
    answered = counts.requests - counts.errors
    if figure == "error_rate":
        return counts.errors / counts.requests if counts.requests else None
    if figure == "p95_latency_ms":
        return counts.p95_ms()
    if answered <= 0:
        return None
    if figure == "contract_validity":
        return (answered - counts.invalid) / answered
    if figure == "override_rate":
        return counts.overridden / answered
    return counts.drift / answered


@dataclass(frozen=True, slots=True)
class FigureOutcome:
    figure: str
    canary: float | None
    stable: float | None
    worse: float | None
    """How much worse the canary is (positive: worse), absolute or relative as declared."""
    status: Status

    def to_json(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "canary": self.canary,
            "stable": self.stable,
            "worse": self.worse,
            "status": self.status,
        }

    def describe(self) -> str:
        def show(value: float | None) -> str:
            return "no data" if value is None else f"{value:.4g}"

        return f"{self.figure} canary {show(self.canary)} vs stable {show(self.stable)}"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One analysis of one window."""

    status: Status
    reasons: tuple[str, ...]
    figures: tuple[FigureOutcome, ...]
    canary_requests: int
    stable_requests: int

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reasons": list(self.reasons),
            "figures": [figure.to_json() for figure in self.figures],
            "canary_requests": self.canary_requests,
            "stable_requests": self.stable_requests,
        }


def judge_figure(
    metric: AnalysisMetric, canary: CanaryCounts, stable: CanaryCounts
) -> FigureOutcome:
    mine, theirs = live_figure(canary, metric.figure), live_figure(stable, metric.figure)
    if mine is None or theirs is None:
        return FigureOutcome(metric.figure, mine, theirs, None, "inconclusive")
    worse = theirs - mine if metric.figure in _HIGHER_IS_BETTER else mine - theirs
    if metric.relative:
        worse = worse / theirs if theirs else (math.inf if worse > 0 else 0.0)
    if worse > metric.failure_worse_above:
        status: Status = "failed"
    elif worse <= metric.success_worse_at_most:
        status = "successful"
    else:
        status = "inconclusive"
    return FigureOutcome(metric.figure, mine, theirs, worse, status)


def measure(scope: RolloutScope, canary: CanaryCounts, stable: CanaryCounts) -> Measurement:
    """Judge the canary arm's window against the stable arm's figures."""
    need = scope.must_have_data
    if canary.requests < need or stable.requests < need:
        reason = (
            f"too little data (mustHaveData {need} per arm): canary {canary.requests}, "
            f"stable {stable.requests} requests"
        )
        return Measurement("inconclusive", (reason,), (), canary.requests, stable.requests)
    outcomes = tuple(judge_figure(metric, canary, stable) for metric in scope.analysis_metrics)
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    unsure = [outcome for outcome in outcomes if outcome.status == "inconclusive"]
    if failed:
        status: Status = "failed"
        reasons = tuple(f"failed: {outcome.describe()}" for outcome in failed)
    elif unsure:
        status = "inconclusive"
        reasons = tuple(f"inconclusive: {outcome.describe()}" for outcome in unsure)
    else:
        status = "successful"
        reasons = ("every figure met its success condition",)
    return Measurement(status, reasons, outcomes, canary.requests, stable.requests)
