"""A live run killed midway (SIGKILL) or interrupted (Ctrl-C) resumes with only the missing
calls: no call whose answer was saved is made again, and no result is lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from modelup.models.cache import cache_key
from modelup.models.chat import ChatRequest
from support.live_support import SUPPORT_OPS_DATASET, SupportAnswers, support_ops
from support.openai_server import OpenAITestServer

MODELS = ("base", "cand")
ENTRY = "from modelup._cli.main import main; main()"


def write_config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "modelup.toml"
    path.write_text(
        f"""
[experiment]
use_mock_client = false
dataset_path = "{SUPPORT_OPS_DATASET}"
report_directory = "reports"
concurrency = 2

[llm]
base_url = "{base_url}"
api_key = "local"
baseline_model_id = "base"
candidate_model_id = "cand"
""",
        encoding="utf-8",
    )
    return path


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, "run", "--no-cache", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_journal(tmp_path: Path, lines: int, timeout_s: float = 20.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for journal in (tmp_path / ".modelup" / "runs").glob("*/journal.jsonl"):
            if journal.read_bytes().count(b"\n") >= lines:
                return journal
        time.sleep(0.01)
    raise AssertionError(f"the journal never reached {lines} lines")


def journaled(journal: Path, base_url: str) -> set[tuple[str, str]]:
    """The (model, case) pairs whose outcome the journal holds (it is keyed by request)."""
    workflow, dataset = support_ops()
    by_key = {
        cache_key(base_url, ChatRequest(model, workflow.prompt.render(case.fields))): (
            model,
            case.id,
        )
        for model in MODELS
        for case in dataset.cases
    }
    saved = set()
    for raw in journal.read_bytes().splitlines(keepends=True):
        if raw.endswith(b"\n"):
            saved.add(by_key[json.loads(raw)["k"]])
    return saved


def calls_of(answers: SupportAnswers, server: OpenAITestServer, since: int) -> list[Any]:
    return [(call.model, answers.case_of(call).id) for call in server.calls[since:]]


def resume_and_check(
    tmp_path: Path, server: OpenAITestServer, answers: SupportAnswers, journal: Path
) -> None:
    _, dataset = support_ops()
    everything = {(model, case.id) for model in MODELS for case in dataset.cases}
    saved = journaled(journal, server.base_url)
    assert 0 < len(saved) < len(everything)
    run_id = journal.parent.name
    before = len(server.calls)
    resumed = subprocess.run(
        [sys.executable, "-c", ENTRY, "run", "--no-cache", "--resume", run_id],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode in (0, 3, 4), resumed.stderr
    again = calls_of(answers, server, before)
    assert not set(again) & saved, "a call whose answer was saved was made again"
    assert sorted(again) == sorted(everything - saved), "exactly the missing calls are made"
    last = resumed.stdout.strip().splitlines()[-1]
    report = json.loads(Path(tmp_path, last.removeprefix("Report: ")).read_text())
    assert report["run_id"] == run_id
    for model in report["models"]:
        assert [case["case_id"] for case in model["cases"]] == [c.id for c in dataset.cases]
        assert model["summary"]["error_count"] == 0
    assert not journal.parent.exists(), "a finished run's checkpoint is removed"


def test_a_killed_run_resumes_with_only_the_missing_calls(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset, delay_s=0.04)
    with OpenAITestServer(answers) as server:
        write_config(tmp_path, server.base_url)
        process = start(tmp_path)
        try:
            journal = wait_for_journal(tmp_path, 20)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
        finally:
            process.kill()
        assert process.returncode == -signal.SIGKILL
        resume_and_check(tmp_path, server, answers, journal)


def test_ctrl_c_leaves_a_checkpoint_and_says_how_to_resume(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset, delay_s=0.04)
    with OpenAITestServer(answers) as server:
        write_config(tmp_path, server.base_url)
        process = start(tmp_path)
        try:
            journal = wait_for_journal(tmp_path, 20)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
        finally:
            process.kill()
        assert process.returncode == 130, stderr
        run_id = journal.parent.name
        assert f"modelup run --resume {run_id}" in stderr
        lines = journal.read_bytes().splitlines(keepends=True)
        assert all(line.endswith(b"\n") for line in lines), "Ctrl-C leaves whole lines only"
        resume_and_check(tmp_path, server, answers, journal)
