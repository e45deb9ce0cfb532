"""The history store on both engines (``store_url``: a SQLite file, a PostgreSQL schema):
migrations from an empty and from an older database, recording, listing, trends that never mix
datasets, and the ``modelup history`` command."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.errors import StoreError
from modelup.report.schema import PromptRecord, Report, WorkflowRecord
from modelup.store import (
    MIGRATIONS,
    applied_migrations,
    connect,
    open_store,
    record_run,
    series_label,
)
from support.reports import case, make_report

OTHER_SHA = "ff99" + "1" * 60
NAMES = [step.__name__ for step in MIGRATIONS]


def at(day: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)


def applied(url: str) -> list[str]:
    with connect(url, create=False) as db:
        return applied_migrations(db)


def test_migrations_are_named_and_in_order() -> None:
    assert sorted(NAMES) == NAMES
    assert NAMES[:3] == ["m001_initial", "m002_run_details", "m003_decisions"]
    assert len(set(NAMES)) == len(NAMES)


def test_an_empty_store_gets_every_migration(store_url: str) -> None:
    store = open_store(store_url)
    assert store is not None
    store.close()
    with connect(store_url) as db:
        assert all(db.table_exists(name) for name in ("runs", "figures", "decisions"))
    assert applied(store_url) == NAMES
    again = open_store(store_url)  # nothing left to run, nothing run twice
    assert again is not None
    again.close()
    assert applied(store_url) == NAMES


def test_readers_never_create_a_store(store_url: str, tmp_path: Path) -> None:
    assert open_store(store_url, create=False) is None
    if store_url.startswith("postgresql"):
        with connect(store_url) as db:
            assert not db.table_exists("_migrations") and not db.table_exists("runs")
    else:
        assert not (tmp_path / "store").exists()


# What modelup 0.1 ran, verbatim: a store it left must open with every run.
OLD_M001 = (
    """CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL,
    workflow TEXT NOT NULL, dataset_sha256 TEXT NOT NULL, baseline TEXT NOT NULL,
    candidates TEXT NOT NULL, verdict TEXT NOT NULL, report_path TEXT)""",
    "CREATE INDEX runs_started_at ON runs (started_at)",
    """CREATE TABLE figures (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE, model TEXT NOT NULL,
    role TEXT NOT NULL, figure TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, model, figure))""",
    "CREATE INDEX figures_model_figure ON figures (model, figure)",
)
OLD_M002 = tuple(
    f"ALTER TABLE runs ADD COLUMN {column}"
    for column in (
        "finished_at TEXT",
        "workflow_version TEXT",
        "mode TEXT",
        "client TEXT",
        "dataset_path TEXT",
        "case_count INTEGER",
        "prompt_sha256 TEXT",
        "tool_version TEXT",
        "recorded_at TEXT",
    )
)
OLD_M003 = (
    "ALTER TABLE runs ADD COLUMN recommended TEXT",
    """CREATE TABLE decisions (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE, candidate TEXT NOT NULL,
    verdict TEXT NOT NULL, PRIMARY KEY (run_id, candidate))""",
)
OLD_STEPS = (
    ("m001_initial", OLD_M001),
    ("m002_run_details", OLD_M002),
    ("m003_decisions", OLD_M003),
)


def _old_store(path: Path, steps: int) -> sqlite3.Connection:
    """A store as an older modelup left it: only its first ``steps`` migrations ran."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, statements in OLD_STEPS[:steps]:
        for statement in statements:
            db.execute(statement)
        db.execute("INSERT INTO _migrations VALUES (?, '2025-12-01T00:00:00+00:00')", (name,))
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
    assert applied(str(path)) == NAMES


def test_a_store_two_steps_behind_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    _old_store(path, steps=2).close()
    open_store(path).close()  # type: ignore[union-attr]
    assert applied(str(path)) == NAMES


