"""``modelup serve``'s command line (the server itself is tested in tests/serve), and
``modelup release contain`` / ``resume`` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modelup._cli.main import app
from modelup._cli.serve import _workflows
from modelup.store.serving import open_serving_store
from support.serving import pinned_store

runner = CliRunner()


def test_workflows_are_served_under_their_release_workflow_id() -> None:
    served = _workflows(["incident-triage", "support-triage=support-ops"])
    assert {key: value.name for key, value in served.items()} == {
        "incident-triage": "incident-triage",
        "support-triage": "support-ops",
    }


def test_an_unknown_workflow_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--workflow", "nope", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "unknown workflow 'nope'" in result.output


def test_the_same_workflow_id_twice_is_refused(tmp_path: Path) -> None:
    args = ["serve", "--workflow", "incident-triage", "--workflow", "incident-triage"]
    result = runner.invoke(app, [*args, "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "given twice" in result.output


def test_contain_and_resume_through_the_cli(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    (release_id,) = pinned_store(store, tmp_path / "releases")
    common = ["--store", store, "--as", "oncall"]
    refused = runner.invoke(app, ["release", "contain", release_id, *common])
    assert refused.exit_code == 2  # --reason is required
    contained = runner.invoke(
        app, ["release", "contain", release_id, "--reason", "escalations dropped", *common]
    )
    assert contained.exit_code == 0, contained.output
    assert "contained" in contained.output and "escalation forced" in contained.output
    with open_serving_store(store) as opened:
        held = opened.containment("incident-triage")
    assert held is not None and held.actor == "oncall" and held.reason == "escalations dropped"
    resumed = runner.invoke(app, ["release", "resume", release_id, "--json", *common])
    assert resumed.exit_code == 0, resumed.output
    events = json.loads(resumed.output)["events"]
    assert [event["action"] for event in events][-2:] == ["contain", "resume"]
    with open_serving_store(store) as opened:
        assert opened.containment("incident-triage") is None
    again = runner.invoke(app, ["release", "resume", release_id, *common])
    assert again.exit_code == 2 and "nothing to resume" in again.output
