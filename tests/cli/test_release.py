"""``modelup release`` end to end through the CLI, against the loopback OpenAI-compatible server
answering support-ops cases: propose → gate → approve → promote → pinned shows the identity that
answered; a drifting alias holds; a wrong owner is refused; a Rollback cannot be approved; a
rollback restores the previous pin."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from support.live_support import SUPPORT_OPS_DATASET, SupportAnswers, support_ops
from support.openai_server import ChatCall, Completion, OpenAITestServer, Reply
from support.releases import release_files, sections, write_record

runner = CliRunner()
CASES = 36
ALIASES = {
    "gpt-oss:20b": {"model": "gpt-oss:20b-*", "system_fingerprint": "fp_base*"},
    "qwen3:8b": "qwen3:8b-q4_*",
    "qwen3:14b": "qwen3:14b-q8_*",
    "llama3.1:8b": "llama3.1:8b",
}


class Endpoint:
    """Answers each model as a simulated profile would, under the identity set for it."""

    def __init__(self) -> None:
        workflow, dataset = support_ops()
        self.answers = {
            profile: SupportAnswers(workflow, dataset, profile=profile)
            for profile in ("steady", "perfect", "drifting")
        }
        self.identity = {
            "gpt-oss:20b": ("steady", "gpt-oss:20b-mxfp4", "fp_base1"),
            "qwen3:8b": ("perfect", "qwen3:8b-q4_K_M", "fp_q8b"),
            "qwen3:14b": ("perfect", "qwen3:14b-q8_0", "fp_q14b"),
            "llama3.1:8b": ("drifting", "llama3.1:8b", "fp_llama"),
        }

    def __call__(self, call: ChatCall) -> Reply:
        profile, model, fingerprint = self.identity[call.model]
        reply = self.answers[profile](call)
        assert isinstance(reply, Completion)
        return dataclasses.replace(reply, model=model, system_fingerprint=fingerprint)


def invoke(store: Path, *args: str | Path) -> Any:
    command, *rest = map(str, args)
    return runner.invoke(app, ["release", command, *rest, "--store", str(store)])


KEEP_QUALITY = [
    {"figure": "quality_score", "greater_is_better": True, "min_absolute_change": -0.01}
]
"""A like-for-like change: quality may not drop by more than 0.01."""


def release_file(
    directory: Path,
    server: OpenAITestServer,
    previous: str,
    candidate: str,
    promotion: dict[str, Any] | None = None,
    **fields: Any,
) -> Path:
    directory.mkdir()
    (directory / "modelup.toml").write_text(
        sections(
            {
                "experiment": {
                    "use_mock_client": False,
                    "workflow": "support-ops",
                    "dataset_path": str(SUPPORT_OPS_DATASET),
                    "report_directory": "reports",
                    "concurrency": 8,
                },
                "llm": {
                    "base_url": server.base_url,
                    "baseline_model_id": previous,
                    "candidate_model_id": candidate,
                    "max_attempts": 1,
                },
                "cache": {"enabled": False},
                # Loopback latencies are real and noisy: no latency rule may decide here.
                "promotion": {"max_p95_latency_regression_percent": 100_000, **(promotion or {})},
            }
        ),
        encoding="utf-8",
    )
    return write_record(
        directory,
        previous_model=previous,
        candidate_model=candidate,
        alias_resolution=ALIASES,
        **fields,
    )


def proposed(store: Path, path: Path) -> str:
    result = invoke(store, "new", path, "--as", "bob")
    assert result.exit_code == 0, result.output
    release_id: str = result.stdout.strip()
    assert release_id.startswith("rel-") and "proposed" in result.stderr
    return release_id


def pinned(store: Path) -> dict[str, Any]:
    result = invoke(store, "pinned", "--json")
    assert result.exit_code == 0, result.output
    (pin,) = json.loads(result.stdout)["pins"]
    return dict(pin)


def test_a_model_change_as_a_release(tmp_path: Path) -> None:
    endpoint = Endpoint()
    store = tmp_path / "team.sqlite"
    with OpenAITestServer(endpoint, max_requests=12 * CASES) as server:
        first = proposed(store, release_file(tmp_path / "r1", server, "gpt-oss:20b", "qwen3:8b"))
        gate = invoke(store, "gate", first)
        assert gate.exit_code == 0, gate.output
        assert f"Release {first} gated: Promote" in gate.stdout

        wrong = invoke(store, "approve", first, "--as", "mallory")
        assert wrong.exit_code == 2
        assert "only the release owner, alice, may approve release rel-1" in wrong.stderr
        approved = invoke(store, "approve", first, "--as", "alice", "--note", "shipped in PR 12")
        assert approved.exit_code == 0, approved.output
        promoted = invoke(store, "promote", first, "--as", "deploy-bot")
        assert promoted.exit_code == 0, promoted.output
        assert "support-triage now serves qwen3:8b-q4_K_M (fp_q8b) (pinned)" in promoted.stdout
        pin = pinned(store)
        assert (pin["release_id"], pin["requested_model"]) == (first, "qwen3:8b")
        assert (pin["model"], pin["system_fingerprints"]) == ("qwen3:8b-q4_K_M", ["fp_q8b"])
        assert pin["previous"]["model"] == "gpt-oss:20b-mxfp4"

        # The endpoint quietly serves another build behind the qwen3:14b alias: Hold.
        endpoint.identity["qwen3:14b"] = ("perfect", "qwen3:14b-fp16", "fp_q14b")
        second = proposed(
            store,
            release_file(
                tmp_path / "r2",
                server,
                "qwen3:8b",
                "qwen3:14b",
                promotion={"min_quality_score_improvement": 0.0},
                expected_deltas=KEEP_QUALITY,
            ),
        )
        held = invoke(store, "gate", second, "--json")
        assert held.exit_code == 3, held.output
        record = json.loads(held.stdout)
        assert record["verdict"] == "Hold" and record["state"] == "gated"
        assert any(
            "Identity drift: qwen3:14b answered as qwen3:14b-fp16" in reason
            for reason in record["evidence"]["reasons"]
        )
        refused = invoke(store, "approve", second, "--as", "alice")
        assert refused.exit_code == 2 and "--override" in refused.stderr
        endpoint.identity["qwen3:14b"] = ("perfect", "qwen3:14b-q8_0", "fp_q14b")
        regate = invoke(store, "gate", second)
        assert regate.exit_code == 0, regate.output
        assert invoke(store, "approve", second, "--as", "alice").exit_code == 0
        assert invoke(store, "promote", second).exit_code == 0
        pin = pinned(store)
        assert (pin["release_id"], pin["model"]) == (second, "qwen3:14b-q8_0")
        assert (pin["previous"]["release_id"], pin["previous"]["model"]) == (
            first,
            "qwen3:8b-q4_K_M",
        )

        third = proposed(store, release_file(tmp_path / "r3", server, "qwen3:14b", "llama3.1:8b"))
        rollback_verdict = invoke(store, "gate", third)
        assert rollback_verdict.exit_code == 4, rollback_verdict.output
        never = invoke(store, "approve", third, "--as", "alice", "--override", "ship it")
        assert never.exit_code == 2
        assert "a Rollback verdict can never be approved" in never.stderr
        assert invoke(store, "reject", third, "--as", "alice", "--reason", "unsafe").exit_code == 0

        assert len(server.requests) == 4 * 2 * CASES  # four gates, two models, every case

    back = invoke(store, "rollback", second, "--reason", "escalations dropped", "--as", "oncall")
    assert back.exit_code == 0, back.output
    assert "support-triage serves qwen3:8b-q4_K_M (release rel-1)" in back.stdout
    pin = pinned(store)
    assert (pin["release_id"], pin["model"], pin["system_fingerprints"]) == (
        first,
        "qwen3:8b-q4_K_M",
        ["fp_q8b"],
    )
    shown = json.loads(invoke(store, "show", first, "--json").stdout)
    assert shown["state"] == "promoted"
    assert [e["action"] for e in shown["events"]][-2:] == ["supersede", "restore"]
    again = invoke(store, "promote", second)
    assert again.exit_code == 2
    assert "release rel-2 is rolled_back: cannot promote it (rolled_back is final)" in again.stderr

    listed = json.loads(invoke(store, "list", "--json").stdout)["releases"]
    assert [(r["release_id"], r["state"]) for r in listed] == [
        (third, "rejected"),
        (second, "rolled_back"),
        (first, "promoted"),
    ]
    exported = invoke(store, "export", second, "--format", "md")
    assert exported.exit_code == 0
    assert "| rollback | promoted → rolled\\_back | escalations dropped |" in exported.stdout
    # the evidence is the last gate's; the held gate before it stays in the event log
    assert "### Verdict: 🟢 Promote" in exported.stdout
    assert "| gate | proposed → gated | Identity drift: qwen3:14b answered as" in exported.stdout


def test_human_output_and_reading_an_empty_store(tmp_path: Path) -> None:
    store = tmp_path / "none.sqlite"
    listed = invoke(store, "list")
    assert listed.exit_code == 0 and "No releases recorded yet" in listed.stdout
    assert "No workflow is pinned yet" in invoke(store, "pinned").stdout
    missing = invoke(store, "show", "rel-1")
    assert missing.exit_code == 2 and "no release rel-1" in missing.stderr
    assert not store.exists()


@pytest.mark.parametrize(
    "command",
    ["new", "gate", "approve", "reject", "promote", "rollback", "list", "show", "pinned", "export"],
)
def test_every_release_command_prints_json(command: str) -> None:
    result = runner.invoke(app, ["release", command, "--help"])
    assert result.exit_code == 0 and "--json" in result.stdout


def test_export_to_a_file(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    release_id = proposed(store, release_files(tmp_path / "mock"))
    out = tmp_path / "review" / "release.md"
    result = invoke(store, "export", release_id, "--output", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# Release rel\\-1: support\\-triage")
    as_json = invoke(store, "export", release_id, "--json")
    assert json.loads(as_json.stdout)["state"] == "proposed"
    bad = invoke(store, "export", release_id, "--format", "pdf")
    assert bad.exit_code == 2
