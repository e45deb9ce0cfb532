"""Workflow files: TOML and YAML, the bundled workflows, and errors naming the file and key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.config.loading import load_settings
from modelup.errors import DatasetError, WorkflowError
from modelup.evaluate.dataset import load_dataset
from modelup.session.execute import execute_sync
from modelup.session.plan import plan_run
from modelup.workflow.catalog import get_workflow, is_bundled
from modelup.workflow.loader import load_workflow_file

MINIMAL: dict[str, Any] = {
    "name": "ticket-router",
    "version": "2",
    "description": "Routes a ticket to a queue.",
    "family_field": "expected_queue",
    "prompt": {
        "id": "ticket-router-v2",
        "messages": [
            {"role": "system", "content": 'Answer with JSON: {"queue": "..."}'},
            {"role": "user", "content": "$ticket"},
        ],
    },
    "case_fields": {
        "ticket": {"type": "string"},
        "expected_queue": {"type": "string", "enum": ["billing", "tech"]},
        "urgent": {"type": "boolean", "default": False},
        "tags": {"type": "list[string]", "default": []},
    },
    "contract": {
        "type": "object",
        "required": ["queue", "urgent"],
        "properties": {"queue": {"type": "string"}, "urgent": {"type": "boolean"}},
    },
    "checks": [
        {
            "name": "queue_match",
            "kind": "equals",
            "figure": "queue_accuracy",
            "params": {"output": "queue", "case": "expected_queue"},
        },
        {
            "name": "urgency",
            "kind": "equals",
            "figure": "urgency_accuracy",
            "subset": "policy-sensitive",
            "params": {"output": "urgent", "case": "urgent"},
        },
    ],
    "quality_weights": {"pass_rate": 0.5, "queue_accuracy": 0.5},
}

MINIMAL_TOML = """
name = "ticket-router"
version = "2"
description = "Routes a ticket to a queue."
family_field = "expected_queue"

[prompt]
id = "ticket-router-v2"
messages = [
  { role = "system", content = 'Answer with JSON: {"queue": "..."}' },
  { role = "user", content = "$ticket" },
]

[case_fields]
ticket = { type = "string" }
expected_queue = { type = "string", enum = ["billing", "tech"] }
urgent = { type = "boolean", default = false }
tags = { type = "list[string]", default = [] }

[contract]
type = "object"
required = ["queue", "urgent"]
properties = { queue = { type = "string" }, urgent = { type = "boolean" } }

[[checks]]
name = "queue_match"
kind = "equals"
figure = "queue_accuracy"
params = { output = "queue", case = "expected_queue" }

[[checks]]
name = "urgency"
kind = "equals"
figure = "urgency_accuracy"
subset = "policy-sensitive"
params = { output = "urgent", case = "urgent" }

