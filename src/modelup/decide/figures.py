"""What a figure is: its name, unit, direction, label and per-case recipe, declared in one place.

A summary is a plain mapping of figure name to value. ``None`` means the figure has no evidence
(e.g. a latency when every call errored); the gate treats that as missing, never as good.

Every figure a summary carries is one of three kinds: the standard contract figures, the
workflow's check figures (a rate of passed cases or a mean score), and the trailing run figures
(latency, tokens, cost, quality, errors, repeated trials, identity). Rates and scores are over
the scored cases (``modelup.decide.summary``). The unit follows from the name's suffix, so a
figure a workflow declares (``refusal_accuracy``, ``required_action_coverage``) reads like the
built-in ones everywhere it is shown; the few run figures whose suffix says nothing are named
here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from modelup.workflow.base import Workflow


Summary = Mapping[str, float | None]
Unit = Literal["rate", "ms", "usd", "count", "tokens", "score"]

_RATE_SUFFIXES = ("_rate", "_accuracy", "_coverage")
_LOWER_IS_BETTER = frozenset({"repair_rate", "error_rate", "grader_loss_rate", "grader_error_rate"})
_UNITS: dict[str, Unit] = {
    "pass_at_k": "rate",
    "pass_hat_k": "rate",
    "identity_drift": "count",
    "identity_changes": "count",
}
"""Run figures whose unit does not follow from their suffix."""
_LABELS = {
    "pass_at_k": "Pass@K",
    "pass_hat_k": "Pass^K",
    "flaky_case_count": "Flaky cases",
    "identity_drift": "Identity drift",
    "identity_changes": "Identity changes",
}

EVIDENCE_FIGURES = ("error_count", "error_rate", "identity_drift", "identity_changes")
"""Figures about the evidence rather than the model: calls that errored, and calls answered by
another model than the one expected. A rule on one of them is judged on the baseline as well as
the candidate, and failing it holds the release (Hold), never rolls it back: evidence that is
not about the requested model says nothing about that model (``modelup.decide.gate``)."""


def figure_names(workflow: Workflow) -> tuple[str, ...]:
    """Every figure a summary of ``workflow`` carries, in report order."""
    return workflow.figures


def unit(name: str) -> Unit:
    """The unit a figure is measured in, from its name."""
    if name in _UNITS:
        return _UNITS[name]
    if name.endswith(_RATE_SUFFIXES):
        return "rate"
    if name.endswith("_ms"):
        return "ms"
    if name.endswith("_usd"):
        return "usd"
    if name.endswith("_count"):
        return "count"
    if name.endswith("_tokens"):
        return "tokens"
    return "score"


def is_rate(name: str) -> bool:
    return unit(name) == "rate"


def lower_is_better(name: str) -> bool:
    """Which way a change is good: latencies, counts, tokens, cost and repairs go down."""
    return unit(name) in ("ms", "count", "tokens", "usd") or name in _LOWER_IS_BETTER


def label(name: str) -> str:
    """``p95_latency_ms`` → ``P95 latency``; used wherever a figure is shown to a person."""
    if name in _LABELS:
        return _LABELS[name]
    if name.endswith("_usd"):
        return label(name.removesuffix("_usd")) + " (USD)"
    words = name.removesuffix("_ms").split("_")
    text = " ".join(words)
    return text[0].upper() + text[1:] if text else name


def format_figure(name: str, value: float | None) -> str:
    """How a person reads a figure: rates as percentages, latencies in ms, counts as integers."""
    if value is None:
        return "n/a"
    kind = unit(name)
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "ms":
        return f"{value:.0f} ms"
    if kind == "usd":
        return f"${value:.4f}"
    if kind in ("count", "tokens"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def format_change(name: str, change: float) -> str:
    """A change in a figure, signed: ``+1.5 pts`` for rates, ``+12 ms``, ``-3``, ``+0.021``."""
    kind = unit(name)
    if kind == "rate":
        return f"{change * 100:+.1f} pts"
    if kind == "ms":
        return f"{change:+.0f} ms"
    if kind in ("count", "tokens"):
        return f"{change:+.0f}"
    return f"{change:+.3f}"


# ------------------------------------------------------------------------------ per case


class CheckLike(Protocol):
    @property
    def passed(self) -> bool: ...
    @property
    def score(self) -> float: ...


class CaseLike(Protocol):
    """A scored case: an ``evaluate`` ``CaseResult`` or a report's ``CaseRecord``."""

    @property
    def case_id(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def subsets(self) -> Sequence[str]: ...
    @property
    def passed(self) -> bool: ...
    @property
    def valid(self) -> bool: ...
    @property
    def strict_valid(self) -> bool: ...
    @property
    def repairs(self) -> Sequence[str]: ...
    @property
    def checks(self) -> Sequence[CheckLike]: ...
    @property
    def error(self) -> str | None: ...


_CASE_FIGURES = (
    "pass_rate",
    "structured_output_rate",
    "strict_structured_output_rate",
    "repair_rate",
)
"""Every case's own figures, before its checks'."""


def paired_figures(workflow: Workflow) -> tuple[str, ...]:
    """The figures that have a per-case value, so paired statistics; latency and token
    figures do not. A per-case value's mean over cases is the summary figure."""
    return _recipe(workflow).figures


@dataclass(frozen=True, slots=True)
class _Recipe:
    """What ``case_values`` reads of a workflow, worked out once per workflow."""

    workflow: Workflow
    """Kept, so that the id this recipe is cached under is not reused."""
    figures: tuple[str, ...]
    """``paired_figures``: the case's own, its checks', and the quality score when every
    weighted figure is one of them."""
    checks: tuple[tuple[str, bool], ...]
    """Each check's figure, and whether it is a mean of scores (else a rate of passes)."""
    means: tuple[str, ...]
    """The figures that are means of scores."""
    weights: tuple[tuple[str, float], ...] | None
    """The quality score's weights, when every weighted figure has a per-case value."""


_RECIPES: dict[int, _Recipe] = {}


def _recipe(workflow: Workflow) -> _Recipe:
    found = _RECIPES.get(id(workflow))
    if found is not None and found.workflow is workflow:
        return found
    checks = tuple((spec.figure, spec.aggregate == "mean") for spec in workflow.checks)
    known = (*_CASE_FIGURES, *(figure for figure, _ in checks))
    weights = tuple(workflow.quality_weights.items())
    scored = all(figure in known for figure, _ in weights)
    recipe = _Recipe(
        workflow=workflow,
        figures=(*known, "quality_score") if scored else known,
        checks=checks,
        means=tuple(dict.fromkeys(figure for figure, mean in checks if mean)),
        weights=weights if scored else None,
    )
    if len(_RECIPES) > 32:
        _RECIPES.clear()
    _RECIPES[id(workflow)] = recipe
    return recipe


def case_values(workflow: Workflow, case: CaseLike) -> dict[str, float]:
    """One trial's per-case figures (``paired_figures``): pass, valid, strict and repaired
    indicators, each check's pass indicator (or score, for ``mean`` checks), and the workflow's
    quality score, which is linear."""
    recipe = _recipe(workflow)
    values = {
        "pass_rate": float(case.passed),
        "structured_output_rate": float(case.valid),
        "strict_structured_output_rate": float(case.strict_valid),
        "repair_rate": float(bool(case.repairs)),
    }
    for (figure, mean), outcome in zip(recipe.checks, case.checks, strict=True):
        values[figure] = outcome.score if mean else float(outcome.passed)
    if recipe.weights is not None:
        values["quality_score"] = sum([weight * values[f] for f, weight in recipe.weights])
    return values


def mean_figures(workflow: Workflow) -> tuple[str, ...]:
    """The per-case figures that are means of scores (the others are 0 or 1 per trial)."""
    return _recipe(workflow).means


def quality_score(workflow: Workflow, summary: Mapping[str, Any]) -> float | None:
    """The workflow's weighted score; missing when any weighted figure is missing."""
    total = 0.0
    for figure, weight in workflow.quality_weights.items():
        value = summary.get(figure)
        if value is None:
            return None
        total += weight * value
    return total
