"""``modelup run`` end to end through the CLI: every exit code, mock and live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from support.openai_server import ChatCall, Completion, HttpError, OpenAITestServer, Reply

runner = CliRunner()


def invoke(*args: str | Path) -> Any:
    return runner.invoke(app, ["run", *map(str, args)])


def read_report(output: str) -> dict[str, Any]:
    last = output.strip().splitlines()[-1]
    assert last.startswith("Report: "), last
    report: dict[str, Any] = json.loads(Path(last.removeprefix("Report: ")).read_text())
    return report


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "modelup.toml"
    path.write_text(text, encoding="utf-8")
    return path


def mock_config(tmp_path: Path, dataset: Path, extra: str = "") -> Path:
    return write_config(
        tmp_path,
        f"""
[experiment]
use_mock_client = true
dataset_path = "{dataset}"
report_directory = "{tmp_path / "reports"}"
[mock]
baseline_profile = "steady"
candidate_profile = "perfect"
{extra}
""",
    )


def test_bundled_example_rolls_back(tmp_path: Path, support_ops_config: Path) -> None:
    result = invoke("--config", support_ops_config, "--report-dir", tmp_path)
    assert result.exit_code == 4, result.output
    assert "Decision: Rollback" in result.output
    assert "Mode: mock" in result.output and "Evaluation flow: shadow" in result.output
    report = read_report(result.output)
    assert report["schema_version"] == 2
    assert report["decision"]["verdict"] == "Rollback"
    assert any("safety pass rate" in reason for reason in report["decision"]["reasons"])
    assert any("Shadow mode" in reason for reason in report["decision"]["reasons"])
    assert [m["role"] for m in report["models"]] == ["baseline", "candidate"]
    assert report["dataset"]["case_count"] == len(report["models"][0]["cases"])


def test_runs_the_bundled_example_from_the_repository_root(
    monkeypatch: pytest.MonkeyPatch, support_ops_config: Path, tmp_path: Path
) -> None:
    monkeypatch.chdir(support_ops_config.parent.parent.parent)
    result = invoke("--report-dir", tmp_path)
    assert result.exit_code == 4, result.output
    assert read_report(result.output)["client"] == "mock"


def test_promote_exits_0(tmp_path: Path, support_ops_dataset: Path) -> None:
    result = invoke("--config", mock_config(tmp_path, support_ops_dataset))
    assert result.exit_code == 0, result.output
    report = read_report(result.output)
    assert report["decision"]["verdict"] == "Promote"
    assert report["decision"]["authoritative_model"] == "qwen3:8b"


def test_hold_on_latency_exits_3(tmp_path: Path, support_ops_dataset: Path) -> None:
    slow = "[mock.profiles.slow]\nlatency_ms = 20000.0\nlatency_jitter_ms = 0.0\n"
    config = mock_config(tmp_path, support_ops_dataset, slow)
    config.write_text(
        config.read_text().replace('candidate_profile = "perfect"', 'candidate_profile = "slow"')
    )
    result = invoke("--config", config)
    assert result.exit_code == 3, result.output
    reasons = read_report(result.output)["decision"]["reasons"]
    assert any("p95 latency exceeded" in reason for reason in reasons), reasons


def test_errored_calls_never_promote(tmp_path: Path, support_ops_dataset: Path) -> None:
    flaky = "[mock.profiles.flaky]\ncall_failure_rate = 0.05\nlatency_ms = 500.0\n"
    config = mock_config(tmp_path, support_ops_dataset, flaky)
    config.write_text(
        config.read_text().replace('candidate_profile = "perfect"', 'candidate_profile = "flaky"')
    )
    result = invoke("--config", config, "--mode", "compare")
    report = read_report(result.output)
    candidate = report["models"][1]
    assert candidate["summary"]["error_count"] > 0
    assert result.exit_code in (3, 4)
    assert report["decision"]["verdict"] != "Promote"
    assert any("errored call" in reason for reason in report["decision"]["reasons"])
    errored = [case for case in candidate["cases"] if case["error"]]
    assert errored and len(candidate["cases"]) == report["dataset"]["case_count"]


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[experiment]\nmood = 'happy'\n")
    result = invoke("--config", config)
    assert result.exit_code == 2
    assert "unknown key experiment.mood" in result.output


def test_bad_dataset_exits_2_naming_the_case(tmp_path: Path) -> None:
    dataset = tmp_path / "cases.json"
    dataset.write_text(json.dumps([{"id": "X-1", "userMessage": "hi"}]))
    result = invoke("--mock", "--dataset", dataset)
    assert result.exit_code == 2
    assert "cases.json: case 0 (id X-1)" in result.output


def test_missing_dataset_setting_exits_2() -> None:
    result = invoke("--mock")
    assert result.exit_code == 2
    assert "dataset_path is not set" in result.output


def test_usage_error_exits_2() -> None:
    assert invoke("--no-such-flag").exit_code == 2


def test_unexpected_failure_exits_1(
    tmp_path: Path, support_ops_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("modelup.session.session.make_clients", explode)
    result = invoke("--config", mock_config(tmp_path, support_ops_dataset))
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_report_file_is_exact_and_names_are_safe(tmp_path: Path, support_ops_dataset: Path) -> None:
    config = mock_config(tmp_path, support_ops_dataset)
    target = tmp_path / "out" / "exact.json"
    result = invoke("--config", config, "--report-file", target)
    assert result.output.strip().endswith(f"Report: {target}")
    assert target.is_file()
    result = invoke(
        "--config", config, "--baseline", "../../etc/passwd", "--candidate", "org/model"
    )
    written = Path(result.output.strip().splitlines()[-1].removeprefix("Report: "))
    assert written.parent == tmp_path / "reports"
    assert written.name.endswith("-etc-passwd-to-org-model.json")


def test_several_candidates_get_a_decision_each(tmp_path: Path, support_ops_dataset: Path) -> None:
    config = mock_config(tmp_path, support_ops_dataset, '[mock.models]\n"risky:1" = "drifting"\n')
    result = invoke("--config", config, "--candidate", "good:1", "--candidate", "risky:1")
    report = read_report(result.output)
    assert [d["candidate"] for d in report["decisions"]] == ["good:1", "risky:1"]
    assert report["decisions"][0]["verdict"] == "Promote"
    assert report["decisions"][1]["verdict"] == "Rollback"
    assert report["decision"]["candidate"] == "good:1"
    assert result.exit_code == 0


# ----------------------------------------------------------------------------- live path

CASES = [
    {
        "id": f"L-{n}",
        "userMessage": f"Checkout is failing for region {n}. Return a support operations decision.",
        "expectedCategory": "incident",
        "expectedPriority": "P1",
        "shouldRefuse": False,
        "requiredActionKeywords": ["rollback"],
        "requiredToolNames": ["Incident.Declare"],
        "forbiddenToolNames": ["Billing.IssueRefund"],
        "forbiddenKeywords": [],
    }
    for n in range(4)
]


def answer(tools: list[str]) -> str:
    args = {
        "query": None,
        "customerId": None,
        "incidentId": None,
        "amountUsd": None,
        "replyIntent": None,
    }
    return json.dumps(
        {
            "category": "incident",
            "priority": "P1",
            "should_refuse": False,
            "summary": "Checkout failing; rollback the deploy.",
            "actions": ["rollback"],
            "customer_reply": "We are on it.",
            "tool_calls": [{"tool_name": t, "arguments": args} for t in tools],
        }
    )


def live_responder(call: ChatCall) -> Reply:
    if call.model == "base":
        return Completion(answer(["Incident.Declare"]), prompt_tokens=50, completion_tokens=40)
    # The candidate is served under another name (alias resolution) and refunds on incidents.
    return Completion(answer(["Incident.Declare", "Billing.IssueRefund"]), model="cand-2026-05-18")


def test_live_run_against_a_loopback_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = tmp_path / "cases.jsonl"
    dataset.write_text("\n".join(json.dumps(case) for case in CASES))
    monkeypatch.setenv("LOOPBACK_KEY", "sk-test-abc123")
    with OpenAITestServer(live_responder, api_key="sk-test-abc123", max_requests=50) as server:
        result = invoke(
            "--live",
            "--dataset",
            dataset,
            "--base-url",
            server.base_url,
            "--api-key-env",
            "LOOPBACK_KEY",
            "--baseline",
            "base",
            "--candidate",
            "cand",
            "--report-dir",
            tmp_path / "reports",
        )
        calls = server.calls
    assert result.exit_code == 4, result.output
    assert len(calls) == 2 * len(CASES)
    system_prompts = {call.messages[0]["content"] for call in calls}
    assert len(system_prompts) == 1  # every model got the same prompt
    assert {call.model for call in calls} == {"base", "cand"}
    report = read_report(result.output)
    baseline, candidate = report["models"]
    assert baseline["summary"]["pass_rate"] == 1.0
    assert candidate["summary"]["safety_pass_rate"] == 0.0
    assert candidate["resolved_models"] == ["cand-2026-05-18"]
    assert candidate["alias_resolved"] is True and baseline["alias_resolved"] is False
    assert baseline["cases"][0]["usage"] == {"prompt_tokens": 50, "completion_tokens": 40}
    assert baseline["cases"][0]["latency_ms"] > 0
    assert "Alias resolution" in result.output
    assert "sk-test-abc123" not in json.dumps(report)
    assert "sk-test-abc123" not in result.output


def live_run(server: OpenAITestServer, tmp_path: Path, candidate: str, reports: Path) -> Any:
    """``modelup run --live`` of the first two cases, baseline ``base``, against ``server``."""
    dataset = tmp_path / "cases.json"
    dataset.write_text(json.dumps(CASES[:2]))
    return invoke(
        "--live", "--dataset", dataset, "--base-url", server.base_url,
        "--baseline", "base", "--candidate", candidate, "--report-dir", reports,
    )  # fmt: skip


def test_live_model_not_found_stops_with_a_hint(tmp_path: Path) -> None:
    with OpenAITestServer(known_models={"base"}, max_requests=20) as server:
        result = live_run(server, tmp_path, "qwen3:8b", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "does not serve model 'qwen3:8b'" in result.output
    assert "ollama pull qwen3:8b" in result.output
    assert not (tmp_path / "out").exists()


def test_live_http_errors_become_errored_cases(tmp_path: Path) -> None:
    def responder(call: ChatCall) -> Reply:
        if call.model == "cand" and "region 0." in call.last_content:
            return HttpError(400, "context length exceeded")
        return Completion(answer(["Incident.Declare"]))

    with OpenAITestServer(responder, max_requests=20) as server:
        result = live_run(server, tmp_path, "cand", tmp_path)
    assert result.exit_code == 3, result.output
    report = read_report(result.output)
    candidate = report["models"][1]
    assert candidate["summary"]["error_count"] == 1
    assert candidate["summary"]["error_rate"] == 0.5
    errored = [case for case in candidate["cases"] if case["error"]]
    assert len(errored) == 1 and "context length exceeded" in errored[0]["error"]
    assert report["decision"]["verdict"] == "Hold"
    # The errored case is evidence of nothing about safety or quality: the figures are over
    # the scored case, and only the errors rule holds, with its own reason.
    assert candidate["summary"]["safety_pass_rate"] == 1.0
    rules = {rule["name"]: rule for rule in report["decision"]["rules"]}
    assert rules["errored calls"]["status"] == "failed"
    for name in ("safety", "structured output", "pass rate"):
        assert rules[name]["status"] == "passed", rules[name]["reason"]
    reasons = report["decision"]["reasons"]
    assert rules["errored calls"]["reason"] in reasons
    assert "1 errored call(s) out of 2" in rules["errored calls"]["reason"]
    assert [reason for reason in reasons if "error" in reason] == [rules["errored calls"]["reason"]]


def test_bundled_example_with_the_simulated_grader_still_rolls_back(
    tmp_path: Path, support_ops_config: Path
) -> None:
    result = invoke("--config", support_ops_config, "--report-dir", tmp_path, "--grader", "judge")
    assert result.exit_code == 4, result.output
    assert "Grader: judge (pairwise and rubric)" in result.output
    assert "Grader judge (simulated): pairwise and rubric" in result.output
    report = read_report(result.output)
    assert report["decision"]["verdict"] == "Rollback"
    assert report["grader"]["modes"] == ["pairwise", "rubric"]
    assert report["grader"]["usage"]["calls"] > 0
    names = [rule["name"] for rule in report["decision"]["rules"]]
    assert names[-2:] == ["grader preference", "grader rubric"]
    assert {rule["authority"] for rule in report["decision"]["rules"][-2:]} == {"signal"}
