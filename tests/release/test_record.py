"""``release.toml``: every field required and checked, unknown keys refused, the evaluation
resolved against the record's directory, and no credential ever written into a record."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from modelup.config.store_url import parse_store_url
from modelup.errors import ConfigError
from modelup.release.evaluation import evaluation_settings, plan_evaluation
from modelup.release.record import ExpectedAlias, load_record
from support.releases import (
    DROP,
    FIELDS,
    ROOT,
    SUPPORT_OPS_DATASET,
    release_files,
    write_evaluation,
    write_record,
)


def load(tmp_path: Path, **fields: Any) -> Any:
    return load_record(release_files(tmp_path, **fields))


def test_a_valid_record_loads_with_its_evaluation_resolved(tmp_path: Path) -> None:
    path = release_files(tmp_path)
    record, sha256 = load_record(path)
    assert record.workflow_id == "support-triage"
    assert record.format_version == 1
    assert record.evaluation == str((tmp_path / "modelup.toml").resolve())
    assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.rollout_scope.kind == "full" and record.rollout_scope.steps == []
    assert record.gate_classes.entries()[0] == ("policy-sensitive", "block")


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_is_required_and_named_when_missing(tmp_path: Path, field: str) -> None:
    with pytest.raises(ConfigError, match=rf"release\.toml: missing key {field}\b"):
        load(tmp_path, **{field: DROP})


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key new_model"):
        load(tmp_path, new_model="x")
    bad_delta = [{"figure": "pass_rate", "greater_is_better": True, "min_change": 0.1}]
    with pytest.raises(ConfigError, match=r"unknown key expected_deltas\.0\.min_change"):
        load(tmp_path, expected_deltas=bad_delta)


@pytest.mark.parametrize(
    ("delta", "message"),
    [
        ({"figure": "pass_rate", "greater_is_better": True}, "give at least one of threshold"),
        (
            {"figure": "pass_rate", "greater_is_better": True, "threshold": 0.9, "subset": "a"}
            | {"family": "b"},
            "a subset or a family, not both",
        ),
        ({"figure": "pass_rate", "min_absolute_change": 0.1}, "greater_is_better"),
        (
            {"figure": "pass_rate", "greater_is_better": True, "max_absolute_change": -0.1},
            "max_absolute_change",
        ),
    ],
)
def test_expected_deltas_are_checked(tmp_path: Path, delta: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, expected_deltas=[delta])


def test_claims_and_subsets_cannot_be_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected_deltas"):
        load(tmp_path, expected_deltas=[])
    with pytest.raises(ConfigError, match="required_eval_subsets"):
        load(tmp_path, required_eval_subsets=[])
    with pytest.raises(ConfigError, match="declare at least one gate subset or figure"):
        load(tmp_path, gate_classes={})
    with pytest.raises(ConfigError, match="'tool-posture' is in both block and signal"):
        load(tmp_path, gate_classes={"block": ["tool-posture"], "signal": ["tool-posture"]})
    with pytest.raises(ConfigError, match=r"unknown key gate_classes\.ship"):
        load(tmp_path, gate_classes={"ship": ["tool-posture"]})


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ({"kind": "canary"}, "a canary rollout needs steps"),
        ({"kind": "canary", "steps": [25, 5, 100]}, "canary steps must increase"),
        ({"kind": "canary", "steps": [5, 25]}, "canary steps must end at 100"),
        ({"kind": "full", "steps": [100]}, "steps are for a canary rollout"),
        ({"kind": "canary", "steps": [0, 100]}, "greater than 0"),
        ("everywhere", "rollout_scope.kind"),
    ],
)
def test_rollout_scope(tmp_path: Path, rollout: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, rollout_scope=rollout)


def test_canary_and_shadow_rollouts(tmp_path: Path) -> None:
    record, _ = load(tmp_path, rollout_scope={"kind": "canary", "steps": [5, 25, 100]})
    assert record.rollout_scope.steps == [5, 25, 100]
    record, _ = load(tmp_path / "shadow", rollout_scope="shadow")
    assert record.rollout_scope.kind == "shadow"


def test_alias_resolution_exact_pattern_or_table(tmp_path: Path) -> None:
    aliases = {
        "qwen3:8b": "qwen3:8b-q4_*",
        "gpt-oss:20b": {"model": "gpt-oss:20b", "system_fingerprint": "fp_*"},
    }
    record, _ = load(tmp_path, alias_resolution=aliases)
    assert record.expected_alias("qwen3:8b") == ExpectedAlias(model="qwen3:8b-q4_*")
    assert record.expected_alias("gpt-oss:20b").system_fingerprint == "fp_*"
    assert record.expected_alias("unlisted") == ExpectedAlias(model="unlisted")
    with pytest.raises(ConfigError, match=r"alias_resolution\.qwen3:8b"):
        load(tmp_path / "bad", alias_resolution={"qwen3:8b": {"fingerprint": "x"}})


def test_an_inline_evaluation_is_normalised_against_the_record(tmp_path: Path) -> None:
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "cases.json").write_bytes(SUPPORT_OPS_DATASET.read_bytes())
    inline = {
        "experiment": {"use_mock_client": True, "datasetPath": "evals/cases.json"},
        "llm": {"baseline_model_id": "gpt-oss:20b", "candidate_model_id": "qwen3:8b"},
    }
    record, _ = load_record(write_record(tmp_path, evaluation=inline))
    assert isinstance(record.evaluation, dict)
    experiment = record.evaluation["experiment"]
    assert experiment["dataset_path"] == str((tmp_path / "evals" / "cases.json").resolve())


@pytest.mark.parametrize(
    ("inline", "message"),
    [
        ({"llm": {"api_key": "sk-secret"}}, r"evaluation\.llm\.api_key: an API key cannot"),
        (
            {"models": {"qwen3:8b": {"api_key": "sk-secret"}}},
            r"evaluation\.models\.qwen3:8b\.api_key",
        ),
        ({"store": {"url": "postgresql://u:pw@h/db"}}, r"evaluation\.store: a release's"),
        ({"experiment": {"epochs": 0}}, r"evaluation: experiment\.epochs"),
    ],
)
def test_an_inline_evaluation_holds_no_credential_and_no_store(
    tmp_path: Path, inline: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_record(write_record(tmp_path, evaluation=inline))
    assert "sk-secret" not in str(caught.value) and "pw@" not in str(caught.value)


def test_a_missing_evaluation_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="evaluation: configuration file not found"):
        load_record(write_record(tmp_path, evaluation="nowhere.toml"))


def test_bad_toml_and_a_missing_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "release.toml"
    path.write_text("workflow_id = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"release\.toml: invalid TOML"):
        load_record(path)
    with pytest.raises(ConfigError, match=r"absent\.toml: cannot read the release record"):
        load_record(tmp_path / "absent.toml")


def test_the_documented_record_is_valid_and_plans(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "releases.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```toml\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    write_evaluation(tmp_path)
    (tmp_path / "release.toml").write_text(blocks[0], encoding="utf-8")
    record, _ = load_record(tmp_path / "release.toml")
    assert record.rollout_scope.steps == [5, 25, 100]
    settings = evaluation_settings(record, parse_store_url(str(tmp_path / "s.sqlite")))
    plan_evaluation(record, settings, "docs/releases.md")  # its names are the workflow's
    inline = tomllib.loads(blocks[1])["evaluation"]
    assert set(inline) == {"experiment", "llm"} and "api_key" not in inline["llm"]
