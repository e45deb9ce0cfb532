"""The grader of a run, from ``[grader]`` and the workflow: what it does, and its bare client.

The grader model is asked like any model under test: its ``[models."id"]`` settings merged with
``[llm]``, its ``[prices."id"]``, the same retries; in mock runs a simulated grader stands in for
it. The run session composes the same middleware (cache, journal) around its client.
"""

from __future__ import annotations

from modelup.config.endpoints import model_settings, public_endpoint
from modelup.config.settings import Settings
from modelup.errors import ConfigError, WorkflowError
from modelup.evaluate.grader_sim import SimulatedGrader
from modelup.evaluate.grading import GraderPlan, GraderTarget
from modelup.models.base import ModelClient
from modelup.models.configured import ConfiguredClients
from modelup.models.pricing import configured_price
from modelup.workflow.base import Workflow
from modelup.workflow.grader_spec import check_grader_fields, contract_fields


def plan_grader(settings: Settings, workflow: Workflow) -> GraderPlan | None:
    """The run's grader, or ``None`` when ``[grader] model`` is not set. A mode or field the
    workflow cannot support is a ``ConfigError`` naming the key."""
    grader = settings.grader
    if grader.model is None:
        return None
    spec = workflow.grader
    rubric = spec.rubric if spec is not None else ()
    mode = grader.mode or ("both" if rubric else "pairwise")
    if mode in ("rubric", "both") and not rubric:
        raise ConfigError(
            f"grader.mode: {mode!r} needs a rubric, and workflow {workflow.name!r} declares "
            "none (add [[grader.rubric]] criteria to the workflow file)"
        )
    fields = tuple(grader.fields) or (spec.fields if spec is not None else ())
    try:
        check_grader_fields(fields, workflow.contract, "grader.fields")
    except WorkflowError as exc:
        raise ConfigError(f"{exc} (workflow {workflow.name!r})") from None
    fields = fields or contract_fields(workflow.contract)
    if not fields:
        raise ConfigError(
            f"grader.fields: workflow {workflow.name!r} has no contract properties to read; "
            "name the fields the grader reads"
        )
    resolved = model_settings(settings, grader.model)
    mock = settings.experiment.use_mock_client
    target = GraderTarget(
        model=grader.model,
        endpoint="simulated" if mock else public_endpoint(resolved.base_url or ""),
        temperature=resolved.temperature or 0.0,
        max_tokens=resolved.max_tokens,
        seed=resolved.seed,
        extra=resolved.extra,
        price=configured_price(settings, grader.model),
    )
    return GraderPlan(
        target=target,
        pairwise=mode in ("pairwise", "both"),
        rubric=rubric if mode in ("rubric", "both") else (),
        fields=fields,
    )


def make_grader_client(settings: Settings, plan: GraderPlan) -> ModelClient:
    """The grader's bare client: the simulated grader in mock runs, else its endpoint."""
    if settings.experiment.use_mock_client:
        return SimulatedGrader(seed=settings.mock.seed)
    clients = ConfiguredClients(settings, max_connections=settings.experiment.concurrency)
    return clients.client(plan.target.model)
