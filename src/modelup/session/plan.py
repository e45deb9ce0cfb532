"""Plan a run in one pass down the stages, before any model is called: the settings name the
workflow, the workflow reads the dataset, the settings fix the models, and the gate's rules are
chosen and checked against the workflow and the dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from modelup.config.rules import GateRule
from modelup.config.settings import Settings
from modelup.decide.paired import StatisticsSettings
from modelup.decide.rules import (
    check_prices,
    check_rules,
    promotion_policy,
    select_rules,
    statistics_settings,
)
from modelup.errors import ConfigError, WorkflowError
from modelup.evaluate.clients import make_clients
from modelup.evaluate.dataset import Dataset, load_dataset
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
    if source == "config":
        check_rules(settings.gate.rules, workflow, dataset)
        check_prices(settings.gate.rules, targets)
    elif source == "workflow":
        where = f"workflow {workflow.name!r} gate_rules"
        check_rules(workflow.gate_rules, workflow, dataset, where=where)
        check_prices(workflow.gate_rules, targets, where=where)
    if source == "promotion" or (source == "workflow" and workflow.gate_extends_promotion):
        where = "promotion.max_cost_regression_percent"
        check_prices(promotion_policy(settings.promotion), targets, where=where, indexed=False)
    return RunPlan(
        settings, workflow, dataset, targets, rules, source, statistics_settings(settings.gate)
    )


def plan_clients(plan: RunPlan) -> list[ModelClient]:
    """The plan's bare clients, one per target (no cache, no journal)."""
    return make_clients(plan.settings, plan.workflow, plan.dataset, plan.targets)
