"""A workflow file's ``[grader]`` table: the fields a grader reads and its rubric, checked when
the file is loaded, with errors naming the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from modelup.errors import WorkflowError
from modelup.workflow.base import Criterion
from modelup.workflow.bundled import BUNDLED_DIRECTORY
from modelup.workflow.catalog import get_workflow
from modelup.workflow.loader import load_workflow_file

BUNDLED = (BUNDLED_DIRECTORY / "support_ops.toml").read_text(encoding="utf-8")


def with_grader(tmp_path: Path, grader: str) -> Path:
    """The bundled support-ops file with its [grader] table replaced by ``grader``."""
    head = BUNDLED.split("\n[grader]\n", 1)[0]
    tail = BUNDLED.split("\n[simulator]\n", 1)[1]
    path = tmp_path / "support.toml"
    path.write_text(f"{head}\n{grader}\n[simulator]\n{tail}", encoding="utf-8")
    return path


def test_the_bundled_support_ops_workflow_declares_a_rubric_for_its_free_text() -> None:
    spec = get_workflow("support-ops").grader
    assert spec is not None
    assert {"summary", "customer_reply"} <= set(spec.fields)
    assert [c.name for c in spec.rubric] == [
        "reply_helpfulness",
        "reply_grounding",
        "summary_clarity",
    ]
    assert all(c.description for c in spec.rubric)
    assert get_workflow("incident-triage").grader is None


def test_a_grader_table_is_read(tmp_path: Path) -> None:
    path = with_grader(
        tmp_path,
        '[grader]\nfields = ["summary"]\n'
        '[[grader.rubric]]\nname = "brevity"\ndescription = "Short."\n',
    )
    spec = load_workflow_file(path).grader
    assert spec is not None
    assert spec.fields == ("summary",) and spec.rubric == (Criterion("brevity", "Short."),)


@pytest.mark.parametrize(
    ("grader", "message"),
    [
        ('[grader]\nfields = ["reply"]\n', r"grader.fields\[0\]: 'reply' is not a field"),
        (
            '[grader]\nfields = ["summary", "summary"]\n',
            r"grader.fields\[1\]: 'summary' is given twice",
        ),
        (
            '[[grader.rubric]]\nname = "Brevity"\ndescription = "x"\n',
            r"grader.rubric\[0\].name: String should match",
        ),
        (
            '[[grader.rubric]]\nname = "brevity"\n',
            r"grader.rubric\[0\].description: Field required",
        ),
        (
            '[[grader.rubric]]\nname = "a"\ndescription = "x"\n'
            '[[grader.rubric]]\nname = "a"\ndescription = "y"\n',
            r"grader.rubric\[1\].name: 'a' is used twice",
        ),
        ('[grader]\nmodel = "judge"\n', r"grader.model: unknown key"),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, grader: str, message: str) -> None:
    path = with_grader(tmp_path, grader)
    tomllib.loads(path.read_text(encoding="utf-8"))  # the file itself is valid TOML
    with pytest.raises(WorkflowError, match=rf"support.toml: {message}"):
        load_workflow_file(path)


def test_a_file_without_a_grader_table_has_none(tmp_path: Path) -> None:
    spec: Any = load_workflow_file(with_grader(tmp_path, "")).grader
    assert spec is None
