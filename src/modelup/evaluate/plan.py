"""One run from settings to report: plan it, build the clients, replay, score, decide.

The CLI is a thin shell over ``plan_run`` and ``execute``; library users call them directly.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from modelup.config.settings import ModelSettings, Settings
from modelup.decide.gate import GateRule
from modelup.decide.paired import StatisticsSettings
from modelup.decide.rules import check_rules, select_rules, statistics_settings
from modelup.errors import ConfigError, WorkflowError
from modelup.evaluate.dataset import Dataset, load_dataset
from modelup.evaluate.replay import ModelTarget, ProgressCallback, Recording, Role, replay_to
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.base import ModelClient
from modelup.models.cache import public_endpoint
from modelup.models.journal import Journal, SavedRun, load_run, restore_settings
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
from modelup.models.pricing import Price
from modelup.models.simulated import SimulatedModelClient
from modelup.report.build import build_report
from modelup.report.schema import Report
from modelup.report.stream import CaseSpool, Slimmer, SpooledReport, case_bytes
from modelup.store.cache import ResponseCache
from modelup.workflow.base import Workflow
from modelup.workflow.registry import get_workflow


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
    llm = settings.llm
    roles: list[tuple[Role, str]] = [("baseline", llm.baseline_model_id)]
    roles += [("candidate", model) for model in llm.candidate_model_ids]
    if llm.baseline_model_id in llm.candidate_model_ids:
        raise ConfigError(f"llm.candidate_model_id: {llm.baseline_model_id!r} is also the baseline")
    targets = tuple(_target(settings, role, model) for role, model in roles)
    rules, source = select_rules(settings, workflow)
    rules = _skip_unpriced_cost(rules, targets)
    if source == "config":
        check_rules(rules, workflow, dataset)
    elif source == "workflow":
        check_rules(rules, workflow, dataset, where=f"workflow {workflow.name!r} gate_rules")
    return RunPlan(
        settings, workflow, dataset, targets, rules, source, statistics_settings(settings.gate)
    )


def model_settings(settings: Settings, model: str) -> ModelSettings:
    """``model``'s own ``[models."id"]`` settings with every key it leaves out taken from
    ``[llm]`` (request parameters: ``llm.extra`` updated with the model's ``extra``)."""
    llm = settings.llm
    own = settings.models.get(model) or ModelSettings()
    own_key = own.api_key is not None or own.api_key_env is not None
    return ModelSettings(
        base_url=own.base_url or llm.base_url,
        api_key=own.api_key if own_key else llm.api_key,
        api_key_env=own.api_key_env if own_key else llm.api_key_env,
        temperature=llm.temperature if own.temperature is None else own.temperature,
        max_tokens=llm.max_tokens if own.max_tokens is None else own.max_tokens,
        seed=llm.seed if own.seed is None else own.seed,
        connect_timeout_s=own.connect_timeout_s or llm.connect_timeout_s,
        read_timeout_s=own.read_timeout_s or llm.read_timeout_s,
        max_attempts=own.max_attempts or llm.max_attempts,
        extra={**llm.extra, **own.extra},
    )


def _target(settings: Settings, role: Role, model: str) -> ModelTarget:
    resolved = model_settings(settings, model)
    price = settings.prices.get(model)
    mock = settings.experiment.use_mock_client
    return ModelTarget(
        role=role,
        model=model,
        endpoint="simulated" if mock else public_endpoint(resolved.base_url or ""),
        temperature=resolved.temperature or 0.0,
        max_tokens=resolved.max_tokens,
        seed=resolved.seed,
        extra=resolved.extra,
        price=Price(price.input_per_million, price.output_per_million) if price else None,
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
        replace(rule, authority="signal", name=f"{rule.title} ({note})")
        if rule.figure == "cost_usd" and rule.authority != "signal"
        else rule
        for rule in rules
    )


def make_clients(plan: RunPlan) -> list[ModelClient]:
    """One client per target: simulated profiles in mock mode, the live endpoint otherwise."""
    settings = plan.settings
    if settings.experiment.use_mock_client:
        mock = settings.mock
        simulator = plan.workflow.simulator
        if simulator is None:
            raise ConfigError(
                f"experiment.use_mock_client: workflow {plan.workflow.name!r} "
                "has no simulated models"
            )
        profiles = {**simulator.profiles, **mock.profiles}
        clients: list[ModelClient] = []
        for target in plan.targets:
            key = f"{target.role}_profile"
            name = mock.models.get(target.model, getattr(mock, key))
            if name not in profiles:
                known = ", ".join(sorted(profiles))
                raise ConfigError(f"mock.{key}: unknown profile {name!r} (known: {known})")
            try:
                clients.append(
                    SimulatedModelClient(
                        plan.workflow, plan.dataset.cases, profiles[name], seed=mock.seed
                    )
                )
            except WorkflowError as exc:
                raise ConfigError(f"mock.profiles.{name}: {exc}") from None
        return clients
    # Targets with the same endpoint, key and timeouts share a client, hence its keep-alive
    # connections; the runner bounds the calls in flight per endpoint.
    shared: dict[tuple[object, ...], ModelClient] = {}
    live: list[ModelClient] = []
    for target in plan.targets:
        resolved = model_settings(settings, target.model)
        api_key = settings.api_key(target.model)
        timeouts = (resolved.connect_timeout_s or 10.0, resolved.read_timeout_s or 120.0)
        attempts = resolved.max_attempts or 4
        identity = (resolved.base_url, api_key, timeouts, attempts)
        if identity not in shared:
            shared[identity] = OpenAICompatibleClient(
                resolved.base_url or "",
                api_key=api_key,
                connect_timeout_s=timeouts[0],
                read_timeout_s=timeouts[1],
                retry=RetryPolicy(attempts=attempts),
                max_connections=settings.experiment.concurrency,
            )
        live.append(shared[identity])
    return live


def new_run_id(started_at: datetime) -> str:
    """``<UTC time>-<random hex>``: sortable, unique, and safe as a directory name."""
    return f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def open_recording(
    plan: RunPlan, run_id: str, started_at: datetime, saved: SavedRun | None = None
) -> Recording:
    """For a live run: the response cache (unless disabled) and the run's journal, new or, for
    a resumed run, reopened. Mock runs record nothing: their answers cost nothing to redo."""
    if plan.client_kind == "mock":
        return Recording()
    settings = plan.settings
    cache = None
    if settings.cache.enabled:
        cache = ResponseCache(settings.cache.path, refresh=settings.cache.refresh)
    runs = settings.experiment.runs_directory
    if saved is not None:
        journal = Journal(runs / saved.run_id)
    else:
        journal = Journal.create(
            runs,
            run_id=run_id,
            started_at=started_at,
            settings=settings.redacted(),
            dataset_sha256=plan.dataset.sha256,
            models=tuple(target.model for target in plan.targets),
        )
    return Recording(cache, journal, saved.outcomes if saved is not None else {})


def close_recording(recording: Recording) -> None:
    if recording.cache is not None:
        recording.cache.close()
    if recording.journal is not None:
        recording.journal.close()


def resume_plan(current: Settings, run_id: str) -> tuple[RunPlan, SavedRun]:
    """The plan of a stopped run, from its checkpoint; the dataset must be unchanged."""
    saved = load_run(current.experiment.runs_directory, run_id)
    plan = plan_run(restore_settings(saved, current))
    if plan.dataset.sha256 != saved.dataset_sha256:
        raise ConfigError(
            f"--resume: {plan.dataset.path} changed since run {run_id} started "
            f"(sha256 {plan.dataset.sha256[:12]}, was {saved.dataset_sha256[:12]})"
        )
    if tuple(target.model for target in plan.targets) != saved.models:
        raise ConfigError(f"--resume: run {run_id} was planned for other models")
    return plan, saved


async def execute(
    plan: RunPlan,
    clients: list[ModelClient],
    *,
    on_result: ProgressCallback | None = None,
    recording: Recording | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
) -> Report:
    """Replay the plan with ``clients`` (closed afterwards) and build the report, every case
    in memory. ``recording`` caches and journals the calls (see ``open_recording``); a resumed
    run passes its original ``run_id`` and ``started_at``. For a large run, use
    ``execute_spooled`` and write the report from the spool."""
    spooled = await execute_spooled(
        plan,
        clients,
        on_result=on_result,
        recording=recording,
        run_id=run_id,
        started_at=started_at,
    )
    with spooled:
        return spooled.full()


async def execute_spooled(
    plan: RunPlan,
    clients: list[ModelClient],
    *,
    on_result: ProgressCallback | None = None,
    recording: Recording | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
    spool_directory: Path | None = None,
) -> SpooledReport:
    """``execute`` in memory independent of the number of cases: each case record goes to a
    temporary spool (in ``spool_directory``, default the system's temporary directory) as it
    arrives, and only slim results are kept for the figures and statistics. Write the report
    with ``SpooledReport.write`` and close it to delete the spool."""
    started = started_at or datetime.now(UTC)
    scorer = Scorer(plan.workflow)
    epochs = max(1, plan.settings.experiment.epochs)
    trials = len(plan.dataset.cases) * epochs
    prices = [target.price for target in plan.targets]
    spool = CaseSpool(len(plan.targets), trials, spool_directory)
    slim: list[list[CaseResult | None]] = [[None] * trials for _ in plan.targets]
    slim_result = Slimmer()

    def keep(index: int, position: int, result: CaseResult) -> None:
        spool.add(index, position, case_bytes(result, prices[index]))
        slim[index][position] = slim_result(result)

    try:
        try:
            await replay_to(
                plan.dataset,
                scorer,
                list(zip(plan.targets, clients, strict=True)),
                keep,
                concurrency=plan.settings.experiment.concurrency,
                epochs=epochs,
                on_result=on_result,
                recording=recording,
            )
        finally:
            for client in {id(client): client for client in clients}.values():
                await client.aclose()
        finished = datetime.now(UTC)
        results = [_every(per_target) for per_target in slim]
        head = build_report(
            run_id=run_id or new_run_id(started),
            tool_version=tool_version(),
            started_at=started,
            finished_at=finished,
            mode=plan.settings.experiment.mode,
            client=plan.client_kind,
            workflow=plan.workflow,
            dataset=plan.dataset,
            config=plan.settings.redacted(),
            targets=plan.targets,
            results=results,
            rules=plan.rules,
            statistics=plan.statistics,
            with_cases=False,
        )
    except BaseException:
        spool.close()
        raise
    return SpooledReport(head, spool, results)


def _every(results: list[CaseResult | None]) -> list[CaseResult]:
    if any(result is None for result in results):
        raise AssertionError("a case finished without a result")
    return [result for result in results if result is not None]


def run(plan: RunPlan, *, on_result: ProgressCallback | None = None) -> Report:
    """``execute`` with fresh clients, from synchronous code."""
    return asyncio.run(execute(plan, make_clients(plan), on_result=on_result))
