"""The history store: migrations from an empty and from an older database, recording, listing,
trends that never mix datasets, and the ``modelup history`` command."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.errors import StoreError
from modelup.history import MIGRATIONS, open_store, record_run
from modelup.history.migrations import applied_migrations, m001_initial, m002_run_details
from support.reports import case, make_report

OTHER_SHA = "ff99" + "1" * 60
NAMES = [step.__name__ for step in MIGRATIONS]


def at(day: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migrations_are_named_and_in_order() -> None:
    assert sorted(NAMES) == NAMES
    assert NAMES[0] == "m001_initial"
    assert len(set(NAMES)) == len(NAMES)


def test_an_empty_store_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.sqlite"
    store = open_store(path)
    assert store is not None
    store.close()
    assert {"runs", "figures", "decisions", "_migrations"} <= tables(path)
    with sqlite3.connect(path) as db:
        assert applied_migrations(db) == NAMES
    again = open_store(path)  # nothing left to run, nothing run twice
    assert again is not None
    again.close()
    with sqlite3.connect(path) as db:
        assert applied_migrations(db) == NAMES


def test_readers_never_create_a_store(tmp_path: Path) -> None:
    path = tmp_path / ".modelup" / "history.sqlite"
    assert open_store(path, create=False) is None
    assert not path.parent.exists()


def _old_store(path: Path, steps: int) -> sqlite3.Connection:
    """A store as an older modelup left it: only the first ``steps`` migrations ran."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for step in (m001_initial, m002_run_details)[:steps]:
        step(db)
        db.execute(
            "INSERT INTO _migrations VALUES (?, '2025-12-01T00:00:00+00:00')", (step.__name__,)
        )
    return db


def test_an_older_store_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    db = _old_store(path, steps=1)
    db.execute(
        "INSERT INTO runs VALUES ('old-1', '2025-12-01T10:00:00+00:00', 'support-ops', ?, "
        "'base-model', ?, 'Hold', '/reports/old-1.json')",
        ("ab" * 32, json.dumps(["cand-model"])),
    )
    db.execute(
        "INSERT INTO runs VALUES ('old-2', '2025-12-02T10:00:00+00:00', 'support-ops', ?, "
        "'base-model', ?, 'Rollback', NULL)",
        ("ab" * 32, json.dumps(["cand-model", "cand-two"])),
    )
    db.execute("INSERT INTO figures VALUES ('old-1', 'cand-model', 'candidate', 'pass_rate', 0.5)")
    db.close()

    store = open_store(path)
    assert store is not None
    with store:
        runs = {run.run_id: run for run in store.runs()}
        assert list(runs) == ["old-2", "old-1"]  # newest first
        old = runs["old-1"]
        assert old.verdict == "Hold" and old.report_path == "/reports/old-1.json"
        assert old.figures == {"cand-model": {"pass_rate": 0.5}}
        # m003 backfilled the per-candidate verdict where it is known: one candidate.
        assert old.verdicts == {"cand-model": "Hold"} and old.recommended == "cand-model"
        assert runs["old-2"].verdicts == {} and runs["old-2"].recommended is None
        assert old.workflow_version is None  # a column the old store did not have
        store.record(make_report(run_id="new-1", started=at(0)))
        assert [run.run_id for run in store.runs()] == ["new-1", "old-2", "old-1"]
    with sqlite3.connect(path) as check:
        assert applied_migrations(check) == NAMES


def test_a_store_two_steps_behind_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    _old_store(path, steps=2).close()
    store = open_store(path)
    assert store is not None
    store.close()
    with sqlite3.connect(path) as db:
        assert applied_migrations(db) == NAMES


def test_a_store_from_a_newer_modelup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    open_store(path).close()  # type: ignore[union-attr]
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO _migrations VALUES ('m999_future', 'x')")
    with pytest.raises(StoreError, match=r"newer modelup.*m999_future"):
        open_store(path)


def test_a_file_that_is_not_a_store_is_named(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=f"{path}: not a modelup history store"):
        open_store(path)


def test_recording_a_run_twice_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    report = make_report(started=at(1))
    record_run(report, tmp_path / "r.json", path)
    record_run(report, tmp_path / "r.json", path)
    store = open_store(path)
    assert store is not None
    with store:
        [run] = store.runs()
        assert run.run_id == report.run_id
        assert run.baseline == "base-model" and run.candidates == ("cand-model",)
        assert run.verdicts == {"cand-model": "Rollback"}
        assert run.report_path == str((tmp_path / "r.json").resolve())
        assert run.figures["cand-model"]["pass_rate"] == pytest.approx(1 / 3)
        assert run.figures["base-model"]["pass_rate"] == 1.0
        assert run.started_at == at(1) and run.workflow_version == "1"