def test_a_store_of_the_current_release_opens_as_it_is_with_its_runs(tmp_path: Path) -> None:
    """A file written by modelup before the store package (m001-m003, run by the old runner)."""
    path = tmp_path / "history.sqlite"
    db = _old_store(path, steps=3)
    db.execute(
        "INSERT INTO runs (run_id, started_at, workflow, dataset_sha256, baseline, candidates, "
        "verdict, recommended, workflow_version) VALUES ('kept', '2025-12-03T10:00:00+00:00', "
        "'support-ops', ?, 'base-model', ?, 'Promote', 'cand-model', '2')",
        ("cd" * 32, json.dumps(["cand-model"])),
    )
    db.execute("INSERT INTO decisions VALUES ('kept', 'cand-model', 'Promote')")
    db.execute("INSERT INTO figures VALUES ('kept', 'base-model', 'baseline', 'pass_rate', 0.75)")
    db.close()
    store = open_store(path, create=False)
    assert store is not None
    with store:
        [run] = store.runs()
        assert (run.run_id, run.verdict, run.workflow_version) == ("kept", "Promote", "2")
        assert run.verdicts == {"cand-model": "Promote"}
        assert run.figures == {"base-model": {"pass_rate": 0.75}}
    assert applied(str(path)) == NAMES


def test_a_store_from_a_newer_modelup_is_refused(store_url: str) -> None:
    open_store(store_url).close()  # type: ignore[union-attr]
    with connect(store_url) as db:
        db.execute("INSERT INTO _migrations VALUES ('m999_future', 'x')")
    with pytest.raises(StoreError, match=r"newer modelup.*m999_future"):
        open_store(store_url)
    with pytest.raises(StoreError, match=r"newer modelup.*m999_future"):
        open_store(store_url, create=False)


def test_a_file_that_is_not_a_store_is_named(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=f"{path}: not a modelup history store"):
        open_store(path)


def test_recording_a_run_twice_replaces_it(store_url: str, tmp_path: Path) -> None:
    report = make_report(started=at(1))
    record_run(report, tmp_path / "r.json", store_url)
    record_run(report, tmp_path / "r.json", store_url)
    store = open_store(store_url)
    assert store is not None
    with store:
        [run] = store.runs()
        assert run.run_id == report.run_id
        assert run.baseline == "base-model" and run.candidates == ("cand-model",)
        assert run.verdicts == {"cand-model": "Rollback"}
        assert run.report_path == str((tmp_path / "r.json").resolve())
        assert run.figures["cand-model"]["pass_rate"] == 1 / 3  # exactly: a double, both engines
        assert run.figures["base-model"]["pass_rate"] == 1.0
        assert run.started_at == at(1) and run.workflow_version == "1"


def _two_candidates(report: Report) -> Report:
    """``report`` with a second challenger, named so that its order is not alphabetical."""
    second = report.models[1].model_copy(update={"requested_model": "alpha-model"})
    decision = report.decisions[0].model_copy(
        update={"candidate": "alpha-model", "verdict": "Hold"}
    )
    return report.model_copy(
        update={"models": [*report.models, second], "decisions": [*report.decisions, decision]}
    )


def test_verdicts_and_figures_keep_the_order_they_were_recorded_in(store_url: str) -> None:
    record_run(_two_candidates(make_report(candidate="zeta-model")), None, store_url)
    store = open_store(store_url)
    assert store is not None
    with store:
        [run] = store.runs()
        assert list(run.verdicts.items()) == [("zeta-model", "Rollback"), ("alpha-model", "Hold")]
        assert list(run.figures) == ["base-model", "zeta-model", "alpha-model"]
        assert list(run.figures["base-model"]) == list(make_report().models[0].summary)


def _three_runs_and_another_dataset(url: str) -> None:
    passing = [case("UP-1", True), case("UP-2", True), case("UP-3", True)]
    for day, cases in enumerate(
        (passing, [case("UP-1", True), case("UP-2", False), case("UP-3", True)], passing)
    ):
        record_run(
            make_report(run_id=f"run-{day}", started=at(day), candidate_cases=cases), None, url
        )
    record_run(make_report(run_id="run-other", started=at(10), dataset_sha=OTHER_SHA), None, url)


