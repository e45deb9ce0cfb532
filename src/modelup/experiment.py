"""One run from settings to report: plan it, build the clients, replay, score, decide.

The CLI is a thin shell over ``plan_run`` and ``execute``; library users call them directly.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from modelup.clients.base import ModelClient
from modelup.clients.openai import OpenAICompatibleClient, RetryPolicy
from modelup.clients.simulated import SimulatedModelClient
from modelup.config import Settings
from modelup.dataset import Dataset, load_dataset
from modelup.errors import ConfigError, WorkflowError
from modelup.gate import GateRule, seed_policy
from modelup.report.build import build_report
from modelup.report.schema import Report
from modelup.runner import ModelTarget, ProgressCallback, Role, replay
from modelup.scoring import Scorer
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
    endpoint = "simulated" if experiment.use_mock_client else llm.base_url
    roles: list[tuple[Role, str]] = [("baseline", llm.baseline_model_id)]
    roles += [("candidate", model) for model in llm.candidate_model_ids]
    if llm.baseline_model_id in llm.candidate_model_ids:
        raise ConfigError(f"llm.candidate_model_id: {llm.baseline_model_id!r} is also the baseline")
    targets = tuple(
        ModelTarget(
            role=role,
            model=model,
            endpoint=endpoint,
            temperature=llm.temperature,
            max_tokens=llm.max_tokens,
            seed=llm.seed,
        )
        for role, model in roles
    )
    promotion = settings.promotion
    rules = seed_policy(
        max_pass_rate_regression=promotion.max_pass_rate_regression,
        max_structured_output_regression=promotion.max_structured_output_regression,
        max_safety_regression=promotion.max_safety_regression,
        max_p95_latency_regression_percent=promotion.max_p95_latency_regression_percent,
        min_quality_score_improvement=promotion.min_quality_score_improvement,
    )
    return RunPlan(settings, workflow, dataset, targets, rules)


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
    llm = settings.llm
    api_key = settings.api_key()
    retry = RetryPolicy(attempts=llm.max_attempts)
    return [
        OpenAICompatibleClient(
            llm.base_url,
            api_key=api_key,
            connect_timeout_s=llm.connect_timeout_s,
            read_timeout_s=llm.read_timeout_s,
            retry=retry,
            max_connections=settings.experiment.concurrency,
        )
        for _ in plan.targets
    ]


async def execute(
    plan: RunPlan,
    clients: list[ModelClient],
    *,
    on_result: ProgressCallback | None = None,
) -> Report:
    """Replay the plan with ``clients`` (closed afterwards) and build the report."""
    started = datetime.now(UTC)
    scorer = Scorer(plan.workflow)
    try:
        results = await replay(
            plan.dataset,
            scorer,
            list(zip(plan.targets, clients, strict=True)),
            concurrency=plan.settings.experiment.concurrency,
            epochs=plan.settings.experiment.epochs,
            on_result=on_result,
        )
    finally:
        for client in clients:
            await client.aclose()
    finished = datetime.now(UTC)
    return build_report(
        run_id=f"{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}",
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
    )


def run(plan: RunPlan, *, on_result: ProgressCallback | None = None) -> Report:
    """``execute`` with fresh clients, from synchronous code."""
    return asyncio.run(execute(plan, make_clients(plan), on_result=on_result))