def _three_runs_and_another_dataset(path: Path) -> None:
    passing = [case("UP-1", True), case("UP-2", True), case("UP-3", True)]
    for day, cases in enumerate(
        (passing, [case("UP-1", True), case("UP-2", False), case("UP-3", True)], passing)
    ):
        record_run(
            make_report(run_id=f"run-{day}", started=at(day), candidate_cases=cases), None, path
        )
    record_run(make_report(run_id="run-other", started=at(10), dataset_sha=OTHER_SHA), None, path)


def test_trends_never_join_different_datasets(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    _three_runs_and_another_dataset(path)
    store = open_store(path)
    assert store is not None
    with store:
        lines = store.trend("pass_rate", "cand-model")
        assert [(line.dataset_sha256[:4], len(line.points)) for line in lines] == [
            ("ab12", 3),
            ("ff99", 1),
        ]
        values = [point.value for point in lines[0].points]
        assert values == pytest.approx([1.0, 2 / 3, 1.0])
        [only] = store.trend("pass_rate", "cand-model", dataset="ff9")
        assert [p.run_id for p in only.points] == ["run-other"]
        assert store.trend("pass_rate", "cand-model", workflow="nope") == []
        with pytest.raises(StoreError, match=r"no run of model 'ghost'.*base-model, cand-model"):
            store.trend("pass_rate", "ghost")
        with pytest.raises(StoreError, match=r"figure 'speed' was never recorded.*pass_rate"):
            store.trend("speed", "cand-model")


def test_a_missing_figure_is_stored_as_missing_not_zero(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    errored = [case(f"UP-{i}", False, error="boom", latency=None) for i in (1, 2, 3)]
    record_run(make_report(candidate_cases=errored), None, path)
    store = open_store(path)
    assert store is not None
    with store:
        [line] = store.trend("p95_latency_ms", "cand-model")
        assert [point.value for point in line.points] == [None]


runner = CliRunner()


def test_cli_history_lists_runs(tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    _three_runs_and_another_dataset(store)
    result = runner.invoke(app, ["history", "--store", str(store)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert result.output.index("run-other") < result.output.index("run-0")
    assert "ab12cd34ef56" in result.output and "ff9911111111" in result.output
    assert "Rollback" in result.output
    assert "100.0% → 33.3%" in result.output  # pass rate, baseline → candidate
    limited = runner.invoke(
        app, ["history", "--store", str(store), "--limit", "1"], env={"COLUMNS": "250"}
    )
    assert "run-other" in limited.output and "run-0" not in limited.output


def test_cli_history_trend_prints_and_writes_a_chart(tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    _three_runs_and_another_dataset(store)
    args = ["history", "--store", str(store), "--trend", "pass_rate", "--model", "cand-model"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 datasets: each is its own line" in result.output
    assert "-33.3 pts" in result.output and "+33.3 pts" in result.output
    chart = tmp_path / "trend-pass_rate-cand-model.svg"
    assert f"Chart: {chart}" in result.output
    svg = chart.read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 1  # the one-point line has none
    assert svg.count("<circle") == 4
    assert "dataset ab12cd34ef56" in svg and "dataset ff9911111111" in svg


def test_cli_history_errors_are_usage_errors(tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    _three_runs_and_another_dataset(store)
    unknown = runner.invoke(
        app, ["history", "--store", str(store), "--trend", "speed", "--model", "cand-model"]
    )
    assert unknown.exit_code == 2 and "never recorded" in unknown.output
    no_model = runner.invoke(app, ["history", "--store", str(store), "--trend", "pass_rate"])
    assert no_model.exit_code == 2 and "--model" in no_model.output
    empty = runner.invoke(app, ["history", "--store", str(tmp_path / "none.sqlite")])
    assert empty.exit_code == 0 and "No runs recorded yet" in empty.output
    assert not (tmp_path / "none.sqlite").exists()


def test_cli_history_store_defaults_to_the_project_dot_modelup(tmp_path: Path) -> None:
    record_run(make_report(), None)  # the default path, relative to the working directory
    assert Path(".modelup/history.sqlite").is_file()
    result = runner.invoke(app, ["history"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "20260101T000000Z-abc123" in result.output


def test_store_path_in_a_config_file_is_relative_to_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "modelup.toml").write_text('[history]\npath = "state/runs.sqlite"\n')
    record_run(make_report(), None, project / "state" / "runs.sqlite")
    args = ["history", "--config", str(project / "modelup.toml")]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "20260101T000000Z-abc123" in result.output
