"""The evaluation a release runs: its settings (recorded in the release's store), the plan
checked against the record before any call, and an existing report checked before it is
attached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelup.config.store_url import parse_store_url
from modelup.errors import ConfigError, ReleaseError
from modelup.release.evaluation import check_report, evaluation_settings, plan_evaluation
from modelup.release.record import ReleaseRecord, load_record
from modelup.report.schema import DatasetRecord, PromptRecord, Report, WorkflowRecord
from modelup.session import Session
from support.releases import (
    SUPPORT_OPS_DATASET,
    release_files,
    write_evaluation,
    write_record,
)


def loaded(directory: Path, **fields: Any) -> ReleaseRecord:
    record, _ = load_record(release_files(directory, **fields))
    return record


def test_the_evaluation_records_its_run_in_the_release_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = loaded(tmp_path)
    store = parse_store_url(str(tmp_path / "team.sqlite"))
    monkeypatch.setenv("MODELUP_EXPERIMENT__EPOCHS", "2")
    settings = evaluation_settings(record, store)
    assert settings.store_url == str((tmp_path / "team.sqlite").resolve())
    assert settings.experiment.epochs == 2  # the environment still applies
    postgres = parse_store_url("postgresql://modelup:pw@db.internal/modelup")
    assert evaluation_settings(record, postgres).store_url == postgres.conninfo


def test_an_inline_evaluation(tmp_path: Path) -> None:
    inline = {
        "experiment": {"use_mock_client": True, "dataset_path": str(SUPPORT_OPS_DATASET)},
        "llm": {"baseline_model_id": "gpt-oss:20b", "candidate_model_id": ["a", "qwen3:8b"]},
    }
    record, _ = load_record(write_record(tmp_path, evaluation=inline))
    settings = evaluation_settings(record, parse_store_url(str(tmp_path / "s.sqlite")))
    plan = plan_evaluation(record, settings, "release.toml")
    assert [target.model for target in plan.candidates] == ["a", "qwen3:8b"]


@pytest.mark.parametrize(
    ("fields", "evaluation", "message"),
    [
        ({"previous_model": "llama3:8b"}, {}, "previous_model is 'llama3:8b' but the evaluation"),
        ({}, {"candidate": "mistral:7b"}, "candidate_model 'qwen3:8b' is not a candidate"),
        (
            {"expected_deltas": [{"figure": "vibes", "greater_is_better": True, "threshold": 1}]},
            {},
            r"expected_deltas\[0\]\.figure: 'vibes' is not a figure of workflow 'support-ops'",
        ),
        (
            {"gate_classes": {"block": ["escalation-posture"]}},
            {},
            r"gate_classes\.block: 'escalation-posture' is neither a figure",
        ),
    ],
)
def test_the_plan_must_be_the_record(
    tmp_path: Path, fields: dict[str, Any], evaluation: dict[str, Any], message: str
) -> None:
    write_evaluation(tmp_path, **evaluation)
    record, _ = load_record(write_record(tmp_path, **fields))
    settings = evaluation_settings(record, parse_store_url(str(tmp_path / "s.sqlite")))
    with pytest.raises(ConfigError, match=message):
        plan_evaluation(record, settings, "release.toml")


def test_an_existing_report_must_be_the_evaluation(tmp_path: Path) -> None:
    record = loaded(tmp_path)
    settings = evaluation_settings(record, parse_store_url(str(tmp_path / "s.sqlite")))
    plan = plan_evaluation(record, settings, "release.toml")
    report = Session(settings).run().report
    path = tmp_path / "r.json"
    check_report(record, plan, report, path)  # the evaluation's own report is accepted

    def refused(changed: Report, message: str) -> None:
        with pytest.raises(ReleaseError, match=message):
            check_report(record, plan, changed, path)

    refused(
        report.model_copy(
            update={"dataset": DatasetRecord(path="x", sha256="0" * 64, case_count=1)}
        ),
        r"r\.json: this report is not the release's evaluation: it has dataset sha256 000000000000",
    )
    refused(
        report.model_copy(update={"prompt": PromptRecord(id="p2", sha256="1" * 64)}),
        "prompt p2 sha256 111111111111",
    )
    refused(
        report.model_copy(update={"workflow": WorkflowRecord(name="support-ops", version="2")}),
        "workflow support-ops v2",
    )
    models = [m.model_copy(update={"requested_model": "other"}) for m in report.models]
    refused(report.model_copy(update={"models": models}), "baseline other.*candidates other")
    decisions = [
        d.model_copy(update={"rules": [r.model_copy(update={"threshold": 0.5}) for r in d.rules]})
        for d in report.decisions
    ]
    refused(report.model_copy(update={"decisions": decisions}), "gate rules that differ")
