"""The gate against real models on real OpenAI-compatible servers on 127.0.0.1.

SmolLM2-135M-Instruct (baseline) and Gemma-3-270M (candidate), each served by
llama-cpp-python's server, started and stopped by ``scripts/local_models.sh``. These tiny CPU
models mostly fail the contract: the test checks that the run completes with real figures and
a verdict, not that they pass.

Deselected by default (``-m "not local_models"`` in pyproject); CI runs it in its own step
after installing llama-cpp-python (``scripts/local_models.sh install``). There it sets
``REQUIRE_LOCAL_MODELS=1`` so that a missing install fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "local_models.sh"
CONFIG = ROOT / "examples" / "local-models" / "modelup.toml"
MODELUP = Path(sys.executable).parent / "modelup"

pytestmark = pytest.mark.local_models

# Looked up, not imported: the server runs in its own process, and importing llama_cpp here
# would open files at its import that this process never closes.
if importlib.util.find_spec("llama_cpp") is None:
    if os.environ.get("REQUIRE_LOCAL_MODELS") == "1":
        raise ImportError("llama-cpp-python is not installed (scripts/local_models.sh install)")
    pytest.skip("llama-cpp-python is not installed", allow_module_level=True)


def _script(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable, "WAIT_SECS": "240"}
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[None]:
    started = _script("serve", timeout=600)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        yield
    finally:
        _script("stop", timeout=60)


def test_gate_runs_against_real_local_models(servers: None, tmp_path: Path) -> None:
    report_file = tmp_path / "local.json"
    completed = subprocess.run(
        [
            str(MODELUP),
            "run",
            "--config",
            str(CONFIG),
            "--report-file",
            str(report_file),
            "--no-history",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert completed.returncode in (0, 3, 4), completed.stdout[-3000:] + completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == f"Report: {report_file}"
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["client"] == "live"
    assert report["decision"]["verdict"] in {"Promote", "Hold", "Rollback"}
    assert report["decision"]["reasons"]
    expected = {
        "smollm2-135m": "http://127.0.0.1:8081/v1",
        "gemma3-270m": "http://127.0.0.1:8082/v1",
    }
    for model in report["models"]:
        assert model["endpoint"] == expected[model["requested_model"]]
        summary = model["summary"]
        assert summary["case_count"] == report["dataset"]["case_count"] == 6
        assert summary["error_count"] == 0, [c["error"] for c in model["cases"]]
        assert summary["p95_latency_ms"] > 0
        assert summary["completion_tokens"] > 0 and summary["prompt_tokens"] > 0
        assert model["resolved_models"], "the server reported which model answered"
        for case in model["cases"]:
            assert case["raw_output"], case["case_id"]  # a real answer, whatever its quality
            assert len(case["checks"]) == 8  # support-ops: seven checks and plain_reply
    print(completed.stdout)  # the figures, for CI's log
