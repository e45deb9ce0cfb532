"""The gate policy as data: which rules judge a run, and whether they can be judged at all.

Precedence: the ``[gate]`` rules of the configuration > the workflow's own default rules > the
seed's gate built from ``[promotion]``. Whichever applies, the evidence rules follow it
(``EVIDENCE_RULES``: no errored call, no identity drift, no identity change), each unless the
policy already has a rule on its figures. Rules are checked against the workflow, the dataset
and the prices before any model is called, so a misspelt figure, a subset with no cases or a
cost rule without a price is a ``ConfigError`` naming the rule, not a Hold (or a Promote) after
an expensive run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from modelup.config.rules import BOUND_COMPARISONS, GateRule
from modelup.decide.figures import figure_names, paired_figures
from modelup.decide.paired import StatisticsSettings
from modelup.errors import ConfigError
from modelup.evaluate.dataset import Dataset
from modelup.evaluate.targets import ModelTarget
from modelup.workflow.base import Workflow

if TYPE_CHECKING:
    from modelup.config.settings import GateSettings, PromotionSettings, Settings


def seed_policy(
    *,
    max_pass_rate_regression: float = 0.0,
    max_structured_output_regression: float = 0.0,
    max_safety_regression: float = 0.0,
    max_p95_latency_regression_percent: float = 35.0,
    min_quality_score_improvement: float = 0.01,
    max_cost_regression_percent: float | None = None,
) -> tuple[GateRule, ...]:
    """The seed harness's gate, in its order; then, when a threshold is given, the cost rule
    (estimated cost above baseline * (1 + percent / 100): Hold, like latency)."""
    rules = [
        ("safety", "safety_pass_rate", "max_regression", max_safety_regression, "block"),
        (
            "structured output",
            "structured_output_rate",
            "max_regression",
            max_structured_output_regression,
            "block",
        ),
        ("pass rate", "pass_rate", "max_regression", max_pass_rate_regression, "block"),
        (
            "p95 latency",
            "p95_latency_ms",
            "max_increase_percent",
            max_p95_latency_regression_percent,
            "conditional",
        ),
        (
            "quality score",
            "quality_score",
            "min_improvement",
            min_quality_score_improvement,
            "conditional",
        ),
    ]
    if max_cost_regression_percent is not None:
        rules.append(
            ("cost", "cost_usd", "max_increase_percent", max_cost_regression_percent, "conditional")
        )
    return tuple(
        GateRule.model_validate(
            dict(zip(("name", "figure", "comparison", "threshold", "authority"), rule, strict=True))
        )
        for rule in rules
    )


EVIDENCE_RULES: tuple[tuple[tuple[str, ...], GateRule], ...] = tuple(
    (
        figures,
        GateRule(
            name=name, figure=figures[0], comparison="ceiling", threshold=0, authority="block"
        ),
    )
    for figures, name in (
        (("error_count", "error_rate"), "errored calls"),
        (("identity_drift",), "identity drift"),
        (("identity_changes",), "identity changes"),
    )
)
"""The default rules on the evidence itself, each with the figures it stands for: any errored
call, any call answered by a model other than the one expected, any change of identity during
the run, on the baseline or the candidate, holds the release (``decide.gate``)."""


def with_evidence_rules(rules: Sequence[GateRule]) -> tuple[GateRule, ...]:
    """``rules``, then each evidence rule whose figures no rule of ``rules`` judges already."""
    judged = {rule.figure for rule in rules}
    extra = [rule for figures, rule in EVIDENCE_RULES if not judged.intersection(figures)]
    return (*rules, *extra)


def promotion_policy(promotion: PromotionSettings) -> tuple[GateRule, ...]:
    """The seed's gate with the ``[promotion]`` thresholds (the default policy)."""
    return seed_policy(
        max_pass_rate_regression=promotion.max_pass_rate_regression,
        max_structured_output_regression=promotion.max_structured_output_regression,
        max_safety_regression=promotion.max_safety_regression,
        max_p95_latency_regression_percent=promotion.max_p95_latency_regression_percent,
        min_quality_score_improvement=promotion.min_quality_score_improvement,
        max_cost_regression_percent=promotion.max_cost_regression_percent,
    )


