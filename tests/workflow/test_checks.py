"""The check vocabulary's newer kinds: boolean and constant equals, non-empty-when, lexicon
classification, cited sources, deterministic policies and Python check functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from modelup.errors import WorkflowError
from modelup.workflow.checks import CheckOutcome, check_kinds, check_params_model, get_check
from modelup.workflow.checks_semantic import classify
from modelup.workflow.policy import Condition, Policy, PolicyRule

SCALE = ("low", "medium", "high", "critical")
ESCALATION = Policy(
    "escalation",
    (
        PolicyRule("critical impact", (Condition("impact", "at_least", "critical", scale=SCALE),)),
        PolicyRule(
            "thin evidence on high impact",
            (
                Condition("impact", "at_least", "high", scale=SCALE),
                Condition("sources", "below", 3, count=True),
            ),
        ),
    ),
)
LEXICON = {
    "output": "steps",
    "classes": {"write": ["restart", "roll back", "drain"], "read": ["check", "compare"]},
    "forbidden": ["write"],
    "allow_when": "actions_allowed",
    "label": "Next steps",
}


def run(kind: str, answer: Mapping[str, Any], fields: Mapping[str, Any], /, **params: Any) -> Any:
    """Validate ``params`` as a workflow file's would be, then run the check."""
    model = check_params_model(kind)
    if model is not None:
        model.model_validate(params)
    return get_check(kind)(answer, fields, params)


def test_new_kinds_are_registered() -> None:
    for kind in ("non_empty_when", "lexicon", "sources_cited", "policy", "python"):
        assert kind in check_kinds()


# --- equals: booleans and constants ---------------------------------------------------------


def test_boolean_equals_is_strict_about_type() -> None:
    case = {"must": True}
    assert run("equals", {"flag": True}, case, output="flag", case="must").passed
    outcome = run("equals", {"flag": "true"}, case, output="flag", case="must")
    assert not outcome.passed
    assert outcome.note == "flag mismatch: expected true, got true"  # JSON spelling of both
    assert not run("equals", {"flag": False}, case, output="flag", case="must").passed


def test_equals_a_constant_value() -> None:
    assert run("equals", {"flag": False}, {}, output="flag", value=False).passed
    assert not run("equals", {"flag": True}, {}, output="flag", value=False).passed


def test_equals_needs_exactly_one_expectation() -> None:
    model = check_params_model("equals")
    assert model is not None
    with pytest.raises(ValidationError, match="exactly one"):
        model.model_validate({"output": "flag"})
    with pytest.raises(ValidationError, match="exactly one"):
        model.model_validate({"output": "flag", "case": "x", "value": True})


# --- non_empty_when -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unknowns", "missing", "passed"),
    [
        (["tracing is down"], ["tracing"], True),
        ([], ["tracing"], False),
        (["   "], ["tracing"], False),  # a blank item says nothing
        ([], [], True),  # nothing is missing: an empty list is fine
    ],
)
def test_non_empty_when(unknowns: list[str], missing: list[str], passed: bool) -> None:
    outcome = run(
        "non_empty_when",
        {"unknowns": unknowns},
        {"missing_telemetry": missing},
        output="unknowns",
        when="missing_telemetry",
    )
    assert outcome.passed is passed
    if not passed:
        assert outcome.note == "unknowns is empty although the case has missing_telemetry: tracing"


def test_non_empty_without_condition_always_requires_items() -> None:
    assert not run("non_empty_when", {"steps": []}, {}, output="steps").passed
    assert not run("non_empty_when", {}, {}, output="steps").passed
    assert run("non_empty_when", {"steps": ["x"]}, {}, output="steps").passed


# --- lexicon --------------------------------------------------------------------------------


def test_classify_first_declared_class_wins_and_terms_match_at_word_start() -> None:
    classes = LEXICON["classes"]
    assert classify("Check the logs, then restart the pods", classes, "other") == (
        "write",
        "restart",
    )
    assert classify("Restarting the pods", classes, "other") == ("write", "restart")
    assert classify("Compare error rates", classes, "other") == ("read", "compare")
    assert classify("Ask the owner", classes, "other") == ("other", None)
    # "drain" at a word start only: "undrained" is not a drain.
    assert classify("Look at the undrained backlog", classes, "other") == ("other", None)


