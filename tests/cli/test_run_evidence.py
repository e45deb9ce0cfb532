"""``modelup run`` when the evidence is missing or hostile: no evidence (exit 5), requests the
endpoint refuses (exit 2), a resumed run writing where it was told to, and endpoint text or URLs
that must never crash the console nor leak a password.

The runs that must survive hostile text run in a subprocess, so that their output goes to a real
UTF-8 pipe: a lone surrogate that reached ``print`` would crash it there, as in a terminal.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.store import open_store
from support.live_support import SUPPORT_OPS_DATASET, SupportAnswers, support_ops
from support.openai_server import ChatCall, HttpError, Malformed, OpenAITestServer, Reply

runner = CliRunner()
REJECTION_LIMIT = 5  # the early stop documented in docs/live-endpoints.md
ENTRY = "from modelup._cli.main import main; main()"


def config(
    tmp_path: Path, base_url: str, *, extra: str = "", llm: str = "", concurrency: int = 2
) -> Path:
    path = tmp_path / "modelup.toml"
    path.write_text(
        f"""
[experiment]
use_mock_client = false
dataset_path = "{SUPPORT_OPS_DATASET}"
report_directory = "reports"
runs_directory = "runs"
concurrency = {concurrency}

[llm]
base_url = "{base_url}"
baseline_model_id = "base"
candidate_model_id = "cand"
max_attempts = 1
{llm}

[cache]
enabled = false

