"""Plan a run in one pass down the stages, before any model is called: the settings name the
workflow, the workflow reads the dataset, the settings fix the models, and the gate's rules are
chosen and checked against the workflow and the dataset."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from modelup._version import __version__
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
from modelup.observe.spec import is_traces_spec
from modelup.workflow.base import Workflow
from modelup.workflow.catalog import get_workflow

if TYPE_CHECKING:
    from modelup.evaluate.grading import GraderPlan
    from modelup.observe.label_free import LabelFree


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
    label_free: LabelFree | None = None
    """Set for a replay of recorded traces (``--dataset traces:...``): no expectations, so only
    label-free figures are judged."""
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
    """modelup's version (``modelup/_version.py``, which the build reads too; asking the
    installed package's metadata would import the email package at every start)."""
    return __version__


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
    label_free = None
    dataset_path = experiment.dataset_path
    if is_traces_spec(dataset_path):
        # A replay of recorded traffic, and a grader below, are imported only when asked for.
        from modelup.observe.label_free import label_free_workflow, replay_rules
        from modelup.observe.replay import dataset_from_traces

        spec = str(dataset_path)
        rules, source = select_rules(settings, workflow)
        workflow, label_free = label_free_workflow(workflow, spec)
        rules, skipped = replay_rules(rules, workflow, configured=source == "config")
        label_free = replace(label_free, skipped_rules=skipped)
        directory = experiment.runs_directory.parent / "datasets"
        dataset_path = dataset_from_traces(spec, workflow, settings.store_url, directory)
    dataset = load_dataset(dataset_path, workflow)
    targets = plan_targets(settings)
    if label_free is None:
        rules, source = select_rules(settings, workflow)
    extra: tuple[str, ...] = ()
    if label_free is not None:
        from modelup.observe.label_free import AGREEMENT_FIGURE

        extra = (AGREEMENT_FIGURE,)
    grader = None
    if settings.grader.model is not None:
        from modelup.decide.grader import grader_figure_names
        from modelup.decide.grader_rules import check_grader_figures, with_grader_rules
        from modelup.evaluate.grader_setup import plan_grader

        grader = plan_grader(settings, workflow)
    if grader is not None:
        extra += tuple(grader_figure_names(grader))
        check_grader_figures(grader, workflow)
    if source == "config":
        # A replay of traces checks the rules it kept (label-free ones); a run, the declared.
        declared = rules if label_free is not None else tuple(settings.gate.rules)
        check_rules(declared, workflow, dataset, extra_figures=extra)
        check_prices(declared, targets)
    elif source == "workflow":
        where = f"workflow {workflow.name!r} gate_rules"
        declared = rules if label_free is not None else workflow.gate_rules
        check_rules(declared, workflow, dataset, where=where, extra_figures=extra)
        check_prices(declared, targets, where=where)
    if source == "promotion" or (source == "workflow" and workflow.gate_extends_promotion):
        where = "promotion.max_cost_regression_percent"
        check_prices(promotion_policy(settings.promotion), targets, where=where, indexed=False)
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
        label_free,
        grader,
    )


def plan_clients(plan: RunPlan) -> list[ModelClient]:
    """The plan's bare clients, one per target (no cache, no journal)."""
    return make_clients(plan.settings, plan.workflow, plan.dataset, plan.targets)
