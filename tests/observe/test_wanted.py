"""A process traces when the store is asked for or a collector is named, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelup.config.settings import Settings
from modelup.observe.wanted import ENDPOINT_VARIABLES, otel_destination, tracing_wanted

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/support-ops/dataset.json"


def test_nothing_asked_for_is_no_tracing() -> None:
    assert not tracing_wanted(Settings())


def test_the_store_or_a_collector_is_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tracing_wanted(Settings(traces={"enabled": True}))
    assert tracing_wanted(Settings(otel={"endpoint": "http://127.0.0.1:4318"}))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing_wanted(Settings())


def test_the_most_specific_variable_wins_and_blank_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    traces_only, general = ENDPOINT_VARIABLES
    monkeypatch.setenv(general, "http://127.0.0.1:1")
    monkeypatch.setenv(traces_only, "  ")
    assert otel_destination(Settings()) == "http://127.0.0.1:1"
    monkeypatch.setenv(traces_only, "http://127.0.0.1:2/v1/traces")
    assert otel_destination(Settings()) == "http://127.0.0.1:2/v1/traces"
    assert otel_destination(Settings(otel={"endpoint": "http://127.0.0.1:3"})) == (
        "http://127.0.0.1:3"
    )


def test_a_run_that_traces_nothing_never_imports_the_recorder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    code = (  # the command ends the process (``leave``) after its atexit handlers
        "import atexit, sys\n"
        "atexit.register(lambda: print([name for name in"
        " ('modelup.observe.run_trace', 'modelup.observe.otel') if name in sys.modules]))\n"
        "from modelup._cli.main import main\n"
        "main()\n"
    )
    args = ["run", "--mock", "--dataset", str(EXAMPLE), "--report-dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "MODELUP_HISTORY__ENABLED": "false"},
    )
    assert "Report:" in done.stdout, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
