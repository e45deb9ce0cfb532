"""``modelup report`` re-renders a saved report; ``modelup run --format`` writes the formats next
to the JSON and records the run in history."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.report.io import read_report, write_report
from modelup.report.schema import Report
from modelup.store import open_store
from support.reports import HOSTILE, case, make_report

runner = CliRunner()


def hostile_report_json_can_hold() -> Report:
    """Hostile text except the lone surrogate, which ``write_report`` cannot encode yet."""
    text = HOSTILE.replace("\ud800", "")
    cases = [case("UP-1", True), case("UP-2", False, raw=text, notes=(text,)), case("UP-3", True)]
    return make_report(candidate_cases=cases)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return write_report(hostile_report_json_can_hold(), tmp_path / "reports" / "run.json")


def test_write_report_survives_a_lone_surrogate(tmp_path: Path) -> None:
    # make_report's hostile output holds a lone surrogate (a JSON \ud800 escape decodes to one).
    path = write_report(make_report(), tmp_path / "run.json")
    assert "\\ud800" in path.read_text(encoding="utf-8")
    assert read_report(path).run_id == make_report().run_id


def test_report_renders_every_format_next_to_the_json(saved: Path) -> None:
    result = runner.invoke(app, ["report", str(saved), "--format", "html,md,junit"])
    assert result.exit_code == 0, result.output
    html, md, xml = (saved.with_suffix(suffix) for suffix in (".html", ".md", ".xml"))
    assert result.output.splitlines() == [str(html), str(md), str(xml)]
    assert 'id="verdict"' in html.read_text(encoding="utf-8")
    assert md.read_text(encoding="utf-8").startswith("## 🔴 Rollback")
    assert ET.parse(xml).getroot().tag == "testsuites"


def test_report_defaults_to_html_and_takes_an_output_dir(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = runner.invoke(app, ["report", str(saved), "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["run.html"]
    repeated = runner.invoke(app, ["report", str(saved), "-f", "md", "-f", "junit,json"])
    assert repeated.exit_code == 0, repeated.output
    assert saved.with_suffix(".md").is_file() and saved.with_suffix(".xml").is_file()


def test_report_rejects_an_unknown_format(saved: Path) -> None:
    result = runner.invoke(app, ["report", str(saved), "--format", "html,pdf"])
    assert result.exit_code == 2
    assert "unknown report format 'pdf'" in result.output
    assert not saved.with_suffix(".html").exists()


def test_report_names_a_bad_input_file(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["report", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "nope.json: cannot read report" in missing.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1, "run_id": 3}')
    result = runner.invoke(app, ["report", str(broken)])
    assert result.exit_code == 2 and "broken.json: not a modelup report" in result.output


def test_run_writes_formats_and_records_history(support_ops_config: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "out" / "gate.json"
    args = ["run", "--config", str(support_ops_config), "--report-file", str(report_file)]
    result = runner.invoke(app, [*args, "--format", "json,html,md,junit"])
    assert result.exit_code == 4, result.output  # the bundled example ends in Rollback
    lines = result.output.splitlines()
    assert lines[-1] == f"Report: {report_file}"
    assert f"Report (html): {report_file.with_suffix('.html')}" in lines
    for suffix in (".json", ".html", ".md", ".xml"):
        assert report_file.with_suffix(suffix).is_file(), suffix
    store = open_store(Path(".modelup/history.sqlite"), create=False)
    assert store is not None
    with store:
        [run] = store.runs()
        assert run.verdict == "Rollback" and run.report_path == str(report_file.resolve())
        assert run.baseline == "gpt-oss:20b" and run.candidates == ("qwen3:8b",)


def test_run_without_history_or_formats(support_ops_config: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "gate.json"
    args = ["run", "--config", str(support_ops_config), "--report-file", str(report_file)]
    result = runner.invoke(app, [*args, "--no-history"])
    assert result.exit_code == 4, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix) == ["gate.json"]
    assert not Path(".modelup/history.sqlite").exists()


def test_run_warns_but_keeps_its_verdict_when_history_cannot_be_written(
    support_ops_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("not-a-store.sqlite").write_bytes(b"garbage" * 200)
    monkeypatch.setenv("MODELUP_HISTORY__PATH", "not-a-store.sqlite")
    args = ["run", "--config", str(support_ops_config), "--report-file", str(tmp_path / "g.json")]
    result = runner.invoke(app, args)
    assert result.exit_code == 4, result.output
    assert "warning: run not recorded: not-a-store.sqlite: not a modelup history store" in (
        result.output.replace("\n", " ")
    )