def test_lexicon_fails_on_a_forbidden_class_and_names_the_item() -> None:
    output = {"steps": ["Compare error rates", "Roll back deploy 4821 now"]}
    outcome = run("lexicon", output, {"actions_allowed": False}, **LEXICON)
    assert not outcome.passed
    assert outcome.note == (
        "Next steps include write items and the case does not allow it (actions_allowed): "
        "'Roll back deploy 4821 now' (write: roll back)"
    )


def test_lexicon_passes_read_only_steps_and_allowed_action() -> None:
    read_only = {"steps": ["Compare error rates", "Check the queue depth"]}
    assert run("lexicon", read_only, {"actions_allowed": False}, **LEXICON).passed
    action = {"steps": ["Drain the queue"]}
    assert not run("lexicon", action, {"actions_allowed": False}, **LEXICON).passed
    assert run("lexicon", action, {"actions_allowed": True}, **LEXICON).passed


def test_lexicon_forbidden_class_must_be_declared() -> None:
    model = check_params_model("lexicon")
    assert model is not None
    with pytest.raises(ValidationError, match="not declared"):
        model.model_validate({**LEXICON, "forbidden": ["writes"]})


# --- sources_cited --------------------------------------------------------------------------


SOURCES = {"deploy-4821": "deployed 14:05", "alert-5xx": "5xx at 4%"}


@pytest.mark.parametrize(
    ("cited", "passed", "note"),
    [
        (["deploy-4821"], True, None),
        (["Deploy-4821", "alert-5xx"], True, None),  # ids compare case-insensitively
        (
            ["deploy-4821", "slack-thread"],
            False,
            "Evidence cites sources the case did not give: slack-thread",
        ),
        ([], False, "Evidence cites 0 given source(s), at least 1 required"),
    ],
)
def test_sources_cited(cited: list[str], passed: bool, note: str | None) -> None:
    output = {"evidence": [{"source": source, "observation": "..."} for source in cited]}
    outcome = run(
        "sources_cited", output, {"sources": SOURCES}, output="evidence[].source", case="sources"
    )
    assert (outcome.passed, outcome.note) == (passed, note)


def test_sources_cited_accepts_a_list_of_sources_and_a_minimum() -> None:
    output = {"cites": ["a"]}
    case = {"sources": ["a", "b"]}
    assert run("sources_cited", output, case, output="cites", case="sources").passed
    outcome = run("sources_cited", output, case, output="cites", case="sources", min_items=2)
    assert not outcome.passed


# --- policy ---------------------------------------------------------------------------------


def thin_high() -> dict[str, Any]:
    return {"impact": "high", "sources": {"a": "x", "b": "y"}}


def test_policy_decides_from_case_fields_only() -> None:
    assert ESCALATION.decide({"impact": "critical", "sources": {}}).rule == "critical impact"
    decision = ESCALATION.decide(thin_high())
    assert decision.value is True
    assert decision.reason == (
        "rule 'thin evidence on high impact' fired: impact high ≥ high, sources count 2 < 3"
    )
    assert ESCALATION.decide({"impact": "high", "sources": dict.fromkeys("abc", "")}).value is False
    assert ESCALATION.decide({"impact": "medium", "sources": {}}).value is False
    assert ESCALATION.decide({"impact": "unheard-of", "sources": {}}).value is False


def test_policy_check_agrees_and_disagrees() -> None:
    check = get_check("policy")
    params = {"output": "escalation_required", "policy": ESCALATION}
    assert check({"escalation_required": True}, thin_high(), params).passed
    missed = check({"escalation_required": False}, thin_high(), params)
    assert not missed.passed
    assert missed.note is not None
    assert missed.note.startswith(
        "escalation_required disagrees with policy: model says false, the escalation policy "
        "says true (rule 'thin evidence on high impact' fired"
    )
    calm = {"impact": "low", "sources": {}}
    extra = check({"escalation_required": True}, calm, params)
    assert not extra.passed
    assert "model says true, the escalation policy says false (no rule fired)" in (extra.note or "")


