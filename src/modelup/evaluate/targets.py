"""The models a run replays: the baseline first, then every candidate, each as it is asked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from modelup.config.endpoints import model_settings, public_endpoint
from modelup.config.settings import Settings
from modelup.errors import ConfigError
from modelup.models.pricing import Price, configured_price

Role = Literal["baseline", "candidate"]


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """One model to replay: who it is in the comparison, how it is asked, what it costs."""

    role: Role
    model: str
    endpoint: str
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    price: Price | None = None
    """USD per million tokens, when the configuration knows it."""
    expect_resolved: str | None = None
    """The model the endpoint is expected to answer as, when not the requested id: an exact
    name or a glob pattern (``[models."id"] expect_resolved``)."""


def plan_targets(settings: Settings) -> tuple[ModelTarget, ...]:
    """The baseline, then each candidate, with its merged per-model settings and price."""
    llm = settings.llm
    if llm.baseline_model_id in llm.candidate_model_ids:
        raise ConfigError(f"llm.candidate_model_id: {llm.baseline_model_id!r} is also the baseline")
    roles: list[tuple[Role, str]] = [("baseline", llm.baseline_model_id)]
    roles += [("candidate", model) for model in llm.candidate_model_ids]
    return tuple(_target(settings, role, model) for role, model in roles)


def _target(settings: Settings, role: Role, model: str) -> ModelTarget:
    resolved = model_settings(settings, model)
    mock = settings.experiment.use_mock_client
    return ModelTarget(
        role=role,
        model=model,
        endpoint="simulated" if mock else public_endpoint(resolved.base_url or ""),
        temperature=resolved.temperature or 0.0,
        max_tokens=resolved.max_tokens,
        seed=resolved.seed,
        extra=resolved.extra,
        price=configured_price(settings, model),
        expect_resolved=resolved.expect_resolved,
    )
