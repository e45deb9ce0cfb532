"""Report files: safe names, atomic writes, round trips, refusing unknown versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.config.loading import load_settings
from modelup.errors import ReportError
from modelup.report.io import read_report, report_filename, slug, unique_path, write_report
from modelup.report.schema import Report
from modelup.session.execute import execute_sync
from modelup.session.plan import plan_run


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("gpt-oss:20b", "gpt-oss-20b"),
        ("qwen3:8b", "qwen3-8b"),
        ("org/model", "org-model"),
        ("../x", "x"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "model"),
        ("", "model"),
        ("a" * 300, "a" * 60),
        ("llama3.1:8b-instruct", "llama3.1-8b-instruct"),
        ("C:\\models\\x y", "C-models-x-y"),
    ],
)
def test_slug_is_a_safe_file_name_part(model_id: str, expected: str) -> None:
    assert slug(model_id) == expected
    assert "/" not in slug(model_id) and ".." not in slug(model_id)


def test_report_filename_follows_the_seed() -> None:
    started = datetime(2026, 5, 23, 7, 13, 37, tzinfo=UTC)
    name = report_filename(started, "shadow", "gpt-oss:20b", ["qwen3:8b"])
    assert name == "20260523T071337Z-shadow-gpt-oss-20b-to-qwen3-8b.json"
    several = report_filename(started, "compare", "a", ["b", "c", "d"])
    assert several == "20260523T071337Z-compare-a-to-b-and-2-more.json"


def test_unique_path_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("{}")
    assert unique_path(tmp_path, "r.json") == tmp_path / "r-2.json"
    assert unique_path(tmp_path, "new.json") == tmp_path / "new.json"


@pytest.fixture(scope="module")
def report() -> Report:
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "examples" / "support-ops" / "modelup.toml")
    return execute_sync(plan_run(settings))


def test_round_trip(tmp_path: Path, report: Report) -> None:
    path = write_report(report, tmp_path / "deep" / "r.json")
    assert read_report(path) == report
    assert not list(path.parent.glob(".*.tmp"))
    data = json.loads(path.read_text())
    assert list(data)[:3] == ["schema_version", "tool_version", "run_id"]
    assert data["started_at"].endswith("Z") or data["started_at"].endswith("+00:00")


def test_the_same_run_gives_the_same_figures(report: Report) -> None:
    root = Path(__file__).resolve().parents[2]
    again = execute_sync(
        plan_run(load_settings(root / "examples" / "support-ops" / "modelup.toml"))
    )
    assert [m.summary for m in again.models] == [m.summary for m in report.models]
    assert again.decision.verdict == report.decision.verdict


def test_unknown_schema_version_is_refused(tmp_path: Path, report: Report) -> None:
    data = report.model_dump(mode="json") | {"schema_version": 99}
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReportError, match="schema_version 99 is not supported"):
        read_report(path)


def test_not_a_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"schema_version": 1, "hello": "world"}))
    with pytest.raises(ReportError, match="not a modelup report"):
        read_report(path)
    path.write_text("{")
    with pytest.raises(ReportError, match="invalid JSON"):
        read_report(path)


V1_REPORT = Path(__file__).resolve().parents[1] / "fixtures" / "report-v1.json"
"""A report written by schema version 1 (the golden support-ops run, cases cut to three)."""


def test_a_version_1_report_is_still_read(tmp_path: Path) -> None:
    old = read_report(V1_REPORT)
    assert old.schema_version == 1  # kept as written
    assert old.decision.verdict == "Rollback"
    assert old.candidates[0].identities == [] and old.candidates[0].expect_resolved is None
    assert old.ranking[0].decided_by is None
    rendered = CliRunner().invoke(
        app, ["report", str(V1_REPORT), "--format", "html,md", "--output-dir", str(tmp_path)]
    )
    assert rendered.exit_code == 0, rendered.output
    assert (tmp_path / "report-v1.md").read_text().count("report schema 1") == 1
    new = tmp_path / "new.json"
    dataset = V1_REPORT.parents[2] / "examples" / "support-ops" / "dataset.json"
    ran = CliRunner().invoke(
        app,
        ["run", "--mock", "--dataset", str(dataset), "--report-file", str(new), "--no-history"],
    )
    assert ran.exit_code == 4, ran.output
    diffed = CliRunner().invoke(app, ["diff", str(V1_REPORT), str(new), "--json"])
    assert diffed.exit_code == 0, diffed.output
    assert json.loads(diffed.output)["same_prompt"] is True
