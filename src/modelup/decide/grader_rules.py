"""How the grader's figures enter the gate: in each model's summary, judged by rules.

By default one ``signal`` rule per mode: the grader's net win rate must not fall below zero (it
does not prefer the baseline more often than the candidate), and the rubric score must not drop
by more than a quarter point. Signals are reported and never decide. ``[grader] authority =
"conditional"`` raises these to Hold on failure; rules in ``[[gate.rules]]`` on grader figures
replace them. A grader rule may never ``block``: the hard gates stay deterministic, and since the
verdict is the most severe failure, a grader rule can never overturn a deterministic Block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from modelup.config.rules import GateRule
from modelup.decide.evidence import ModelEvidence
from modelup.decide.grader import (
    RUBRIC_SCORE,
    GraderEvidence,
    grader_figure_names,
    rubric_figure,
)
from modelup.errors import ConfigError
from modelup.evaluate.grading import GraderPlan
from modelup.workflow.base import Workflow

DEFAULT_MAX_RUBRIC_REGRESSION = 0.25
"""Rubric points (on the 1-5 scale) the candidate's mean may fall below the baseline's."""


def check_grader_figures(plan: GraderPlan, workflow: Workflow) -> None:
    """A grader figure must not be a figure the workflow already has."""
    taken = set(workflow.figures)
    for name in grader_figure_names(plan):
        if name in taken:
            raise ConfigError(
                f"grader: the figure {name!r} is already one of workflow {workflow.name!r}'s; "
                "rename its check or the rubric criterion"
            )


def default_grader_rules(
    plan: GraderPlan, authority: Literal["signal", "conditional"] = "signal"
) -> tuple[GateRule, ...]:
    rules = []
    if plan.pairwise:
        rules.append(
            GateRule(
                name="grader preference",
                figure="grader_net_win_rate",
                comparison="floor",
                threshold=0.0,
                authority=authority,
            )
        )
    if plan.rubric:
        rules.append(
            GateRule(
                name="grader rubric",
                figure=RUBRIC_SCORE,
                comparison="max_regression",
                threshold=DEFAULT_MAX_RUBRIC_REGRESSION,
                authority=authority,
            )
        )
    return tuple(rules)


def with_grader_rules(
    rules: Sequence[GateRule],
    plan: GraderPlan,
    authority: Literal["signal", "conditional"] = "signal",
    *,
    where: str = "gate.rules",
) -> tuple[GateRule, ...]:
    """``rules`` with the default grader rules after them, unless some rule already reads a
    grader figure. A rule on a grader figure that blocks, is scoped to a subset or family, or
    requires significance is a ``ConfigError`` naming it."""
    figures = set(grader_figure_names(plan))
    own = False
    for index, rule in enumerate(rules):
        if rule.figure not in figures:
            continue
        own = True
        at = f"{where}[{index}] ({rule.title})"
        if rule.authority == "block":
            raise ConfigError(
                f"{at}: a grader figure cannot block (the hard gates stay deterministic); "
                "use authority 'conditional' or 'signal'"
            )
        if rule.scope != "overall":
            raise ConfigError(
                f"{at}: grader figures are judged over the whole run, not a {rule.scope}"
            )
        if rule.require_significance:
            raise ConfigError(
                f"{at}: a grader figure cannot require significance; its interval is in the "
                "report's grader section"
            )
    return tuple(rules) if own else (*rules, *default_grader_rules(plan, authority))


def with_grader_figures(
    evidence: Sequence[ModelEvidence], grader: GraderEvidence
) -> tuple[ModelEvidence, ...]:
    """Every model's evidence with the grader's figures added to its summary: the pairwise
    figures for each candidate (``None`` for the baseline, which is not compared with itself),
    the rubric figures for every model."""
    names = grader_figure_names(grader.grading.plan)
    pairwise = {figures.candidate: figures for figures in grader.pairwise}
    rubric = {figures.model: figures for figures in grader.rubric}
    updated = []
    for model in evidence:
        added: dict[str, float | None] = dict.fromkeys(names)
        pair = pairwise.get(model.model)
        if pair is not None:
            added.update(
                grader_win_rate=pair.win_rate.estimate,
                grader_loss_rate=pair.loss_rate.estimate,
                grader_tie_rate=pair.tie_rate.estimate,
                grader_net_win_rate=pair.net_win_rate.estimate,
                grader_disagreement_rate=pair.disagreement_rate,
                grader_error_rate=pair.error_rate,
            )
        scores = rubric.get(model.model)
        if scores is not None:
            added[RUBRIC_SCORE] = scores.score
            for name, value in scores.criteria.items():
                added[rubric_figure(name)] = value
        summary = {**model.summary, **{name: added[name] for name in names}}
        updated.append(dataclasses.replace(model, summary=summary))
    return tuple(updated)