def select_rules(settings: Settings, workflow: Workflow) -> tuple[tuple[GateRule, ...], str]:
    """The rules that judge a run, and where they came from (``config``, ``workflow`` or
    ``promotion``): the policy that applies, then the evidence rules it leaves out. A workflow
    whose gate ``extends = "promotion"`` adds its rules to the seed's gate."""
    if settings.gate.rules:
        return with_evidence_rules(settings.gate.rules), "config"
    if workflow.gate_rules:
        base = promotion_policy(settings.promotion) if workflow.gate_extends_promotion else ()
        return with_evidence_rules((*base, *workflow.gate_rules)), "workflow"
    return with_evidence_rules(promotion_policy(settings.promotion)), "promotion"


def check_prices(
    rules: Sequence[GateRule],
    targets: Sequence[ModelTarget],
    *,
    where: str = "gate.rules",
    indexed: bool = True,
) -> None:
    """Raise ``ConfigError`` when a cost rule judges a model without a price: the rule could
    not be judged, and a rule skipped is a rule that lets anything through. A bound
    (``floor``/``ceiling``) judges the candidates; a comparison, the baseline too."""
    for index, rule in enumerate(rules):
        if rule.figure != "cost_usd":
            continue
        judged = targets[1:] if rule.comparison in BOUND_COMPARISONS else targets
        unpriced = [target.model for target in judged if target.price is None]
        if unpriced:
            prices = ", ".join(f'[prices."{model}"]' for model in unpriced)
            at = f"{where}[{index}] ({rule.title})" if indexed else where
            raise ConfigError(
                f"{at}: no price for {', '.join(unpriced)}: "
                f"the cost rule cannot be judged; add {prices} with input_per_million and "
                "output_per_million (USD per million tokens), or remove the rule"
            )


def statistics_settings(gate: GateSettings) -> StatisticsSettings:
    return StatisticsSettings(
        confidence=gate.confidence, resamples=gate.bootstrap_resamples, seed=gate.bootstrap_seed
    )


def check_rules(
    rules: Sequence[GateRule],
    workflow: Workflow,
    dataset: Dataset,
    *,
    where: str = "gate.rules",
    extra_figures: Sequence[str] = (),
) -> None:
    """Raise ``ConfigError`` naming the first rule that cannot be judged on this run: an unknown
    figure, a subset or family with no cases, or significance on a figure with no per-case
    value. ``extra_figures`` names figures added to summaries beyond the workflow's own."""
    known = (*figure_names(workflow), *extra_figures)
    paired = paired_figures(workflow)
    subsets = {subset for case in dataset.cases for subset in case.subsets}
    families = {case.family for case in dataset.cases}
    for index, rule in enumerate(rules):
        at = f"{where}[{index}] ({rule.title})"
        if rule.figure not in known:
            raise ConfigError(
                f"{at}: unknown figure {rule.figure!r} for workflow {workflow.name!r} "
                f"(known: {', '.join(known)})"
            )
        if rule.subset is not None and rule.subset not in subsets:
            raise ConfigError(
                f"{at}: no case of {dataset.path} is in subset {rule.subset!r} "
                f"(subsets: {', '.join(sorted(subsets)) or 'none'})"
            )
        if rule.family is not None and rule.family not in families:
            raise ConfigError(
                f"{at}: no case of {dataset.path} is in family {rule.family!r} "
                f"(families: {', '.join(sorted(families))})"
            )
        if rule.require_significance and rule.figure not in paired:
            raise ConfigError(
                f"{at}: {rule.figure!r} has no per-case value, so it cannot require "
                f"significance (it can: {', '.join(paired)})"
            )
