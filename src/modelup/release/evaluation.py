"""The evaluation a release runs: a modelup run built from the record's evaluation, checked
against the record before any call (``check_plan``), and an existing report checked against it
before it is attached (``check_report``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from modelup.config.loading import load_settings
from modelup.config.rules import GateRule
from modelup.config.settings import ModelSettings, Settings
from modelup.config.store_url import StoreUrl
from modelup.errors import ConfigError, ReleaseError
from modelup.release.record import ReleaseRecord
from modelup.report.schema import Report
from modelup.session.plan import RunPlan, plan_run


def evaluation_settings(record: ReleaseRecord, store: StoreUrl) -> Settings:
    """The settings of the release's evaluation, with the ``MODELUP_`` environment over them
    (an API key's variable, an endpoint), recording its run in the release's own store."""
    url = store.conninfo if store.engine == "postgresql" else str(_absolute(store))
    flags = {"store": {"url": url}}
    if isinstance(record.evaluation, str):
        settings = load_settings(Path(record.evaluation), flags)
    else:
        settings = load_settings(flags=flags, config_data=record.evaluation)
    return _expecting_aliases(record, settings)


def _expecting_aliases(record: ReleaseRecord, settings: Settings) -> Settings:
    """The record's ``alias_resolution`` is what the evaluation's gate expects each model to
    resolve to (``[models."id"] expect_resolved``), unless the evaluation says so itself: an
    alias the release declares is not identity drift."""
    models = dict(settings.models)
    for requested in record.alias_resolution:
        own = models.get(requested) or ModelSettings()
        if own.expect_resolved is None:
            expected = record.expected_alias(requested).model
            models[requested] = own.model_copy(update={"expect_resolved": expected})
    return settings.model_copy(update={"models": models})


def _absolute(store: StoreUrl) -> Path:
    assert store.path is not None  # a SQLite store always has its file
    return store.path.resolve()


def plan_evaluation(record: ReleaseRecord, settings: Settings, source: str) -> RunPlan:
    """Plan the evaluation (no model is called) and check it against the record."""
    plan = plan_run(settings)
    check_plan(record, plan, source)
    return plan


def check_plan(record: ReleaseRecord, plan: RunPlan, source: str) -> None:
    """The evaluation must compare ``previous_model`` (its baseline) with ``candidate_model``
    (one of its candidates), and the record's figures and gate subsets must exist; every
    problem is a ``ConfigError`` naming the key."""
    if plan.baseline.model != record.previous_model:
        raise ConfigError(
            f"{source}: previous_model is {record.previous_model!r} but the evaluation's "
            f"baseline is {plan.baseline.model!r}"
        )
    candidates = [target.model for target in plan.candidates]
    if record.candidate_model not in candidates:
        raise ConfigError(
            f"{source}: candidate_model {record.candidate_model!r} is not a candidate of the "
            f"evaluation ({', '.join(candidates)})"
        )
    figures = set(plan.workflow.figures)
    subsets = {subset for case in plan.dataset.cases for subset in case.subsets}
    for index, delta in enumerate(record.expected_deltas):
        if delta.figure not in figures:
            raise ConfigError(
                f"{source}: expected_deltas[{index}].figure: {delta.figure!r} is not a figure "
                f"of workflow {plan.workflow.name!r} ({', '.join(plan.workflow.figures)})"
            )
    for name, gate_class in record.gate_classes.entries():
        if name not in figures and name not in subsets:
            raise ConfigError(
                f"{source}: gate_classes.{gate_class}: {name!r} is neither a figure of workflow "
                f"{plan.workflow.name!r} nor a gate subset of the dataset "
                f"(subsets: {', '.join(sorted(subsets)) or 'none'})"
            )


def check_report(record: ReleaseRecord, plan: RunPlan, report: Report, path: Path) -> None:
    """An existing report may stand as the release's evidence only if it is the evaluation
    the release declares: the same workflow and version, models, dataset, prompt and gate
    rules. Anything else is a ``ReleaseError`` naming what differs."""
    problems = []
    workflow = plan.workflow
    if (report.workflow.name, report.workflow.version) != (workflow.name, workflow.version):
        problems.append(
            f"workflow {report.workflow.name} v{report.workflow.version}, the release's "
            f"evaluation runs {workflow.name} v{workflow.version}"
        )
    if report.baseline.requested_model != record.previous_model:
        problems.append(
            f"baseline {report.baseline.requested_model}, the release's previous_model is "
            f"{record.previous_model}"
        )
    reported = [model.requested_model for model in report.candidates]
    if record.candidate_model not in reported:
        problems.append(
            f"candidates {', '.join(reported)}, the release's candidate_model is "
            f"{record.candidate_model}"
        )
    if report.dataset.sha256 != plan.dataset.sha256:
        problems.append(
            f"dataset sha256 {report.dataset.sha256[:12]}, the release's evaluation has "
            f"{plan.dataset.sha256[:12]} ({plan.dataset.path})"
        )
    if report.prompt.sha256 != workflow.prompt.sha256:
        problems.append(
            f"prompt {report.prompt.id} sha256 {report.prompt.sha256[:12]}, the release's "
            f"evaluation has {workflow.prompt.id} sha256 {workflow.prompt.sha256[:12]}"
        )
    decision = next(
        (d for d in report.decisions if d.candidate == record.candidate_model), report.decision
    )
    if _rule_keys(decision.rules) != _rule_keys(plan.rules):
        problems.append("gate rules that differ from the release's evaluation")
    if problems:
        raise ReleaseError(
            f"{path}: this report is not the release's evaluation: it has " + "; ".join(problems)
        )


def _rule_keys(rules: Sequence[GateRule]) -> list[tuple[object, ...]]:
    return [
        (
            rule.figure,
            rule.comparison,
            rule.threshold,
            rule.authority,
            rule.subset,
            rule.family,
            rule.require_significance,
        )
        for rule in rules
    ]
