"""The bare model clients of a run: simulated profiles in mock mode, live endpoints otherwise.

Middleware (cache, journal) is composed around these by the run session.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelup.config.settings import Settings
from modelup.errors import ConfigError, WorkflowError
from modelup.evaluate.dataset import Dataset
from modelup.evaluate.targets import ModelTarget
from modelup.models.base import ModelClient
from modelup.models.configured import ConfiguredClients
from modelup.models.simulated import SimulatedModelClient
from modelup.workflow.base import Workflow


def make_clients(
    settings: Settings, workflow: Workflow, dataset: Dataset, targets: Sequence[ModelTarget]
) -> list[ModelClient]:
    """One client per target, in target order. Live targets with the same endpoint, key and
    timeouts share one client, hence its keep-alive connections."""
    if settings.experiment.use_mock_client:
        return _simulated(settings, workflow, dataset, targets)
    clients = ConfiguredClients(settings, max_connections=settings.experiment.concurrency)
    return [clients.client(target.model) for target in targets]


def _simulated(
    settings: Settings, workflow: Workflow, dataset: Dataset, targets: Sequence[ModelTarget]
) -> list[ModelClient]:
    mock = settings.mock
    simulator = workflow.simulator
    if simulator is None:
        raise ConfigError(
            f"experiment.use_mock_client: workflow {workflow.name!r} has no simulated models"
        )
    profiles = {**simulator.profiles, **mock.profiles}
    clients: list[ModelClient] = []
    for target in targets:
        key = f"{target.role}_profile"
        name = mock.models.get(target.model, getattr(mock, key))
        if name not in profiles:
            known = ", ".join(sorted(profiles))
            raise ConfigError(f"mock.{key}: unknown profile {name!r} (known: {known})")
        try:
            clients.append(
                SimulatedModelClient(workflow, dataset.cases, profiles[name], seed=mock.seed)
            )
        except WorkflowError as exc:
            raise ConfigError(f"mock.profiles.{name}: {exc}") from None
    return clients
