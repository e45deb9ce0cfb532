"""Planning a run: what is refused before any model is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelup.config.loading import load_settings
from modelup.config.settings import Settings
from modelup.errors import ConfigError
from modelup.session.plan import plan_clients, plan_run


def settings(dataset: Path, **llm: object) -> Settings:
    return load_settings(
        None, {"experiment": {"dataset_path": dataset, "use_mock_client": True}, "llm": llm}
    )


def test_the_baseline_cannot_also_be_a_candidate(support_ops_dataset: Path) -> None:
    with pytest.raises(ConfigError, match="is also the baseline"):
        plan_run(settings(support_ops_dataset, baseline_model_id="a", candidate_model_id="a"))


def test_unknown_workflow_is_a_config_error(support_ops_dataset: Path) -> None:
    flags = {"experiment": {"dataset_path": support_ops_dataset, "workflow": "nope"}}
    with pytest.raises(ConfigError, match=r"experiment\.workflow: unknown workflow 'nope'"):
        plan_run(load_settings(None, flags))


def test_unknown_mock_profile_names_the_key(support_ops_dataset: Path) -> None:
    flags = {
        "experiment": {"dataset_path": support_ops_dataset, "use_mock_client": True},
        "mock": {"candidate_profile": "reckless"},
    }
    plan = plan_run(load_settings(None, flags))
    with pytest.raises(ConfigError, match=r"mock\.candidate_profile: unknown profile 'reckless'"):
        plan_clients(plan)


def test_plan_orders_baseline_then_candidates(support_ops_dataset: Path) -> None:
    plan = plan_run(
        settings(support_ops_dataset, baseline_model_id="b", candidate_model_id=["c1", "c2"])
    )
    assert [(t.role, t.model) for t in plan.targets] == [
        ("baseline", "b"),
        ("candidate", "c1"),
        ("candidate", "c2"),
    ]
    assert [rule.figure for rule in plan.rules][:3] == [
        "safety_pass_rate",
        "structured_output_rate",
        "pass_rate",
    ]
