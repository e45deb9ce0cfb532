"""Plan a run in one pass down the stages, before any model is called: the settings name the
workflow, the workflow reads the dataset, the settings fix the models, and the gate's rules are
chosen and checked against the workflow and the dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from modelup.config.rules import GateRule
from modelup.config.settings import Settings
from modelup.decide.grader import grader_figure_names
from modelup.decide.grader_rules import check_grader_figures, with_grader_rules
from modelup.decide.paired import StatisticsSettings
from modelup.decide.rules import check_rules, select_rules, statistics_settings
from modelup.errors import ConfigError, WorkflowError
from modelup.evaluate.clients import make_clients
from modelup.evaluate.dataset import Dataset, load_dataset
from modelup.evaluate.grader_setup import plan_grader
from modelup.evaluate.grading import GraderPlan
from modelup.evaluate.targets import ModelTarget, plan_targets
from modelup.models.base import ModelClient
from modelup.workflow.base import Workflow
from modelup.workflow.catalog import get_workflow


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything decided before the first call: what runs, against what, judged how."""

    settings: Settings
    workflow: Workflow
    dataset: Dataset
    targets: tuple[ModelTarget, ...]
    """The baseline first, then every candidate."""
    rules: tuple[GateRule, ...]
    rules_source: str = "promotion"
    """Where the rules came from: ``config`` ([gate]), ``workflow`` or ``promotion`` (seed)."""
    statistics: StatisticsSettings = field(default_factory=StatisticsSettings)
    grader: GraderPlan | None = None
    """The grader model beside the gate (``[grader]``), if one is configured."""

    @property
    def baseline(self) -> ModelTarget:
        return self.targets[0]

    @property
    def candidates(self) -> tuple[ModelTarget, ...]:
        return self.targets[1:]

    @property
    def client_kind(self) -> Literal["mock", "live"]:
        return "mock" if self.settings.experiment.use_mock_client else "live"


def tool_version() -> str:
    try:
        return version("modelup")
    except PackageNotFoundError:
        return "0+unknown"


def plan_run(settings: Settings) -> RunPlan:
    """Resolve the workflow, load the dataset and fix the targets and gate rules."""
    experiment = settings.experiment
    try:
        workflow = get_workflow(experiment.workflow)
    except WorkflowError as exc:
        raise ConfigError(f"experiment.workflow: {exc}") from None
    if experiment.dataset_path is None:
        raise ConfigError(
            "experiment.dataset_path is not set: give --dataset or set it in modelup.toml"
        )
    dataset = load_dataset(experiment.dataset_path, workflow)
    targets = plan_targets(settings)
    rules, source = select_rules(settings, workflow)
    rules = _skip_unpriced_cost(rules, targets)
    grader = plan_grader(settings, workflow)
    extra = grader_figure_names(grader) if grader is not None else ()
    if grader is not None:
        check_grader_figures(grader, workflow)
    if source == "config":
        check_rules(rules, workflow, dataset, extra_figures=extra)
    elif source == "workflow":
        check_rules(rules, workflow, dataset, where=f"workflow {workflow.name!r} gate_rules")
    if grader is not None:
        rules = with_grader_rules(rules, grader, settings.grader.authority)
    return RunPlan(
        settings,
        workflow,
        dataset,
        targets,
        rules,
        source,
        statistics_settings(settings.gate),
        grader,
    )


def _skip_unpriced_cost(
    rules: tuple[GateRule, ...], targets: tuple[ModelTarget, ...]
) -> tuple[GateRule, ...]:
    """A cost rule cannot be judged without prices: it is then reported as skipped (a signal,
    which never decides) instead of holding every run on a figure nobody could compute."""
    unpriced = [target.model for target in targets if target.price is None]
    if not unpriced:
        return rules
    note = f"skipped: no price for {', '.join(unpriced)}"
    return tuple(
        rule.model_copy(update={"authority": "signal", "name": f"{rule.title} ({note})"})
        if rule.figure == "cost_usd" and rule.authority != "signal"
        else rule
        for rule in rules
    )


def plan_clients(plan: RunPlan) -> list[ModelClient]:
    """The plan's bare clients, one per target (no cache, no journal)."""
    return make_clients(plan.settings, plan.workflow, plan.dataset, plan.targets)