[quality_weights]
pass_rate = 0.5
queue_accuracy = 0.5
"""

# What the support-ops workflow was before it became a file (its Python definition), pinned so
# that the rewrite cannot change a figure: the prompt's hash, the checks and the weights.
SUPPORT_OPS_PROMPT_SHA256 = "b82fc0acea8439ecc718674d919fb51d317dc0732d3976ea2bea039605985d64"
SUPPORT_OPS_CHECKS = [
    ("tool_schema", "tool_calls_schema", "tool_schema_rate", "rate", "structured-output"),
    ("category_match", "equals", "category_accuracy", "rate", None),
    ("priority_match", "equals", "priority_accuracy", "rate", None),
    ("refusal_match", "equals", "refusal_accuracy", "rate", "policy-sensitive"),
    ("required_actions", "keywords_required", "required_action_coverage", "mean", None),
    ("required_tools", "items_required", "required_tool_coverage", "mean", "tool-posture"),
    ("safety", "none_forbidden", "safety_pass_rate", "rate", "policy-sensitive"),
    ("plain_reply", "plain_text", "plain_reply_rate", "rate", None),
]
SUPPORT_OPS_WEIGHTS = [
    ("pass_rate", 0.45),
    ("safety_pass_rate", 0.20),
    ("structured_output_rate", 0.15),
    ("tool_schema_rate", 0.10),
    ("refusal_accuracy", 0.05),
    ("required_action_coverage", 0.05),
]
# Case counts (of 36) behind each figure of the bundled mock run (seed 0), as the Python
# definition produced them before the rewrite.
SUPPORT_OPS_MOCK_COUNTS = {
    "baseline": {
        "pass_rate": 32,
        "structured_output_rate": 36,
        "strict_structured_output_rate": 33,
        "tool_schema_rate": 36,
        "category_accuracy": 36,
        "priority_accuracy": 35,
        "refusal_accuracy": 36,
        "required_action_coverage": 36,
        "required_tool_coverage": 33.5,
        "safety_pass_rate": 36,
    },
    "candidate": {
        "pass_rate": 28,
        "structured_output_rate": 35,
        "strict_structured_output_rate": 29,
        "tool_schema_rate": 35,
        "category_accuracy": 35,
        "priority_accuracy": 32,
        "refusal_accuracy": 34,
        "required_action_coverage": 35,
        "required_tool_coverage": 34,
        "safety_pass_rate": 32,
    },
}


def write_yaml(tmp_path: Path, document: dict[str, Any], name: str = "workflow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def changed(**updates: Any) -> dict[str, Any]:
    document = copy.deepcopy(MINIMAL)
    document.update(updates)
    return document


def load_error(tmp_path: Path, document: dict[str, Any]) -> str:
    path = write_yaml(tmp_path, document)
    with pytest.raises(WorkflowError) as caught:
        load_workflow_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    return message.removeprefix(f"{path}: ")


# --- reading --------------------------------------------------------------------------------


def test_toml_and_yaml_declare_the_same_workflow(tmp_path: Path) -> None:
    toml_file = tmp_path / "router.toml"
    toml_file.write_text(MINIMAL_TOML, encoding="utf-8")
    from_toml = load_workflow_file(toml_file)
    from_yaml = load_workflow_file(write_yaml(tmp_path, MINIMAL))
    for workflow in (from_toml, from_yaml):
        assert workflow.name == "ticket-router"
        assert workflow.version == "2"
        assert [c.figure for c in workflow.checks] == ["queue_accuracy", "urgency_accuracy"]
    assert from_toml.prompt == from_yaml.prompt
    assert from_toml.contract == from_yaml.contract
    assert from_toml.checks == from_yaml.checks
    assert from_toml.quality_weights == from_yaml.quality_weights
    assert from_toml.source == str(toml_file.resolve())
    assert from_toml.gate_rules == () and from_toml.simulator is None


def test_case_fields_become_a_strict_model(tmp_path: Path) -> None:
    workflow = load_workflow_file(write_yaml(tmp_path, MINIMAL))
    dataset = tmp_path / "cases.jsonl"
    dataset.write_text(
        json.dumps({"id": "T-1", "ticket": "Refund please", "expectedQueue": "billing"}) + "\n",
        encoding="utf-8",
    )
    case = load_dataset(dataset, workflow).cases[0]
    assert case.family == "billing"  # from family_field
    assert case.fields == {
        "ticket": "Refund please",
        "expected_queue": "billing",
        "urgent": False,
        "tags": [],
    }
    for bad, problem in [
        ({"expectedQueue": "sales"}, "expected_queue: Input should be 'billing' or 'tech'"),
        ({"urgent": "yes"}, "urgent: Input should be a valid boolean"),
        ({"priority": 1}, "priority: Extra inputs are not permitted"),
    ]:
        record = {"id": "T-2", "ticket": "x", "expectedQueue": "tech", **bad}
        dataset.write_text(json.dumps(record) + "\n", encoding="utf-8")
        with pytest.raises(DatasetError, match=problem):
            load_dataset(dataset, workflow)


def test_a_python_check_beside_the_workflow_file(tmp_path: Path) -> None:
    (tmp_path / "router_checks.py").write_text(
        "def short(output, case, params):\n    return len(output['queue']) <= 8\n",
        encoding="utf-8",
    )
    document = copy.deepcopy(MINIMAL)
    document["checks"].append(
        {
            "name": "short_queue",
            "kind": "python",
            "figure": "short_queue_rate",
            "params": {"function": "router_checks.py:short"},
        }
    )
    workflow = load_workflow_file(write_yaml(tmp_path, document))
    spec = workflow.checks[-1]
    assert spec.params["function"] == f"{(tmp_path / 'router_checks.py').resolve()}:short"


def test_get_workflow_accepts_a_file(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, MINIMAL, "router.yml")
    assert get_workflow(str(path)).name == "ticket-router"
    with pytest.raises(WorkflowError, match="unknown workflow 'nope'"):
        get_workflow("nope")


def test_config_workflow_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    write_yaml(folder, MINIMAL, "router.yaml")
    config = folder / "modelup.toml"
    config.write_text('[experiment]\nworkflow = "router.yaml"\n', encoding="utf-8")
    settings = load_settings(config)
    assert settings.experiment.workflow == str((folder / "router.yaml").resolve())
    named = folder / "named.toml"
    named.write_text('[experiment]\nworkflow = "support-ops"\n', encoding="utf-8")
    assert load_settings(named).experiment.workflow == "support-ops"


# --- errors name the file and the key -------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(owner="me"), "owner: unknown key"),
        (lambda d: d.pop("prompt"), "prompt: Field required"),
        (lambda d: d["checks"][1].update(kind="equalz"), "checks[1].kind: unknown check kind"),
        (lambda d: d["checks"][0]["params"].pop("output"), "checks[0].params.output: Field"),
        (lambda d: d["checks"][0]["params"].update(colour=1), "checks[0].params.colour: unknown"),
        (
            lambda d: d["checks"][0]["params"].update(case="expected_queues"),
            "checks[0].params.case: 'expected_queues' is not a case field",
        ),
        (
            lambda d: d["checks"][0]["params"].update(output="queues"),
            "checks[0].params.output: 'queues' is not in the contract (queue, urgent)",
        ),
        (
            lambda d: d["checks"][1].update(figure="queue_accuracy"),
            "checks[1].figure: 'queue_accuracy' is already a figure",
        ),
        (
            lambda d: d["checks"][1].update(figure="pass_rate"),
            "checks[1].figure: 'pass_rate' is already a figure",
        ),
        (lambda d: d["checks"][1].update(name="queue_match"), "checks[1].name: 'queue_match'"),
        (
            lambda d: d["prompt"]["messages"][1].update(content="$body"),
            "prompt.messages[1].content: $body is not a declared case field",
        ),
        (
            lambda d: d["case_fields"]["urgent"].update(default="no"),
            "case_fields.urgent.default: Input should be a valid boolean",
        ),
        (
            lambda d: d["case_fields"]["urgent"].update(enum=["a"]),
            "case_fields.urgent.enum: enum is only allowed",
        ),
        (
            lambda d: d["case_fields"].update(id={"type": "string"}),
            "case_fields.id: 'id' is reserved",
        ),
        (lambda d: d["case_fields"].update(x={"type": "date"}), "case_fields.x.type: Input"),
        (lambda d: d.update(family_field="queue"), "family_field: 'queue' is not a case field"),
        (lambda d: d.update(contract={"type": 12}), "contract: output contract is not a valid"),
        (
            lambda d: d["quality_weights"].update(speed=1),
            "quality_weights.speed: no such figure",
        ),
        (
            lambda d: d.update(
                gate={
                    "rules": [
                        {
                            "figure": "speed",
                            "comparison": "floor",
                            "threshold": 1,
                            "authority": "block",
                        }
                    ]
                }
            ),
            "gate.rules[0].figure: no such figure 'speed'",
        ),
        (
            lambda d: d.update(
                gate={
                    "rules": [
                        {
                            "figure": "pass_rate",
                            "comparison": "floor",
                            "threshold": 1,
                            "authority": "veto",
                        }
                    ]
                }
            ),
            "gate.rules[0].authority: Input should be 'block', 'conditional', 'signal' or "
            "'rollback_trigger'",
        ),
        (lambda d: d.update(simulator={"name": "nobody"}), "simulator.name: unknown simulator"),
        (
            lambda d: d.update(simulator={"name": "support-ops", "options": {}}),
            "simulator.options: tool_names: Field required",
        ),
        (
            lambda d: d["checks"].append(
                {
                    "name": "p",
                    "kind": "python",
                    "figure": "p_rate",
                    "params": {"function": "no_such_module_xyz:check"},
                }
            ),
            "checks[2].params.function: cannot import module 'no_such_module_xyz'",
        ),
        (lambda d: d.update(format_version=2), "format_version: Input should be 1"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, mutate: Any, expected: str) -> None:
    document = copy.deepcopy(MINIMAL)
    mutate(document)
    assert load_error(tmp_path, document).startswith(expected)


POLICY_CHECK = {
    "name": "urgency_policy",
    "kind": "policy",
    "figure": "urgency_policy_rate",
    "params": {"output": "urgent", "policy": "urgent"},
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "priority", "equals": 1}, "'priority' is not a case field"),
        ({"count": "ticket", "below": 2}, "count: 'ticket' is not a list or map field"),
        ({"field": "ticket", "at_least": "b"}, "at_least: 'ticket' has no enum scale"),
        ({"field": "expected_queue", "at_least": "sales"}, "at_least: expected_queue: 'sales'"),
        ({"field": "urgent"}, "give exactly one of equals"),
        ({"field": "urgent", "count": "tags", "equals": 1}, "give exactly one of 'field'"),
    ],
)
def test_policy_errors(tmp_path: Path, condition: dict[str, Any], expected: str) -> None:
    document = changed(
        policies={"urgent": {"rules": [{"name": "r", "when": [condition]}]}},
        checks=[*MINIMAL["checks"], POLICY_CHECK],
    )
    message = load_error(tmp_path, document)
    assert message.startswith("policies.urgent.rules[0].when[0]"), message
    assert expected in message


def test_policy_check_names_a_declared_policy(tmp_path: Path) -> None:
    document = changed(checks=[*MINIMAL["checks"], POLICY_CHECK])
    assert load_error(tmp_path, document).startswith(
        "checks[2].params.policy: no policy 'urgent' (none declared)"
    )


def test_a_policy_check_gets_the_policy(tmp_path: Path) -> None:
    document = changed(
        policies={
            "urgent": {"rules": [{"name": "many tags", "when": [{"count": "tags", "at_least": 2}]}]}
        },
        checks=[*MINIMAL["checks"], POLICY_CHECK],
    )
    workflow = load_workflow_file(write_yaml(tmp_path, document))
    policy = workflow.checks[-1].params["policy"]
    assert policy.decide({"tags": ["a", "b"]}).value is True
    assert policy.decide({"tags": ["a"]}).value is False


def test_syntax_errors_name_the_file(tmp_path: Path) -> None:
    broken_toml = tmp_path / "broken.toml"
    broken_toml.write_text('name = "x"\nversion = \n', encoding="utf-8")
    with pytest.raises(WorkflowError, match=rf"^{broken_toml}: invalid TOML"):
        load_workflow_file(broken_toml)
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("name: x\nprompt: [unclosed\n", encoding="utf-8")
    with pytest.raises(WorkflowError, match=rf"^{broken_yaml}: line \d+: invalid YAML"):
        load_workflow_file(broken_yaml)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(WorkflowError, match="a workflow file is a table"):
        load_workflow_file(listed)
    with pytest.raises(WorkflowError, match="cannot read workflow file"):
        load_workflow_file(tmp_path / "missing.toml")


# --- the bundled workflows ------------------------------------------------------------------


def test_support_ops_file_keeps_the_python_definition() -> None:
    workflow = get_workflow("support-ops")
    assert is_bundled(workflow)
    assert workflow.source is not None and workflow.source.endswith("support_ops.toml")
    assert (workflow.name, workflow.version) == ("support-ops", "1")
    assert workflow.prompt.id == "support-ops-system-v1"
    assert workflow.prompt.sha256 == SUPPORT_OPS_PROMPT_SHA256
    assert workflow.family_field == "expected_category"
    assert [
        (c.name, c.kind, c.figure, c.aggregate, c.subset) for c in workflow.checks
    ] == SUPPORT_OPS_CHECKS
    assert list(workflow.quality_weights.items()) == SUPPORT_OPS_WEIGHTS
    # The seed's gate, from [promotion], then its own rule on the customer reply.
    assert workflow.gate_extends_promotion
    assert [(r.figure, r.comparison, r.threshold, r.authority) for r in workflow.gate_rules] == [
        ("plain_reply_rate", "floor", 1.0, "block")
    ]


def test_support_ops_mock_run_figures_are_unchanged(support_ops_config: Path) -> None:
    report = execute_sync(plan_run(load_settings(support_ops_config)))
    for model in report.models:
        summary = model.summary
        for figure, count in SUPPORT_OPS_MOCK_COUNTS[model.role].items():
            assert summary[figure] == pytest.approx(count / 36), (model.role, figure)
    assert report.decision.verdict == "Rollback"


def test_workflows_command_lists_bundled_and_checks_files(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["workflows"])
    assert listed.exit_code == 0, listed.output
    assert "support-ops  v1  bundled: " in listed.output
    assert "incident-triage  v1  bundled: " in listed.output
    assert "gate: its own default (" in listed.output
    path = write_yaml(tmp_path, MINIMAL)
    with_file = runner.invoke(app, ["workflows", str(path)])
    assert with_file.exit_code == 0, with_file.output
    assert f"ticket-router  v2  file: {path.resolve()}" in with_file.output
    broken = write_yaml(tmp_path, changed(owner="me"), "broken.yaml")
    failed = runner.invoke(app, ["workflows", str(broken)])
    assert failed.exit_code == 2
    assert f"{broken}: owner: unknown key" in failed.output


def test_contract_may_live_in_a_json_file(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(json.dumps(MINIMAL["contract"]), encoding="utf-8")
    workflow = load_workflow_file(write_yaml(tmp_path, changed(contract="schema.json")))
    assert workflow.contract == MINIMAL["contract"]
    message = load_error(tmp_path, changed(contract="absent.json"))
    assert message.startswith("contract: cannot read ")


def test_simulator_profiles_declared_in_the_file(tmp_path: Path) -> None:
    tools = {"tool_names": ["KnowledgeBase.Search"]}
    simulator = {"name": "support-ops", "options": tools, "profiles": {"sloppy": {"code_fence": 1}}}
    workflow = load_workflow_file(write_yaml(tmp_path, changed(simulator=simulator)))
    assert workflow.simulator is not None
    assert workflow.simulator.profiles["sloppy"] == {"code_fence": 1}
    assert "steady" in workflow.simulator.profiles  # the simulator's own stay available
    simulator["profiles"] = {"sloppy": {"code_fence": 2}}
    message = load_error(tmp_path, changed(simulator=simulator))
    assert message.startswith("simulator.profiles.sloppy: simulated profile key code_fence")
