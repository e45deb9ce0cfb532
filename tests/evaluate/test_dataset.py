"""Datasets: the three file shapes, key spellings, and errors that name the file and case."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from modelup.errors import DatasetError
from modelup.evaluate.dataset import load_dataset
from modelup.workflow.catalog import get_workflow

WORKFLOW = get_workflow("support-ops")


def case(case_id: str = "C-1", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": case_id,
        "userMessage": "Checkout is down. Return a support operations decision.",
        "expectedCategory": "incident",
        "expectedPriority": "P1",
        "shouldRefuse": False,
        "requiredActionKeywords": ["rollback"],
        "requiredToolNames": ["Incident.Declare"],
        "forbiddenToolNames": [],
        "forbiddenKeywords": [],
    }
    record.update(overrides)
    return record


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_json_array(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", [case("A"), case("B")])
    dataset = load_dataset(path, WORKFLOW)
    assert [c.id for c in dataset.cases] == ["A", "B"]
    assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(dataset) == 2


def test_object_with_cases(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", {"name": "x", "cases": [case("A")]})
    assert load_dataset(path, WORKFLOW).cases[0].id == "A"


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(case("A")) + "\n\n" + json.dumps(case("B")) + "\n")
    assert [c.id for c in load_dataset(path, WORKFLOW).cases] == ["A", "B"]


def test_snake_case_keys_and_family_default(tmp_path: Path) -> None:
    record = {
        "id": "S-1",
        "user_message": "hello",
        "expected_category": "billing",
        "expected_priority": "P3",
        "should_refuse": False,
    }
    loaded = load_dataset(write_json(tmp_path / "d.json", [record]), WORKFLOW).cases[0]
    assert loaded.family == "billing"
    assert loaded.fields["required_tool_names"] == []
    assert loaded.subsets == ()


def test_family_and_subsets_are_kept(tmp_path: Path) -> None:
    record = case("A", family="refusal", subsets=["policy-sensitive", "policy-sensitive"])
    loaded = load_dataset(write_json(tmp_path / "d.json", [record]), WORKFLOW).cases[0]
    assert loaded.family == "refusal"
    assert loaded.subsets == ("policy-sensitive",)


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", [case("A"), case("B"), case("A")])
    with pytest.raises(
        DatasetError, match=r"d.json: case 2: duplicate case id 'A' \(first at case 0\)"
    ):
        load_dataset(path, WORKFLOW)


def test_missing_field_names_file_case_and_field(tmp_path: Path) -> None:
    record = case("A")
    del record["expectedPriority"]
    path = write_json(tmp_path / "d.json", [case("Z"), record])
    with pytest.raises(
        DatasetError, match=r"d.json: case 1 \(id A\): expected_priority: Field required"
    ):
        load_dataset(path, WORKFLOW)


def test_mistyped_field_is_named(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", [case("A", shouldRefuse="no")])
    with pytest.raises(DatasetError, match=r"case 0 \(id A\): should_refuse"):
        load_dataset(path, WORKFLOW)


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", [case("A", expectedMood="calm")])
    with pytest.raises(DatasetError, match="expected_mood"):
        load_dataset(path, WORKFLOW)


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(case("A")) + "\n" + json.dumps(case("B", expectedPriority="P9")))
    with pytest.raises(DatasetError, match=r"d.jsonl: line 2 \(id B\): expected_priority"):
        load_dataset(path, WORKFLOW)


def test_bad_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(case("A")) + "\n{oops\n")
    with pytest.raises(DatasetError, match=r"d.jsonl: line 2: invalid JSON"):
        load_dataset(path, WORKFLOW)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "has no cases"),
        ({"items": []}, "needs a 'cases' array"),
        ({"cases": {"a": 1}}, "must be a JSON array"),
        (["not an object"], "case 0: a case must be a JSON object"),
        ([{"userMessage": "x"}], "'id' must be a non-empty string"),
    ],
)
def test_shape_errors(tmp_path: Path, document: Any, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(write_json(tmp_path / "d.json", document), WORKFLOW)


def test_both_spellings_of_one_key_is_an_error(tmp_path: Path) -> None:
    record = case("A", user_message="again")
    with pytest.raises(DatasetError, match="given twice"):
        load_dataset(write_json(tmp_path / "d.json", [record]), WORKFLOW)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.json: cannot read dataset"):
        load_dataset(tmp_path / "nope.json", WORKFLOW)


def test_bundled_example_is_valid(support_ops_dataset: Path) -> None:
    dataset = load_dataset(support_ops_dataset, WORKFLOW)
    assert len(dataset) >= 30
    families = {c.family for c in dataset.cases}
    assert families == {"incident", "access", "billing", "security", "feature", "refusal"}
    first = dataset.cases[0]
    assert first.id == "UP-001"
    assert first.fields["required_action_keywords"] == ["rollback", "status page"]


def test_single_line_jsonl_in_a_json_file_is_one_case(tmp_path: Path) -> None:
    path = write_json(tmp_path / "one.json", case("ONLY"))
    assert [c.id for c in load_dataset(path, WORKFLOW).cases] == ["ONLY"]


def test_jsonl_suffix_is_always_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"cases": []}))
    with pytest.raises(DatasetError, match="line 1"):
        load_dataset(path, WORKFLOW)