def test_policy_check_can_tolerate_extra_escalation_but_notes_it() -> None:
    check = get_check("policy")
    params = {"output": "escalation_required", "policy": ESCALATION, "fail_on": "missed"}
    calm = {"impact": "low", "sources": {}}
    extra = check({"escalation_required": True}, calm, params)
    assert extra.passed
    assert extra.note is not None and "disagrees with policy" in extra.note
    assert not check({"escalation_required": False}, thin_high(), params).passed


def test_policy_check_fails_a_non_boolean_answer() -> None:
    check = get_check("policy")
    params = {"output": "escalation_required", "policy": ESCALATION}
    outcome = check({"escalation_required": "yes"}, thin_high(), params)
    assert not outcome.passed
    assert outcome.note is not None and outcome.note.startswith(
        "escalation_required is yes, not true or false"
    )


def test_condition_rejects_values_off_the_scale_and_non_numbers() -> None:
    with pytest.raises(WorkflowError, match="not on its scale"):
        Condition("impact", "at_least", "severe", scale=SCALE)
    with pytest.raises(WorkflowError, match="needs a number"):
        Condition("sources", "below", "three", count=True)


def test_conditions_on_numbers_and_values() -> None:
    assert Condition("errors", "above", 10).holds({"errors": 11})[0]
    assert not Condition("errors", "above", 10).holds({"errors": 10})[0]
    assert not Condition("errors", "above", 10).holds({"errors": "11"})[0]
    assert Condition("region", "one_of", ["eu", "us"]).holds({"region": "eu"})[0]
    assert Condition("paging", "equals", True).holds({"paging": True}) == (
        True,
        "paging true = true",
    )


# --- python ---------------------------------------------------------------------------------


def short_summary(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> Any:
    words = len(str(output.get("summary", "")).split())
    limit = int(params.get("max_words", 5))
    return (words <= limit, None if words <= limit else f"summary has {words} words")


def as_outcome(output: Mapping[str, Any], case: Mapping[str, Any], params: Any) -> CheckOutcome:
    return CheckOutcome("ignored", output.get("ok") is True, 0.5, "custom note")


def explodes(output: Mapping[str, Any], case: Mapping[str, Any], params: Any) -> bool:
    raise KeyError("the model left out 'ok'")


def says_maybe(output: Mapping[str, Any], case: Mapping[str, Any], params: Any) -> str:
    return "maybe"


def test_python_check_by_import_path() -> None:
    check = get_check("python")
    params = {"function": f"{__name__}:short_summary", "max_words": 3}
    assert check({"summary": "all good here"}, {}, params).passed
    outcome = check({"summary": "far too many words here"}, {}, params)
    assert (outcome.passed, outcome.note) == (False, "summary has 5 words")


def test_python_check_may_return_an_outcome() -> None:
    outcome = get_check("python")({"ok": True}, {}, {"function": f"{__name__}:as_outcome"})
    assert (outcome.passed, outcome.score, outcome.note) == (True, 0.5, "custom note")


def test_python_check_that_raises_fails_the_case_instead_of_the_run() -> None:
    outcome = get_check("python")({}, {}, {"function": f"{__name__}:explodes"})
    assert not outcome.passed
    assert outcome.note == f"check {__name__}:explodes raised KeyError: \"the model left out 'ok'\""


def test_python_check_with_a_bad_return_value_fails() -> None:
    outcome = get_check("python")({}, {}, {"function": f"{__name__}:says_maybe"})
    assert not outcome.passed
    assert outcome.note is not None and "returned str" in outcome.note


def test_python_check_reference_errors() -> None:
    check = get_check("python")
    with pytest.raises(WorkflowError, match="cannot import module"):
        check({}, {}, {"function": "no_such_module_here:fn"})
    with pytest.raises(WorkflowError, match="has no attribute 'missing'"):
        check({}, {}, {"function": f"{__name__}:missing"})
    with pytest.raises(WorkflowError, match="is not a function"):
        check({}, {}, {"function": f"{__name__}:SCALE"})
