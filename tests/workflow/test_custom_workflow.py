"""A user's own workflow, declared entirely in this file (no package code), gated end to end
through ``modelup run`` against a loopback OpenAI-compatible server.

The workflow classifies a change for the release notes. Its checks use the vocabulary (a string
field equals, a boolean equals) plus a Python check defined below and named by import path; its
default gate blocks on the breaking-change flag and on the Python check's figure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from support.openai_server import ChatCall, OpenAITestServer, completions

WORKFLOW_TOML = """
name = "release-notes"
version = "3"
description = "Classifies a change for the release notes."

[prompt]
id = "release-notes-v3"

[[prompt.messages]]
role = "system"
content = '''
Classify the change. Answer JSON only:
{"kind": "feature|fix|chore", "breaking": true|false, "note": "one line"}'''

[[prompt.messages]]
role = "user"
content = "$change"

[case_fields]
change = { type = "string" }
expected_kind = { type = "string", enum = ["feature", "fix", "chore"] }
breaking = { type = "boolean", default = false }
max_words = { type = "integer", default = 8 }

[contract]
type = "object"
required = ["kind", "breaking", "note"]

[contract.properties]
kind = { type = "string" }
breaking = { type = "boolean" }
note = { type = "string" }

[[checks]]
name = "kind_match"
kind = "equals"
figure = "kind_accuracy"
params = { output = "kind", case = "expected_kind", label = "Kind" }

[[checks]]
name = "breaking_flag"
kind = "equals"
figure = "breaking_accuracy"
subset = "policy-sensitive"
params = { output = "breaking", case = "breaking", label = "Breaking" }

[[checks]]
name = "brief_note"
kind = "python"
figure = "brevity_rate"
params = { function = "MODULE:note_is_brief" }

[quality_weights]
pass_rate = 0.6
breaking_accuracy = 0.4

[[gate.rules]]
name = "breaking changes flagged"
figure = "breaking_accuracy"
comparison = "max_regression"
threshold = 0
authority = "block"

[[gate.rules]]
name = "brief notes"
figure = "brevity_rate"
comparison = "max_regression"
threshold = 0
authority = "block"

[[gate.rules]]
name = "kind"
figure = "kind_accuracy"
comparison = "max_regression"
threshold = 0
authority = "conditional"
""".replace("MODULE", __name__)

CASES = [
    ("RN-1", "Add dark mode to the settings page.", "feature", False),
    ("RN-2", "Fix crash when the cart is empty.", "fix", False),
    ("RN-3", "Remove the deprecated v1 orders endpoint.", "chore", True),
    ("RN-4", "Rename the config key timeout to timeout_s.", "chore", True),
    ("RN-5", "Bump the logging library.", "chore", False),
    ("RN-6", "Change the default page size of the search API from 50 to 20.", "feature", True),
]
ANSWER_KEY = {change: (kind, breaking) for _, change, kind, breaking in CASES}


def note_is_brief(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[bool, str | None]:
    """The release note fits in the case's word budget."""
    words = len(str(output.get("note", "")).split())
    limit = int(case["max_words"])
    return words <= limit, None if words <= limit else f"note has {words} words (max {limit})"


def answer(call: ChatCall) -> str:
    kind, breaking = ANSWER_KEY[call.last_content]
    note = "Short release note."
    if call.model == "sloppy-candidate" and breaking:
        # The drift this workflow guards: breaking changes go unflagged, notes ramble.
        breaking = False
        note = "This change is a small and entirely safe improvement that nobody will notice."
    return json.dumps({"kind": kind, "breaking": breaking, "note": note})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "release-gate"
    folder.mkdir()
    (folder / "release-notes.toml").write_text(WORKFLOW_TOML, encoding="utf-8")
    records = [
        {
            "id": case_id,
            "family": kind,
            "subsets": ["policy-sensitive"] if breaking else [],
            "change": change,
            "expectedKind": kind,
            "breaking": breaking,
        }
        for case_id, change, kind, breaking in CASES
    ]
    (folder / "cases.json").write_text(json.dumps(records), encoding="utf-8")
    return folder


def configure(folder: Path, base_url: str, candidate: str) -> Path:
    config = folder / f"{candidate}.toml"
    config.write_text(
        f"""
[experiment]
use_mock_client = false
mode = "compare"
workflow = "release-notes.toml"
dataset_path = "cases.json"
report_directory = "reports"
concurrency = 2

[llm]
base_url = "{base_url}"
api_key = "test-key"
baseline_model_id = "steady-baseline"
candidate_model_id = "{candidate}"
max_attempts = 1
""",
        encoding="utf-8",
    )
    return config


def gate(config: Path, report: Path) -> tuple[int, str, dict[str, Any]]:
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--report-file", str(report)])
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return result.exit_code, result.output, data


def test_a_workflow_declared_in_a_test_file_is_gated_end_to_end(project: Path) -> None:
    with OpenAITestServer(completions(answer), api_key="test-key", max_requests=100) as server:
        code, output, report = gate(
            configure(project, server.base_url, "sloppy-candidate"), project / "sloppy.json"
        )
        assert code == 4, output
        assert report["workflow"] == {"name": "release-notes", "version": "3"}
        assert report["decision"]["verdict"] == "Rollback"
        failed = {rule["name"] for rule in report["decision"]["rules"] if not rule["passed"]}
        assert failed == {"breaking changes flagged", "brief notes"}
        baseline, candidate = report["models"]
        assert baseline["summary"]["breaking_accuracy"] == 1.0
        assert candidate["summary"]["breaking_accuracy"] == pytest.approx(0.5)
        assert candidate["summary"]["brevity_rate"] == pytest.approx(0.5)
        notes = {case["case_id"]: case["notes"] for case in candidate["cases"]}
        assert "Breaking mismatch: expected true, got false" in notes["RN-3"]
        assert "note has 13 words (max 8)" in notes["RN-3"]
        assert notes["RN-1"] == []

        code, output, report = gate(
            configure(project, server.base_url, "steady-candidate"), project / "steady.json"
        )
        assert code == 0, output
        assert report["decision"]["verdict"] == "Promote"
        assert server.request_count <= 100
    assert "test-key" not in (project / "sloppy.json").read_text(encoding="utf-8")


def test_a_workflow_without_simulated_models_refuses_mock_mode(project: Path) -> None:
    config = configure(project, "http://127.0.0.1:9/v1", "any-candidate")
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--mock"])
    assert result.exit_code == 2
    assert "has no simulated models" in result.output
