"""Judging production traffic, which has no expectations: the label-free view of a workflow.

A replay of recorded requests carries inputs only. Its workflow keeps the checks that read
inputs only (the contract, policy agreement, cited sources, action posture...), drops the
checks that need expectations (not run, so not counted as failures), and adds one figure no
labelled run needs: ``baseline_agreement_rate``, how often a candidate's answer agrees with the
baseline's on the fields a policy owns and on categorical fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from modelup.config.rules import GateRule
from modelup.decide.figures import figure_names
from modelup.evaluate.scoring import CaseResult
from modelup.workflow.base import Workflow
from modelup.workflow.checks import values_at

AGREEMENT_FIGURE = "baseline_agreement_rate"
AGREEMENT_RULE = GateRule(
    name="agreement with the baseline",
    figure=AGREEMENT_FIGURE,
    comparison="floor",
    threshold=0.9,
    authority="conditional",
)
"""Added to a replay's gate unless ``[gate]`` rules are configured (they may name the figure)."""


@dataclass(frozen=True, slots=True)
class LabelFree:
    """What a label-free replay judges, and what it leaves out."""

    source: str
    """Where its cases came from (``traces:failed``)."""
    figures: tuple[str, ...]
    skipped_checks: tuple[str, ...]
    skipped_rules: tuple[str, ...] = ()
    agreement_fields: tuple[str, ...] = ()


def label_free_workflow(workflow: Workflow, source: str) -> tuple[Workflow, LabelFree]:
    """``workflow`` with only its label-free checks, a case model of its inputs only, and no
    quality score when the score weighs a figure that needs expectations."""
    checks = workflow.label_free_checks
    kept = {check.figure for check in checks}
    dropped = tuple(check.name for check in workflow.checks if check not in checks)
    weights = dict(workflow.quality_weights)
    dropped_figures = {check.figure for check in workflow.checks} - kept
    if any(figure in dropped_figures for figure in weights):
        weights = {}
    inputs = workflow.input_fields
    derived = dataclasses.replace(
        workflow,
        checks=checks,
        case_fields=inputs_model(workflow.case_fields, inputs),
        quality_weights=weights,
        family_field=workflow.family_field if workflow.family_field in inputs else None,
        gate_rules=(),
        inputs=inputs,
    )
    figures = tuple(
        name
        for name in (*figure_names(derived), AGREEMENT_FIGURE)
        if name not in ("case_count", "quality_score") or (name == "quality_score" and weights)
    )
    info = LabelFree(
        source=source,
        figures=figures,
        skipped_checks=dropped,
        agreement_fields=agreement_fields(workflow),
    )
    return derived, info


def replay_rules(
    rules: Sequence[GateRule], workflow: Workflow, *, configured: bool
) -> tuple[tuple[GateRule, ...], tuple[str, ...]]:
    """The rules a replay can judge (label-free figures, no subset or family: recorded traffic
    has neither), and the titles of those it cannot. Without configured rules, the agreement
    rule is added."""
    known = {*figure_names(workflow), AGREEMENT_FIGURE}
    if not workflow.quality_weights:
        known.discard("quality_score")  # it weighs figures that need expectations
    kept: list[GateRule] = []
    skipped: list[str] = []
    for rule in rules:
        if rule.figure in known and rule.subset is None and rule.family is None:
            kept.append(rule)
        else:
            skipped.append(rule.title)
    if not configured and all(rule.figure != AGREEMENT_FIGURE for rule in kept):
        kept.append(AGREEMENT_RULE)
    return tuple(kept), tuple(skipped)


def agreement_fields(workflow: Workflow) -> tuple[str, ...]:
    """The answer's fields a policy owns, and its categorical fields: booleans and enums of the
    contract, and the fields ``equals`` checks compare with a label."""
    fields: dict[str, None] = {}
    for check in workflow.checks:
        if check.kind in ("policy", "equals") and isinstance(check.params.get("output"), str):
            fields[check.params["output"]] = None
    properties = workflow.contract.get("properties")
    if isinstance(properties, Mapping):
        for name, schema in properties.items():
            if isinstance(schema, Mapping) and (
                schema.get("type") == "boolean" or "enum" in schema
            ):
                fields[str(name)] = None
    return tuple(fields)


class Agreement:
    """Collects, per trial, the agreement fields of every model's answer (from the replay's
    result callback), then measures each model's agreement with the baseline (index 0)."""

    def __init__(self, fields: Sequence[str], models: int) -> None:
        self.fields = tuple(fields)
        self._answers: list[dict[tuple[str, int], tuple[Any, ...] | None]] = [
            {} for _ in range(models)
        ]

    def on_result(self, index: int, result: CaseResult) -> None:
        output = result.output
        values = None
        if output is not None:
            values = tuple(_first(values_at(output, path)) for path in self.fields)
        self._answers[index][(result.case_id, result.epoch)] = values

    def rate(self, index: int) -> float | None:
        """The share of trials where the baseline gave a valid answer and this model's agrees
        on every field (an invalid or failed answer disagrees); ``None`` without any."""
        baseline = self._answers[0]
        paired = [key for key, values in baseline.items() if values is not None]
        if not paired or not self.fields:
            return None
        mine = self._answers[index]
        return sum(mine.get(key) == baseline[key] for key in paired) / len(paired)

    def figures(self, index: int) -> dict[str, float | None]:
        return {AGREEMENT_FIGURE: self.rate(index)}


def _first(values: list[Any]) -> Any:
    value = values[0] if values else None
    return value.casefold().strip() if isinstance(value, str) else value


def inputs_model(model: type[BaseModel], inputs: frozenset[str]) -> type[BaseModel]:
    """The case model restricted to the input fields (what a request carries)."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in model.model_fields.items() if name in inputs
    }
    derived: type[BaseModel] = create_model(
        f"{model.__name__}Inputs", __config__=ConfigDict(extra="forbid", frozen=True), **fields
    )
    return derived


__all__ = [
    "AGREEMENT_FIGURE",
    "AGREEMENT_RULE",
    "Agreement",
    "LabelFree",
    "agreement_fields",
    "inputs_model",
    "label_free_workflow",
    "replay_rules",
]
