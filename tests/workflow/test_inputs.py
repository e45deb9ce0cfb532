"""Input fields (what a request carries) against expectations, and label-free checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelup.errors import WorkflowError
from modelup.workflow.catalog import get_workflow
from modelup.workflow.loader import load_workflow_file

ROUTER: dict[str, Any] = {
    "name": "router",
    "version": "1",
    "prompt": {"id": "p", "messages": [{"role": "user", "content": "$ticket"}]},
    "case_fields": {
        "ticket": {"type": "string"},
        "tags": {"type": "list[string]", "default": []},
        "expected_queue": {"type": "string"},
    },
    "contract": {"type": "object", "properties": {"queue": {"type": "string"}, "urgent": {}}},
    "policies": {"urgent": {"rules": [{"name": "r", "when": [{"count": "tags", "at_least": 2}]}]}},
    "checks": [
        {
            "name": "queue",
            "kind": "equals",
            "figure": "queue_accuracy",
            "params": {"output": "queue", "case": "expected_queue"},
        },
        {
            "name": "urgency",
            "kind": "policy",
            "figure": "urgency_rate",
            "params": {"output": "urgent", "policy": "urgent"},
        },
    ],
}


def load(tmp_path: Path, **fields: dict[str, Any]) -> Any:
    document = copy.deepcopy(ROUTER)
    for name, extra in fields.items():
        document["case_fields"][name].update(extra)
    path = tmp_path / "router.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_workflow_file(path)


def test_undeclared_inputs_are_what_the_prompt_renders_and_the_policies_read(
    tmp_path: Path,
) -> None:
    workflow = load(tmp_path)
    assert workflow.inputs is None
    assert workflow.input_fields == {"ticket", "tags"}
    assert [check.name for check in workflow.label_free_checks] == ["urgency"]


def test_declared_inputs(tmp_path: Path) -> None:
    workflow = load(tmp_path, ticket={"input": True}, tags={"input": True})
    assert workflow.input_fields == {"ticket", "tags"}
    assert not workflow.is_label_free(workflow.checks[0])  # reads expected_queue


def test_a_rendered_field_must_be_an_input(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match=r"case_fields\.ticket\.input: the prompt renders"):
        load(tmp_path, tags={"input": True})


def test_a_policy_reads_inputs_only(tmp_path: Path) -> None:
    with pytest.raises(
        WorkflowError, match=r"policies\.urgent\.rules\[0\]\.when\[0\]: 'tags' is not an input"
    ):
        load(tmp_path, ticket={"input": True}, tags={"input": False})


def test_the_bundled_workflows_declare_their_inputs() -> None:
    triage = get_workflow("incident-triage")
    assert triage.inputs == {"request", "service", "impact", "sources", "actions_allowed"}
    policy = triage.checks[0].params["policy"]
    assert {c.field for rule in policy.rules for c in rule.when} <= triage.input_fields
    assert [c.name for c in triage.label_free_checks] == [
        "escalation",
        "action_posture",
        "evidence_grounded",
    ]
    support = get_workflow("support-ops")
    assert support.inputs == {"user_message"}
    assert [c.name for c in support.label_free_checks] == ["tool_schema", "plain_reply"]
