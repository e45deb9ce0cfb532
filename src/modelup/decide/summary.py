"""Aggregate scored cases into a model's figures, overall and per task family and gate subset.

An errored call is evidence of nothing about the model's answers: every quality figure (the
rates, the check figures, the quality score, pass@K) is computed over the scored cases only, and
the errors are counted on their own (``error_count``, ``error_rate``), so that a reason about
safety or quality is never an outage in disguise. Tokens and cost count every call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from modelup.decide.figures import quality_score
from modelup.decide.identity import ExpectedIdentity, identities, identity_figures
from modelup.decide.trials import trial_figures
from modelup.evaluate.scoring import CaseResult
from modelup.models.pricing import Price
from modelup.workflow.base import Workflow


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the value at rank ceil(fraction * n)), as the seed computes it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(
    workflow: Workflow,
    results: Sequence[CaseResult],
    *,
    price: Price | None = None,
    expected: ExpectedIdentity | None = None,
) -> dict[str, float | None]:
    """The figures of ``results``: rates over the scored (non-errored) cases, ``None`` when no
    case was scored. ``cost_usd`` is the estimated cost at ``price``, and missing without one;
    ``identity_drift`` is counted against ``expected``, and missing without it."""
    total = len(results)
    if total == 0:
        return {name: None for name in workflow.figures} | {"case_count": 0, "error_count": 0}
    scored = [r for r in results if r.error is None]
    judged = len(scored)

    def rate(count: int) -> float | None:
        return count / judged if judged else None

    summary: dict[str, float | None] = {
        "case_count": total,
        "pass_rate": rate(sum(r.passed for r in scored)),
        "structured_output_rate": rate(sum(r.valid for r in scored)),
        "strict_structured_output_rate": rate(sum(r.strict_valid for r in scored)),
        "repair_rate": rate(sum(bool(r.repairs) for r in scored)),
    }
    for index, spec in enumerate(workflow.checks):
        outcomes = [r.checks[index] for r in scored]
        if not judged:
            summary[spec.figure] = None
        elif spec.aggregate == "mean":
            summary[spec.figure] = sum(o.score for o in outcomes) / judged
        else:
            summary[spec.figure] = rate(sum(o.passed for o in outcomes))
    latencies = [r.latency_ms for r in scored if r.latency_ms is not None]
    summary["avg_latency_ms"] = sum(latencies) / len(latencies) if latencies else None
    summary["p95_latency_ms"] = percentile(latencies, 0.95)
    summary["prompt_tokens"] = sum(r.usage.prompt_tokens for r in results)
    summary["completion_tokens"] = sum(r.usage.completion_tokens for r in results)
    summary["cost_usd"] = (
        sum(price.cost_usd(r.usage) for r in results) if price is not None else None
    )
    summary["quality_score"] = quality_score(workflow, summary)
    summary["error_count"] = total - judged
    summary["error_rate"] = (total - judged) / total
    if len({result.case_id for result in results}) < total:
        summary.update(trial_figures(results))
    else:
        # One trial per case: pass@1 and pass^1 are the pass rate (the same float: both are a
        # count of passes over the scored cases), and no case can be flaky.
        passed = summary["pass_rate"]
        summary.update(pass_at_k=passed, pass_hat_k=passed, flaky_case_count=0)
    summary.update(identity_figures(identities(results), expected))
    return summary


def summarize_groups(
    workflow: Workflow,
    results: Sequence[CaseResult],
    *,
    by: str,
    price: Price | None = None,
    expected: ExpectedIdentity | None = None,
) -> dict[str, dict[str, float | None]]:
    """Summaries per task family (``by="family"``) or per gate subset (``by="subset"``)."""
    groups: dict[str, list[CaseResult]] = {}
    for result in results:
        keys = (result.family,) if by == "family" else result.subsets
        for key in keys:
            groups.setdefault(key, []).append(result)
    return {
        key: summarize(workflow, groups[key], price=price, expected=expected)
        for key in sorted(groups)
    }
