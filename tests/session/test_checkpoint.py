"""The run checkpoint: plan and journal written as results arrive, read back after a kill."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelup.config.settings import Settings
from modelup.errors import ConfigError, StoreError
from modelup.models.chat import ChatResponse, Usage
from modelup.models.journal import CallOutcome, Journal
from modelup.session.checkpoint import (
    create_checkpoint,
    load_run,
    remove_checkpoint,
    restore_settings,
    run_directory,
)

STARTED = datetime(2026, 5, 23, 7, 13, 37, tzinfo=UTC)


def new_journal(runs: Path, settings: dict[str, object] | None = None) -> Journal:
    return create_checkpoint(
        runs,
        run_id="20260523T071337Z-abc123",
        started_at=STARTED,
        settings=settings or Settings().redacted(),
        dataset_sha256="f" * 64,
        models=("base", "cand"),
    )


def test_outcomes_are_read_back_as_written(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    answer = ChatResponse("{}", 250.0, "base-1", Usage(7, 3), "fp")
    cached = ChatResponse("{}", 250.0, "base-1", Usage(7, 3), "fp", cached=True)
    journal.record("k1", CallOutcome(answer))
    journal.record("k2", CallOutcome(cached))
    journal.record("k3", CallOutcome(None, error="HTTP 500: boom"))
    journal.close()
    saved = load_run(tmp_path, "20260523T071337Z-abc123")
    assert saved.started_at == STARTED
    assert saved.models == ("base", "cand")
    assert saved.outcomes == {
        "k1": CallOutcome(answer),
        "k2": CallOutcome(cached),
        "k3": CallOutcome(None, error="HTTP 500: boom"),
    }


def test_model_text_with_a_lone_surrogate_is_journaled_and_read_back(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    answer = ChatResponse("hostile \ud800 text", 250.0, None, Usage(), None)
    journal.record("k", CallOutcome(answer))
    journal.close()
    assert load_run(tmp_path, "20260523T071337Z-abc123").outcomes == {"k": CallOutcome(answer)}


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    journal.record("k", CallOutcome(None, error="x"))
    journal.close()
    path = tmp_path / "20260523T071337Z-abc123" / "journal.jsonl"
    with path.open("a") as handle:
        handle.write('{"k": "k2", "resp')  # killed mid-write
    assert set(load_run(tmp_path, "20260523T071337Z-abc123").outcomes) == {"k"}


def test_a_damaged_line_in_the_middle_is_an_error_naming_it(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    journal.close()
    path = tmp_path / "20260523T071337Z-abc123" / "journal.jsonl"
    path.write_text('{"k": "a", "error": "x"}\nnot json\n{"k": "b", "error": "y"}\n')
    with pytest.raises(StoreError, match="line 2"):
        load_run(tmp_path, "20260523T071337Z-abc123")


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "x" * 200])
def test_a_run_id_is_never_a_path(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="not a run id"):
        run_directory(tmp_path, bad)


def test_an_unknown_run_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no checkpoint for run nope"):
        load_run(tmp_path, "nope")


def test_secrets_are_never_saved_and_come_back_from_the_current_configuration(
    tmp_path: Path,
) -> None:
    current = Settings.model_validate(
        {"llm": {"api_key": "sk-inline-secret"}, "models": {"m": {"api_key": "sk-model"}}}
    )
    new_journal(tmp_path, current.redacted()).close()
    plan = (tmp_path / "20260523T071337Z-abc123" / "plan.json").read_text()
    assert "sk-inline-secret" not in plan and "sk-model" not in plan
    saved = load_run(tmp_path, "20260523T071337Z-abc123")
    restored = restore_settings(saved, current)
    assert restored.api_key() == "sk-inline-secret"
    assert restored.api_key("m") == "sk-model"
    with pytest.raises(ConfigError, match=r"inline llm\.api_key"):
        restore_settings(saved, Settings())


def test_url_credentials_are_never_saved_and_come_back_from_the_current_configuration(
    tmp_path: Path,
) -> None:
    current = Settings.model_validate(
        {
            "llm": {"base_url": "https://bob:pw-llm@llm.example/v1?api_key=k-q&x=1"},
            "models": {"m": {"base_url": "http://ann:pw-m@10.0.0.2:8000/v1"}},
        }
    )
    new_journal(tmp_path, current.redacted()).close()
    plan = (tmp_path / "20260523T071337Z-abc123" / "plan.json").read_text()
    for secret in ("pw-llm", "pw-m", "k-q"):
        assert secret not in plan
    assert "https://bob@llm.example/v1?x=1" in plan and "http://ann@10.0.0.2:8000/v1" in plan
    saved = load_run(tmp_path, "20260523T071337Z-abc123")
    restored = restore_settings(saved, current)
    assert restored.llm.base_url == current.llm.base_url
    assert restored.models["m"].base_url == "http://ann:pw-m@10.0.0.2:8000/v1"
    with pytest.raises(ConfigError, match=r"llm\.base_url https://bob@llm\.example.*never saved"):
        restore_settings(saved, Settings())


def test_remove_deletes_the_checkpoint(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    journal.record("k", CallOutcome(None, error="x"))
    journal.close()
    remove_checkpoint(journal.directory)
    assert not (tmp_path / "20260523T071337Z-abc123").exists()


def test_a_checkpoint_of_another_version_is_refused_by_name(tmp_path: Path) -> None:
    new_journal(tmp_path).close()
    plan = tmp_path / "20260523T071337Z-abc123" / "plan.json"
    plan.write_text(plan.read_text().replace('"checkpoint_version": 2', '"checkpoint_version": 1'))
    with pytest.raises(StoreError, match="checkpoint version 1 is not supported"):
        load_run(tmp_path, "20260523T071337Z-abc123")
