"""``modelup diff``: figure deltas, per-case changes, verdicts; refuses different datasets."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelup._cli.common import EXIT_USAGE
from modelup._cli.main import app
from modelup.decide.rules import seed_policy
from modelup.errors import ReportError
from modelup.report.diff import diff_reports
from modelup.report.io import write_report
from modelup.report.schema import PromptRecord, Report, WorkflowRecord
from support.gatekit import outcomes, report_of

BASE = outcomes("PPPPF")


def _old() -> Report:
    return report_of(BASE, {"cand": outcomes("PPPPP")}, seed_policy(), run_id="old")


def _new(sha256: str = "a" * 64, name: str = "cand") -> Report:
    return report_of(BASE, {name: outcomes("PFPPF")}, seed_policy(), run_id="new", sha256=sha256)


def test_per_case_changes_figure_deltas_and_verdicts() -> None:
    result = diff_reports(_old(), _new())
    assert result.same_dataset
    baseline, candidate = result.models
    assert (baseline.role, baseline.changes) == ("baseline", ())
    assert [(c.case_id, c.kind) for c in candidate.changes] == [
        ("C001", "regression"),
        ("C004", "regression"),
    ]
    assert candidate.changes[0].new_notes == ("C001 failed",)
    pass_rate = next(f for f in candidate.figures if f.figure == "pass_rate")
    assert (pass_rate.old, pass_rate.new) == (1.0, 0.6)
    assert pass_rate.delta == pytest.approx(-0.4)
    assert [(v.old_verdict, v.new_verdict) for v in result.verdicts] == [("Promote", "Rollback")]


def test_different_datasets_are_refused_unless_allowed() -> None:
    with pytest.raises(ReportError, match=r"different datasets.*--allow-different-datasets"):
        diff_reports(_old(), _new(sha256="b" * 64))
    allowed = diff_reports(_old(), _new(sha256="b" * 64), allow_different_datasets=True)
    assert not allowed.same_dataset


def test_a_renamed_candidate_is_paired_by_position() -> None:
    result = diff_reports(_old(), _new(name="cand-v2"))
    assert [(m.old_model, m.new_model) for m in result.models][1] == ("cand", "cand-v2")
    assert result.verdicts[0].new_candidate == "cand-v2"
    assert result.unmatched_old == result.unmatched_new == ()


def _write(tmp_path: Path, name: str, report: Report) -> Path:
    return write_report(report, tmp_path / name)


def test_cli_diff_tables_and_json(tmp_path: Path) -> None:
    old, new = _write(tmp_path, "old.json", _old()), _write(tmp_path, "new.json", _new())
    runner = CliRunner()
    shown = runner.invoke(app, ["diff", str(old), str(new)])
    assert shown.exit_code == 0, shown.output
    assert "Verdict cand: Promote → Rollback (changed)" in shown.output
    assert "2 case(s) changed: 2 regressed, 0 fixed" in shown.output
    as_json = runner.invoke(app, ["diff", str(old), str(new), "--json"])
    data = json.loads(as_json.output)
    assert data["models"][1]["regressions"] == 2
    assert data["same_dataset"] is True


def test_cli_diff_refuses_different_datasets_with_exit_2(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.json", _old())
    new = _write(tmp_path, "new.json", _new(sha256="b" * 64))
    refused = CliRunner().invoke(app, ["diff", str(old), str(new)])
    assert refused.exit_code == EXIT_USAGE
    assert "different datasets" in refused.output
    allowed = CliRunner().invoke(app, ["diff", str(old), str(new), "--allow-different-datasets"])
    assert allowed.exit_code == 0
    assert "Different datasets" in allowed.output


def test_cli_diff_names_an_unreadable_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    refused = CliRunner().invoke(app, ["diff", str(bad), str(bad)])
    assert refused.exit_code == EXIT_USAGE
    assert "bad.json" in refused.output


def test_different_prompts_or_workflow_versions_are_refused_unless_allowed() -> None:
    edited = _new().model_copy(update={"prompt": PromptRecord(id="toy-v2", sha256="e" * 64)})
    with pytest.raises(ReportError, match=r"different prompts \(toy sha256 .* vs toy-v2"):
        diff_reports(_old(), edited)
    with pytest.raises(ReportError, match="--allow-incomparable"):
        diff_reports(_old(), edited, allow_different_datasets=True)  # a dataset is not a prompt
    bumped = _new().model_copy(update={"workflow": WorkflowRecord(name="toy", version="2")})
    with pytest.raises(ReportError, match=r"different workflow versions \(toy v1 vs toy v2\)"):
        diff_reports(_old(), bumped)
    everything = _new(sha256="b" * 64).model_copy(
        update={"prompt": edited.prompt, "workflow": bumped.workflow}
    )
    with pytest.raises(ReportError) as refused:
        diff_reports(_old(), everything)
    for what in ("datasets", "prompts", "workflow versions", "not be a model change"):
        assert what in str(refused.value)
    allowed = diff_reports(_old(), everything, allow_incomparable=True)
    assert (allowed.same_dataset, allowed.same_prompt, allowed.same_workflow) == (
        False,
        False,
        False,
    )


def test_cli_diff_refuses_a_prompt_change_and_allow_incomparable_overrides(
    tmp_path: Path,
) -> None:
    old = _write(tmp_path, "old.json", _old())
    edited = _new().model_copy(update={"prompt": PromptRecord(id="toy-v2", sha256="e" * 64)})
    new = _write(tmp_path, "new.json", edited)
    refused = CliRunner().invoke(app, ["diff", str(old), str(new)])
    assert refused.exit_code == EXIT_USAGE
    assert "different prompts" in refused.output and "--allow-incomparable" in refused.output
    allowed = CliRunner().invoke(app, ["diff", str(old), str(new), "--allow-incomparable"])
    assert allowed.exit_code == 0, allowed.output
    assert "Different prompts: a change below may be the prompt edit" in allowed.output
    data = json.loads(
        CliRunner()
        .invoke(app, ["diff", str(old), str(new), "--allow-incomparable", "--json"])
        .output
    )
    assert (data["same_prompt"], data["same_workflow"]) == (False, True)


def test_cli_diff_prints_hostile_notes_without_crashing(tmp_path: Path) -> None:
    # A note quotes model text; a report read back can hold a lone surrogate (from "\ud800")
    # or a terminal escape. Run in a subprocess: its output is a real UTF-8 pipe.
    hostile = [
        dataclasses.replace(r, notes=("Category mismatch: got \ud800\x1b[2J",))
        if not r.passed
        else r
        for r in outcomes("PFPPF")
    ]
    new = report_of(BASE, {"cand": hostile}, seed_policy(), run_id="new")
    old_path, new_path = _write(tmp_path, "old.json", _old()), _write(tmp_path, "new.json", new)
    entry = "from modelup._cli.main import main; main()"
    shown = subprocess.run(
        [sys.executable, "-c", entry, "diff", str(old_path), str(new_path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "LC_ALL": "C.UTF-8", "COLUMNS": "200"},
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Category mismatch: got \ufffd\ufffd[2J" in shown.stdout
    assert "\x1b[2J" not in shown.stdout
