"""Parsing into the contract: strict validity, recorded repairs, and hostile text."""

from __future__ import annotations

import asyncio
import json

import pytest

from modelup import ScriptedClient
from modelup.config.loading import load_settings
from modelup.errors import WorkflowError
from modelup.session.execute import execute
from modelup.session.plan import plan_run
from modelup.workflow.contract import REPAIR_CODE_FENCE, REPAIR_PROSE, Contract
from support.live_support import SUPPORT_OPS_DATASET

SCHEMA = {
    "type": "object",
    "required": ["category", "should_refuse"],
    "properties": {"category": {"type": "string"}, "should_refuse": {"type": "boolean"}},
}
GOOD = {"category": "incident", "should_refuse": False}


@pytest.fixture
def contract() -> Contract:
    return Contract(SCHEMA)


def test_strict_json_is_strictly_valid(contract: Contract) -> None:
    outcome = contract.parse(json.dumps(GOOD))
    assert outcome.strict_valid and outcome.valid
    assert outcome.output == GOOD
    assert outcome.repairs == ()


def test_code_fence_is_a_recorded_repair(contract: Contract) -> None:
    outcome = contract.parse(f"```json\n{json.dumps(GOOD)}\n```")
    assert outcome.valid and not outcome.strict_valid
    assert outcome.repairs == (REPAIR_CODE_FENCE,)
    assert outcome.output == GOOD


def test_prose_around_json_is_a_recorded_repair(contract: Contract) -> None:
    outcome = contract.parse(f"Sure! Here it is: {json.dumps(GOOD)} Hope that helps.")
    assert outcome.valid and not outcome.strict_valid
    assert outcome.repairs == (REPAIR_PROSE,)


def test_schema_violation_is_invalid_and_explained(contract: Contract) -> None:
    outcome = contract.parse(json.dumps({"category": "incident", "should_refuse": "no"}))
    assert not outcome.valid and not outcome.strict_valid
    assert outcome.output is None
    assert any("should_refuse" in error for error in outcome.errors)


def test_missing_field_is_invalid(contract: Contract) -> None:
    outcome = contract.parse(json.dumps({"category": "incident"}))
    assert not outcome.valid
    assert any("should_refuse" in error for error in outcome.errors)


@pytest.mark.parametrize(
    "raw",
    ["", "I cannot help with that.", "[1, 2]", '"just a string"', "{" * 5000, "null"],
)
def test_non_objects_never_crash(contract: Contract, raw: str) -> None:
    outcome = contract.parse(raw)
    assert not outcome.valid and outcome.output is None
    assert outcome.errors


def test_deeply_nested_json_does_not_crash(contract: Contract) -> None:
    outcome = contract.parse("[" * 100_000 + "]" * 100_000)
    assert not outcome.valid


def test_invalid_schema_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowError, match="not a valid JSON Schema"):
        Contract({"type": "no-such-type"})


@pytest.mark.parametrize("depth", [300, 600, 900])
def test_an_answer_nested_too_deep_is_invalid_not_a_crash(contract: Contract, depth: int) -> None:
    # Valid JSON, valid to the schema but for its depth: walking, validating or writing it
    # would exhaust the stack (the report writer did, from about 500 levels).
    text = json.dumps(GOOD)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    outcome = contract.parse(text)
    assert not outcome.valid and outcome.output is None
    assert outcome.errors == ("(root): the answer nests deeper than 64 levels",)
    assert contract.parse(json.dumps({**GOOD, "x": [[[[]]]]})).valid


def test_a_run_with_a_deeply_nested_answer_completes() -> None:
    flags = {"experiment": {"use_mock_client": True, "dataset_path": SUPPORT_OPS_DATASET}}
    plan = plan_run(load_settings(None, flags))
    answer = {
        "category": "incident",
        "priority": "P1",
        "should_refuse": False,
        "summary": "s",
        "actions": ["a"],
        "customer_reply": "r",
        "tool_calls": [],
    }
    deep = json.dumps(answer)[:-1] + ', "x": ' + "[" * 500 + "]" * 500 + "}"
    clients = [ScriptedClient(default=json.dumps(answer)), ScriptedClient(default=deep)]
    report = asyncio.run(execute(plan, clients))
    assert report.models[1].summary["structured_output_rate"] == 0.0
    assert "nests deeper than 64 levels" in report.models[1].cases[0].notes[0]


def test_every_bundled_contract_is_a_valid_schema() -> None:
    # The loader does not check the bundled contracts on every start (jsonschema's import): here.
    from modelup.workflow.bundled import BUNDLED_FILES
    from modelup.workflow.catalog import get_workflow
    from modelup.workflow.contract import check_contract

    assert BUNDLED_FILES
    for name in BUNDLED_FILES:
        check_contract(get_workflow(name).contract)


def test_jsonschema_is_imported_only_when_an_answer_is_invalid() -> None:
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from modelup.workflow.contract import Contract\n"
        f"contract = Contract({SCHEMA!r}, checked=True)\n"
        f"assert contract.parse(json.dumps({GOOD!r})).valid\n"
        "print('jsonschema' in sys.modules)\n"
        "outcome = contract.parse(json.dumps({'category': 3}))\n"
        "print('jsonschema' in sys.modules, outcome.valid, len(outcome.errors))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split("\n")[:2] == ["False", "True False 2"]


def test_an_unchecked_contract_is_checked_and_a_checked_one_is_trusted() -> None:
    with pytest.raises(WorkflowError, match="not a valid JSON Schema"):
        Contract({"type": 12})
    assert Contract({"type": 12}, checked=True) is not None  # the caller vouched for it
