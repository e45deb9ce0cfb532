"""The grader of a run from ``[grader]`` and the workflow: modes, fields, the model's own
settings and price, and the client (simulated in mock runs)."""

from __future__ import annotations

import pytest

from modelup.config.settings import Settings
from modelup.errors import ConfigError
from modelup.evaluate.grader_setup import make_grader_client, plan_grader
from modelup.evaluate.grader_sim import SimulatedGrader
from modelup.models.openai import OpenAICompatibleClient
from modelup.models.pricing import Price
from modelup.workflow.catalog import get_workflow

SUPPORT_OPS = get_workflow("support-ops")
INCIDENT_TRIAGE = get_workflow("incident-triage")


def settings(**grader: object) -> Settings:
    return Settings.model_validate(
        {
            "experiment": {"use_mock_client": False},
            "llm": {"base_url": "http://127.0.0.1:9/v1", "temperature": 0.3},
            "grader": grader,
            "models": {"judge": {"base_url": "https://judge.example/v1", "seed": 5}},
            "prices": {"judge": {"input_per_million": 2.0, "output_per_million": 8.0}},
        }
    )


def test_no_model_no_grader() -> None:
    assert plan_grader(settings(), SUPPORT_OPS) is None


def test_the_grader_is_asked_with_its_own_settings_and_price() -> None:
    plan = plan_grader(settings(model="judge"), SUPPORT_OPS)
    assert plan is not None
    target = plan.target
    assert (target.model, target.endpoint, target.seed) == ("judge", "https://judge.example/v1", 5)
    assert target.temperature == 0.3  # from [llm], as for any model
    assert target.price == Price(2.0, 8.0)


def test_the_mode_defaults_to_both_with_a_rubric_else_pairwise() -> None:
    both = plan_grader(settings(model="judge"), SUPPORT_OPS)
    assert both is not None and both.modes == ("pairwise", "rubric")
    assert [c.name for c in both.rubric][:1] == ["reply_helpfulness"]
    only = plan_grader(settings(model="judge"), INCIDENT_TRIAGE)
    assert only is not None and only.modes == ("pairwise",)
    rubric = plan_grader(settings(model="judge", mode="rubric"), SUPPORT_OPS)
    assert rubric is not None and rubric.modes == ("rubric",)


def test_a_rubric_the_workflow_does_not_declare_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"grader.mode: 'both' needs a rubric.*incident-triage"):
        plan_grader(settings(model="judge", mode="both"), INCIDENT_TRIAGE)


def test_fields_come_from_the_configuration_the_workflow_or_the_contract() -> None:
    configured = plan_grader(settings(model="judge", fields=["summary"]), SUPPORT_OPS)
    assert configured is not None and configured.fields == ("summary",)
    declared = plan_grader(settings(model="judge"), SUPPORT_OPS)
    assert declared is not None and "customer_reply" in declared.fields
    assert "tool_calls" not in declared.fields
    every = plan_grader(settings(model="judge"), INCIDENT_TRIAGE)
    assert every is not None and every.fields == tuple(INCIDENT_TRIAGE.contract["properties"])


def test_a_field_outside_the_contract_is_named() -> None:
    with pytest.raises(ConfigError, match=r"grader.fields\[1\]: 'reply' is not a field"):
        plan_grader(settings(model="judge", fields=["summary", "reply"]), SUPPORT_OPS)


def test_the_client_is_the_endpoint_live_and_simulated_in_mock_runs() -> None:
    live = settings(model="judge")
    plan = plan_grader(live, SUPPORT_OPS)
    assert plan is not None
    client = make_grader_client(live, plan)
    assert isinstance(client, OpenAICompatibleClient)
    assert client.base_url == "https://judge.example/v1"
    mock = live.model_copy(
        update={"experiment": live.experiment.model_copy(update={"use_mock_client": True})}
    )
    assert isinstance(make_grader_client(mock, plan), SimulatedGrader)
    mocked = plan_grader(mock, SUPPORT_OPS)
    assert mocked is not None and mocked.target.endpoint == "simulated"
