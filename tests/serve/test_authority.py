"""The shell's authority over an answer: policy-owned fields, allowed action classes,
containment."""

from __future__ import annotations

from modelup.serve.authority import apply_authority
from modelup.workflow.catalog import get_workflow

AUTHORITY = get_workflow("incident-triage").authority
THIN = {"impact": "high", "sources": {"a": "x"}, "actions_allowed": False}
CALM = {"impact": "low", "sources": {"a": "x", "b": "y", "c": "z"}, "actions_allowed": False}


def answer(escalate: bool, steps: list[str]) -> dict[str, object]:
    return {"summary": "s", "escalation_required": escalate, "recommended_next_steps": steps}


def test_the_policy_value_stands_and_a_disagreement_is_an_override() -> None:
    decided, overrides = apply_authority(
        AUTHORITY, answer(False, ["inspect"]), THIN, contained=False
    )
    assert decided["escalation_required"] is True
    assert [(o.field, o.model_value, o.policy_value) for o in overrides] == [
        ("escalation_required", False, True)
    ]
    decided, overrides = apply_authority(
        AUTHORITY, answer(True, ["inspect"]), CALM, contained=False
    )
    assert decided["escalation_required"] is False and overrides[0].model_value is True


def test_a_non_boolean_from_the_model_is_overridden_too() -> None:
    odd = {**answer(True, ["inspect"]), "escalation_required": "true"}
    decided, overrides = apply_authority(AUTHORITY, odd, THIN, contained=False)
    assert decided["escalation_required"] is True and overrides[0].model_value == "true"


def test_only_allowed_action_classes_reach_the_operator() -> None:
    steps = ["restart the pods", "compare error rates", "page someone"]
    decided, overrides = apply_authority(AUTHORITY, answer(True, steps), THIN, contained=False)
    assert decided["recommended_next_steps"] == ["compare error rates", "page someone"]
    assert overrides[-1].model_value == ["restart the pods"]
    assert "write" in overrides[-1].why
    authorised = {**THIN, "actions_allowed": True}
    decided, overrides = apply_authority(
        AUTHORITY, answer(True, steps), authorised, contained=False
    )
    assert decided["recommended_next_steps"] == steps and overrides == []


def test_containment_forces_escalation_and_keeps_read_only_steps() -> None:
    steps = ["restart the pods", "compare error rates", "page someone"]
    authorised = {**CALM, "actions_allowed": True}
    decided, overrides = apply_authority(
        AUTHORITY, answer(False, steps), authorised, contained=True
    )
    assert decided["escalation_required"] is True
    assert decided["recommended_next_steps"] == ["compare error rates"]
    assert "contained" in overrides[0].why and "contained" in overrides[1].why


def test_when_no_step_may_be_shown_the_safe_default_steps_are() -> None:
    decided, overrides = apply_authority(
        AUTHORITY, answer(True, ["restart everything"]), THIN, contained=False
    )
    assert AUTHORITY.safe_default is not None
    assert decided["recommended_next_steps"] == AUTHORITY.safe_default["recommended_next_steps"]
    assert "safe default" in overrides[-1].why
