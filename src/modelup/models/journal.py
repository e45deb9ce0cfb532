"""A live run's checkpoint, so that a run stopped midway resumes with only the missing calls.

``<runs_directory>/<run_id>/plan.json`` is written once, atomically, before the first call: the
run's identity and its configuration (secrets replaced by ``***``). ``journal.jsonl`` gets one
line per call outcome as it arrives, in a single ``write`` on a file opened for appending, so a
kill (even ``SIGKILL``) leaves every finished line intact and at worst one torn last line, which
is ignored. Answers are journaled, not scores: a resumed run re-scores them deterministically.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from modelup import jsonbytes
from modelup.config.settings import Settings
from modelup.errors import ConfigError, StoreError
from modelup.models.cache import response_from_json, response_to_json
from modelup.models.chat import ChatResponse

CHECKPOINT_VERSION = 1
PLAN_FILE = "plan.json"
JOURNAL_FILE = "journal.jsonl"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SECRET = "***"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What one call ended with: an answer (maybe from the cache) or the reason it failed."""

    response: ChatResponse | None
    error: str | None = None
    cached: bool = False


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A checkpoint read back: the plan as saved and every outcome journaled so far."""

    run_id: str
    started_at: datetime
    settings: Mapping[str, Any]
    """The run's configuration as saved (secrets are ``***``)."""
    dataset_sha256: str
    models: tuple[str, ...]
    outcomes: Mapping[tuple[int, int], CallOutcome]
    """Keyed by (target index, trial position)."""


def run_directory(runs_directory: Path, run_id: str) -> Path:
    """The checkpoint directory of ``run_id``; the id is checked so that it is never a path."""
    if not _RUN_ID.match(run_id) or ".." in run_id:
        raise ConfigError(f"--resume: {run_id!r} is not a run id")
    return runs_directory / run_id


class Journal:
    """The append-only journal of one run; ``record`` is one ``write`` system call."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        path = directory / JOURNAL_FILE
        try:
            self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the run journal: {exc.strerror}") from exc

    @classmethod
    def create(
        cls,
        runs_directory: Path,
        *,
        run_id: str,
        started_at: datetime,
        settings: Mapping[str, Any],
        dataset_sha256: str,
        models: tuple[str, ...],
    ) -> Journal:
        """Write the plan of a new run (atomically) and open its empty journal."""
        directory = run_directory(runs_directory, run_id)
        plan = {
            "checkpoint_version": CHECKPOINT_VERSION,
            "run_id": run_id,
            "started_at": started_at.isoformat(),
            "dataset_sha256": dataset_sha256,
            "models": list(models),
            "settings": dict(settings),
        }
        try:
            directory.mkdir(parents=True, exist_ok=False)
            temporary = directory / f".{PLAN_FILE}.tmp"
            temporary.write_text(json.dumps(plan, indent=2, ensure_ascii=False), "utf-8")
            os.replace(temporary, directory / PLAN_FILE)
        except OSError as exc:
            raise StoreError(f"{directory}: cannot write the run checkpoint: {exc}") from exc
        return cls(directory)

    def record(self, target: int, position: int, outcome: CallOutcome) -> None:
        entry: dict[str, Any] = {"t": target, "i": position}
        if outcome.response is not None:
            entry["response"] = response_to_json(outcome.response)
            entry["cached"] = outcome.cached
        else:
            entry["error"] = outcome.error or "unknown error"
        line = jsonbytes.compact(entry) + b"\n"
        if self._fd is None:
            raise StoreError(f"{self.directory}: the run journal is closed")
        try:
            os.write(self._fd, line)
        except OSError as exc:
            raise StoreError(f"{self.directory}: cannot write the run journal: {exc}") from exc

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def remove(self) -> None:
        """Delete the checkpoint once its report is safely written."""
        self.close()
        for name in (JOURNAL_FILE, PLAN_FILE):
            (self.directory / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # something else was put there: leave it
            self.directory.rmdir()


def load_run(runs_directory: Path, run_id: str) -> SavedRun:
    """Read a checkpoint back; a torn last journal line (a kill mid-write) is ignored."""
    directory = run_directory(runs_directory, run_id)
    plan_path = directory / PLAN_FILE
    if not plan_path.is_file():
        raise ConfigError(f"--resume: no checkpoint for run {run_id} in {runs_directory}")
    try:
        plan = json.loads(plan_path.read_text("utf-8"))
        if plan.get("checkpoint_version") != CHECKPOINT_VERSION:
            raise StoreError(
                f"{plan_path}: checkpoint version {plan.get('checkpoint_version')!r} "
                f"is not supported (this modelup reads version {CHECKPOINT_VERSION})"
            )
        saved = SavedRun(
            run_id=str(plan["run_id"]),
            started_at=datetime.fromisoformat(plan["started_at"]),
            settings=dict(plan["settings"]),
            dataset_sha256=str(plan["dataset_sha256"]),
            models=tuple(str(model) for model in plan["models"]),
            outcomes=_read_journal(directory / JOURNAL_FILE),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{plan_path}: cannot read the run checkpoint: {exc}") from exc
    return saved


def _read_journal(path: Path) -> dict[tuple[int, int], CallOutcome]:
    outcomes: dict[tuple[int, int], CallOutcome] = {}
    if not path.exists():
        return outcomes
    with path.open("rb") as journal:
        for number, raw in enumerate(journal, start=1):
            if not raw.endswith(b"\n"):
                break  # torn last line: that call is simply made again
            try:
                entry = json.loads(raw)
                key = (int(entry["t"]), int(entry["i"]))
                if "response" in entry:
                    outcome = CallOutcome(
                        response_from_json(entry["response"]), cached=bool(entry.get("cached"))
                    )
                else:
                    outcome = CallOutcome(None, error=str(entry["error"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"{path}: line {number}: damaged journal entry: {exc}") from exc
            outcomes[key] = outcome
    return outcomes


def restore_settings(saved: SavedRun, current: Settings) -> Settings:
    """The saved run's settings, with what is never saved taken from ``current`` (the
    configuration given now): every ``***`` secret, and the cache settings, which say how to
    run, not what (so ``--no-cache`` works on a resumed run too)."""
    restored = json.loads(json.dumps(saved.settings))
    sections: list[tuple[str, Any, SecretStr | None]] = [
        ("llm", restored.get("llm"), current.llm.api_key)
    ]
    for model, section in (restored.get("models") or {}).items():
        now = current.models.get(model)
        sections.append((f"models.{model}", section, now.api_key if now else None))
    for where, section, secret in sections:
        if not isinstance(section, dict) or section.get("api_key") != SECRET:
            continue
        if secret is None:
            raise ConfigError(
                f"--resume: run {saved.run_id} used an inline {where}.api_key, which is never "
                "saved; resume with the same configuration file (--config)"
            )
        section["api_key"] = secret.get_secret_value()
    restored["cache"] = current.cache.model_dump()
    try:
        return Settings.model_validate(restored)
    except ValidationError as exc:
        raise StoreError(f"run {saved.run_id}: the saved configuration is invalid: {exc}") from None
