"""``modelup validate-dataset``: a good file summarised, a bad one named, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modelup._cli.main import app

runner = CliRunner()


def test_valid_dataset_is_summarised(support_ops_dataset: Path) -> None:
    result = runner.invoke(app, ["validate-dataset", str(support_ops_dataset)])
    assert result.exit_code == 0, result.output
    assert "36 valid cases for workflow support-ops" in result.output
    assert "refusal 6" in result.output
    assert "sha256 " in result.output


def test_invalid_dataset_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "A"}) + "\n")
    result = runner.invoke(app, ["validate-dataset", str(path)])
    assert result.exit_code == 2
    assert "bad.jsonl: line 1 (id A)" in result.output


def test_unknown_workflow_exits_2(support_ops_dataset: Path) -> None:
    result = runner.invoke(app, ["validate-dataset", str(support_ops_dataset), "--workflow", "x"])
    assert result.exit_code == 2
    assert "unknown workflow 'x'" in result.output