def test_trends_never_join_different_datasets(store_url: str) -> None:
    _three_runs_and_another_dataset(store_url)
    store = open_store(store_url)
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
        [upper] = store.trend("pass_rate", "cand-model", dataset="FF9")  # as SQLite always did
        assert [p.run_id for p in upper.points] == ["run-other"]
        assert store.trend("pass_rate", "cand-model", dataset="f_9") == []  # _ is no wildcard
        assert store.trend("pass_rate", "cand-model", workflow="nope") == []
        assert [run.run_id for run in store.runs(workflow="support-ops", limit=2)] == [
            "run-other",
            "run-2",
        ]
        assert store.runs(model="ghost") == []
        with pytest.raises(StoreError, match=r"no run of model 'ghost'.*base-model, cand-model"):
            store.trend("pass_rate", "ghost")
        with pytest.raises(StoreError, match=r"figure 'speed' was never recorded.*pass_rate"):
            store.trend("speed", "cand-model")


def test_trends_draw_a_series_per_prompt_and_workflow_version(
    store_url: str, tmp_path: Path
) -> None:
    # Same dataset, same model: a prompt edit and a new workflow version are not model
    # changes, so each starts its own series instead of a step on one line.
    record_run(make_report(run_id="run-0", started=at(0)), None, store_url)
    edited = make_report(run_id="run-1", started=at(1)).model_copy(
        update={"prompt": PromptRecord(id="prompt-v2", sha256="e" * 64)}
    )
    record_run(edited, None, store_url)
    checks = make_report(run_id="run-2", started=at(2)).model_copy(
        update={"workflow": WorkflowRecord(name="support-ops", version="2")}
    )
    record_run(checks, None, store_url)
    record_run(make_report(run_id="run-3", started=at(3)), None, store_url)
    store = open_store(store_url)
    assert store is not None
    with store:
        lines = store.trend("pass_rate", "cand-model")
    assert [
        (line.workflow_version, (line.prompt_sha256 or "")[:4], [p.run_id for p in line.points])
        for line in lines
    ] == [("1", "ffff", ["run-0", "run-3"]), ("1", "eeee", ["run-1"]), ("2", "ffff", ["run-2"])]
    assert series_label(lines[1]) == "support-ops v1 · dataset ab12cd34ef56 · prompt eeeeeeeeeeee"
    args = ["history", "--store", store_url, "--trend", "pass_rate", "--model", "cand-model"]
    result = runner.invoke(app, [*args, "--chart", str(tmp_path / "t.svg")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "3 series: one per (dataset, prompt, workflow version)" in result.output
    assert "a prompt edit is not a model change" in result.output


def test_a_missing_figure_is_stored_as_missing_not_zero(store_url: str) -> None:
    errored = [case(f"UP-{i}", False, error="boom", latency=None) for i in (1, 2, 3)]
    record_run(make_report(candidate_cases=errored), None, store_url)
    store = open_store(store_url)
    assert store is not None
    with store:
        [line] = store.trend("p95_latency_ms", "cand-model")
        assert [point.value for point in line.points] == [None]


runner = CliRunner()


def test_cli_history_lists_runs(store_url: str) -> None:
    _three_runs_and_another_dataset(store_url)
    result = runner.invoke(app, ["history", "--store", store_url], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert result.output.index("run-other") < result.output.index("run-0")
    assert "ab12cd34ef56" in result.output and "ff9911111111" in result.output
    assert "Rollback" in result.output
    assert "100.0% → 33.3%" in result.output  # pass rate, baseline → candidate
    limited = runner.invoke(
        app, ["history", "--store", store_url, "--limit", "1"], env={"COLUMNS": "250"}
    )
    assert "run-other" in limited.output and "run-0" not in limited.output


def test_cli_history_never_prints_the_store_password(postgres_url: str) -> None:
    _three_runs_and_another_dataset(postgres_url)
    password = postgres_url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    result = runner.invoke(app, ["history", "--store", postgres_url], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "Runs in postgresql://" in result.output and password not in result.output


def test_cli_history_trend_prints_and_writes_a_chart(store_url: str, tmp_path: Path) -> None:
    _three_runs_and_another_dataset(store_url)
    args = ["history", "--store", store_url, "--trend", "pass_rate", "--model", "cand-model"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 series: one per (dataset, prompt, workflow version)" in result.output
    assert "-33.3 pts" in result.output and "+33.3 pts" in result.output
    # Beside a SQLite store; in the working directory for a PostgreSQL one.
    beside = Path(store_url).parent if store_url.endswith(".sqlite") else Path()
    chart = beside / "trend-pass_rate-cand-model.svg"
    assert f"Chart: {chart}" in result.output
    svg = chart.read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 1  # the one-point line has none
    assert svg.count("<circle") == 4
    assert "dataset ab12cd34ef56" in svg and "dataset ff9911111111" in svg


def test_cli_history_errors_are_usage_errors(store_url: str, tmp_path: Path) -> None:
    _three_runs_and_another_dataset(store_url)
    unknown = runner.invoke(
        app, ["history", "--store", store_url, "--trend", "speed", "--model", "cand-model"]
    )
    assert unknown.exit_code == 2 and "never recorded" in unknown.output
    no_model = runner.invoke(app, ["history", "--store", store_url, "--trend", "pass_rate"])
    assert no_model.exit_code == 2 and "--model" in no_model.output
    empty = runner.invoke(app, ["history", "--store", str(tmp_path / "none.sqlite")])
    assert empty.exit_code == 0 and "No runs recorded yet" in empty.output
    assert not (tmp_path / "none.sqlite").exists()
    foreign = runner.invoke(app, ["history", "--store", "mysql://u:secret@h/db"])
    assert foreign.exit_code == 2 and "'mysql' is not supported" in foreign.output
    assert "secret" not in foreign.output


def test_cli_history_store_defaults_to_the_project_dot_modelup(tmp_path: Path) -> None:
    record_run(make_report(), None)  # the default path, relative to the working directory
    assert Path(".modelup/history.sqlite").is_file()
    result = runner.invoke(app, ["history"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "20260101T000000Z-abc123" in result.output


@pytest.mark.parametrize(
    ("section", "spelling"),
    [
        ("history", 'path = "state/runs.sqlite"'),
        ("store", 'url = "state/runs.sqlite"'),
        ("store", 'url = "sqlite:///state/runs.sqlite"'),
    ],
    ids=["history.path", "store.url path", "store.url sqlite URL"],
)
def test_store_path_in_a_config_file_is_relative_to_it(
    tmp_path: Path, section: str, spelling: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "modelup.toml").write_text(f"[{section}]\n{spelling}\n")
    record_run(make_report(), None, project / "state" / "runs.sqlite")
    args = ["history", "--config", str(project / "modelup.toml")]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "20260101T000000Z-abc123" in result.output


def test_the_store_url_is_taken_from_the_environment(store_url: str) -> None:
    record_run(make_report(), None, store_url)
    result = runner.invoke(
        app, ["history"], env={"COLUMNS": "200", "MODELUP_STORE__URL": store_url}
    )
    assert result.exit_code == 0, result.output
    assert "20260101T000000Z-abc123" in result.output
    assert not Path(".modelup").exists()


def test_a_run_is_recorded_in_the_configured_store(
    store_url: str, support_ops_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELUP_STORE__URL", store_url)
    report_file = tmp_path / "out" / "gate.json"
    args = ["run", "--config", str(support_ops_config), "--report-file", str(report_file)]
    result = runner.invoke(app, args)
    assert result.exit_code == 4, result.output  # the bundled example ends in Rollback
    store = open_store(store_url, create=False)
    assert store is not None
    with store:
        [run] = store.runs()
        assert run.verdict == "Rollback" and run.report_path == str(report_file.resolve())
        public = str(store.url)
    assert not Path(".modelup/history.sqlite").exists()
    saved = json.loads(report_file.read_text("utf-8"))["config"]["store"]["url"]
    assert saved == (store_url if store_url.endswith(".sqlite") else public)


def test_a_store_password_is_never_printed_or_saved_by_a_run(
    support_ops_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    secret = "hunter2-s3cret"
    monkeypatch.setenv("MODELUP_STORE__URL", f"postgresql://team:{secret}@127.0.0.1:1/modelup")
    report_file = tmp_path / "gate.json"
    args = ["run", "--config", str(support_ops_config), "--report-file", str(report_file)]
    result = runner.invoke(app, args)
    assert result.exit_code == 4, result.output  # the verdict stands without the store
    output = result.output.replace("\n", " ")
    assert "warning: run not recorded: postgresql://team@127.0.0.1:1/modelup: cannot connect" in (
        output
    )
    assert secret not in result.output
    text = report_file.read_text("utf-8")
    assert secret not in text
    assert json.loads(text)["config"]["store"]["url"] == "postgresql://team@127.0.0.1:1/modelup"