[history]
path = "history.sqlite"
{extra}
""",
        encoding="utf-8",
    )
    return path


def run_cli(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "run", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "COLUMNS": "200"}
        | {key: value for key, value in os.environ.items() if key == "PYTHONPATH"},
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------------ 3. no evidence


def test_every_call_of_a_model_failing_is_no_evidence_exit_5(tmp_path: Path) -> None:
    def responder(call: ChatCall) -> Reply:
        return HttpError(503, "upstream overloaded")

    with OpenAITestServer(responder) as server:
        result = runner.invoke(app, ["run", "--config", str(config(tmp_path, server.base_url))])
    assert result.exit_code == 5, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) > 0 and lines[-1].startswith("error: no evidence: every call of baseline")
    assert "HTTP 503: upstream overloaded" in lines[-1]
    assert "Resume" not in result.output and "Rollback" not in result.output
    assert not (tmp_path / "reports").exists(), "no report of nothing but errors"
    assert not any((tmp_path / "runs").glob("*/plan.json")), "no empty run to resume"


def test_a_server_that_is_not_listening_is_no_evidence_not_a_bug(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    result = runner.invoke(app, ["run", "--config", str(config(tmp_path, url))])
    assert result.exit_code == 5, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()][-1:]
    assert line.startswith(f"error: no evidence: cannot reach {url}")
    assert "Resume" not in result.output
    assert not any((tmp_path / "runs").glob("*/plan.json"))


def test_no_evidence_after_some_answers_keeps_the_run_resumable(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with OpenAITestServer(SupportAnswers(workflow, dataset)) as server:
        # Two attempts: the backoff between them lets the baseline answer meanwhile.
        own = f'[models."cand"]\nbase_url = "{url}"\nmax_attempts = 2\n'
        path = config(tmp_path, server.base_url, extra=own, concurrency=1)
        result = runner.invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 5, result.output
    assert "modelup run --resume" in result.output  # the baseline's answers are kept
    assert any((tmp_path / "runs").glob("*/plan.json"))


# ------------------------------------------------------------- 3. requests refused: exit 2


def test_the_same_4xx_on_the_first_calls_stops_early_with_the_endpoints_message(
    tmp_path: Path,
) -> None:
    def responder(call: ChatCall) -> Reply:
        if call.model == "cand":
            return HttpError(400, "Unsupported parameter: 'seed' is not supported with this model")
        return SupportAnswers(*support_ops())(call)

    with OpenAITestServer(responder) as server:
        result = runner.invoke(
            app, ["run", "--config", str(config(tmp_path, server.base_url, concurrency=1))]
        )
        calls = [call.model for call in server.calls]
    assert result.exit_code == 2, result.output
    assert f"rejected the first {REJECTION_LIMIT} requests for model 'cand'" in result.output
    assert "HTTP 400: Unsupported parameter: 'seed' is not supported" in result.output
    assert "safety pass rate" not in result.output and "Rollback" not in result.output
    assert calls.count("cand") == REJECTION_LIMIT  # not 36: the run stopped early
    # Resuming would send the same refused requests: no resume is offered.
    assert "Resume" not in result.output
    assert not any((tmp_path / "runs").glob("*/plan.json"))


def test_a_rejected_api_key_is_bad_configuration_exit_2(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    with OpenAITestServer(SupportAnswers(workflow, dataset), api_key="the-right-key") as server:
        path = config(tmp_path, server.base_url, llm='api_key = "a-wrong-key"')
        result = runner.invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{server.base_url} rejected the API key (HTTP 401)" in result.output
    assert "a-wrong-key" not in result.output


def test_a_4xx_after_answers_is_an_errored_case_not_a_stop(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset)
    late = {case.id for case in dataset.cases[-REJECTION_LIMIT - 1 :]}

    def responder(call: ChatCall) -> Reply:
        if call.model == "cand" and answers.case_of(call).id in late:
            return HttpError(400, "context length exceeded")
        return answers(call)

    with OpenAITestServer(responder) as server:
        result = runner.invoke(
            app, ["run", "--config", str(config(tmp_path, server.base_url, concurrency=1))]
        )
    assert result.exit_code == 3, result.output
    assert "errored calls" in result.output


# --------------------------------------------------------------- 11. resume writes as told


def test_a_resumed_run_writes_where_and_as_the_original_was_told(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    with OpenAITestServer(SupportAnswers(workflow, dataset, delay_s=0.03)) as server:
        path = config(tmp_path, server.base_url)
        target = tmp_path / "out" / "gate.json"
        told = ["--report-file", str(target), "--format", "json,html,md"]
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "run", "--config", str(path), *told],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            journal = _wait_for_journal(tmp_path / "runs", lines=10)
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=20)
        finally:
            process.kill()
        assert process.returncode == 130
        run_id = journal.parent.name
        # Resumed from elsewhere, with neither --report-file nor --format.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        resumed = run_cli(elsewhere, "--config", str(path), "--resume", run_id)
    assert resumed.returncode in (0, 3, 4), resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1] == f"Report: {target}"
    assert json.loads(target.read_text())["run_id"] == run_id
    assert target.with_suffix(".html").is_file() and target.with_suffix(".md").is_file()
    assert not (tmp_path / "reports").exists() and not (elsewhere / "reports").exists()


def _wait_for_journal(runs: Path, lines: int, timeout_s: float = 20.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for journal in runs.glob("*/journal.jsonl"):
            if journal.read_bytes().count(b"\n") >= lines:
                return journal
        time.sleep(0.01)
    raise AssertionError(f"the journal never reached {lines} lines")


# --------------------------------------------------------------- 12, 13. hostile endpoints


def _body(content: str, **fields: Any) -> bytes:
    payload = {"choices": [{"message": {"content": content}, "finish_reason": "stop"}], **fields}
    return json.dumps(payload).encode()


def test_a_body_nested_too_deep_is_that_calls_error(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset)
    deep = b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    def responder(call: ChatCall) -> Reply:
        if call.model == "cand" and answers.case_of(call).id == dataset.cases[0].id:
            return Malformed(deep)  # past the JSON parser's recursion limit
        return answers(call)

    with OpenAITestServer(responder) as server:
        result = run_cli(tmp_path, "--config", str(config(tmp_path, server.base_url)))
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    report = json.loads(Path(tmp_path, last.removeprefix("Report: ")).read_text())
    errored = [case for case in report["models"][1]["cases"] if case["error"]]
    assert len(errored) == 1 and "malformed response body (RecursionError)" in errored[0]["error"]


def test_hostile_identities_never_crash_the_console_or_the_history(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset)
    hostile = "m\ud800x\x00\x1b[31mred\u202e"

    def responder(call: ChatCall) -> Reply:
        reply = answers(call)
        if call.model != "cand":
            return reply
        assert hasattr(reply, "content")
        fields = {"model": hostile, "system_fingerprint": "fp\ud800\x00", "id": "\udfff"}
        return Malformed(_body(reply.content, **fields))  # lone surrogates, NUL, ESC, bidi

    with OpenAITestServer(responder) as server:
        result = run_cli(tmp_path, "--config", str(config(tmp_path, server.base_url)))
    # The candidate answered as the baseline did, under a hostile name: identity drift holds.
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Report: ")
    assert "\x00" not in result.stdout and "\x1b[31m" not in result.stdout
    shown = "m\ufffdx\ufffd\ufffd[31mred[U+202E]"
    assert "Alias resolution" in result.stdout and shown in result.stdout
    report = json.loads(Path(tmp_path, last.removeprefix("Report: ")).read_text())
    candidate = report["models"][1]
    assert candidate["resolved_models"] == [shown]
    assert candidate["system_fingerprints"] == ["fp\ufffd\ufffd"]
    assert candidate["summary"]["identity_drift"] == 36
    store = open_store(tmp_path / "history.sqlite", create=False)
    assert store is not None, "the run was recorded in history"
    with store:
        assert [run.run_id for run in store.runs()] == [report["run_id"]]


# ------------------------------------------------------------------- 14. URL credentials


def test_a_password_in_base_url_is_saved_nowhere_and_resume_still_works(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    secret = "s3cr3t-P4ss"
    with OpenAITestServer(SupportAnswers(workflow, dataset, delay_s=0.03)) as server:
        url = server.base_url.replace("http://", f"http://user:{secret}@")
        own = f'[models."cand"]\nbase_url = "{url}"\n'
        path = config(tmp_path, url, extra=own)
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "run", "--config", str(path)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            journal = _wait_for_journal(tmp_path / "runs", lines=10)
            plan = (journal.parent / "plan.json").read_text()
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
        finally:
            process.kill()
        assert secret not in plan and "user@127.0.0.1" in plan
        assert secret not in stderr
        resumed = run_cli(tmp_path, "--config", str(path), "--resume", journal.parent.name)
    assert resumed.returncode in (0, 3, 4), resumed.stderr
    assert secret not in resumed.stdout + resumed.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".toml"]
    assert any(p.suffix == ".json" for p in files)
    for written in files:
        assert secret.encode() not in written.read_bytes(), written
