"""A live run's checkpoint, so that a run stopped midway resumes with only the missing calls.

``<runs_directory>/<run_id>/plan.json`` is written once, atomically, before the first call: the
run's identity and its configuration as ``Settings.redacted`` gives it (API keys replaced by
``***``, URLs stripped of credentials). Beside it, the run journal (``modelup.models.journal``)
gets one line per call outcome as it arrives. What was never saved comes back, on resume, from
the configuration given then.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError

from modelup.config.settings import Settings
from modelup.config.store_url import redact_url
from modelup.errors import ConfigError, StoreError
from modelup.models.journal import JOURNAL_FILE, CallOutcome, Journal, read_journal

CHECKPOINT_VERSION = 2
"""2: the journal is keyed by request, not by (model, case) position."""
PLAN_FILE = "plan.json"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SECRET = "***"


def new_run_id(started_at: datetime) -> str:
    """``<UTC time>-<random hex>``: sortable, unique, and safe as a directory name."""
    return f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A checkpoint read back: the plan as saved and every outcome journaled so far."""

    run_id: str
    started_at: datetime
    settings: Mapping[str, Any]
    """The run's configuration as saved (secrets are ``***``)."""
    dataset_sha256: str
    models: tuple[str, ...]
    outcomes: Mapping[str, CallOutcome]
    """Keyed by request (``modelup.models.cache.cache_key``)."""
    report_file: Path | None = None
    """Where the run was told to write its report (``--report-file``), if anywhere."""


def run_directory(runs_directory: Path, run_id: str) -> Path:
    """The checkpoint directory of ``run_id``; the id is checked so that it is never a path."""
    if not _RUN_ID.match(run_id) or ".." in run_id:
        raise ConfigError(f"--resume: {run_id!r} is not a run id")
    return runs_directory / run_id


def create_checkpoint(
    runs_directory: Path,
    *,
    run_id: str,
    started_at: datetime,
    settings: Mapping[str, Any],
    dataset_sha256: str,
    models: tuple[str, ...],
    report_file: Path | None = None,
) -> Journal:
    """Write the plan of a new run (atomically) and open its empty journal. ``report_file`` is
    where the run was told to write its report, so that a resumed run writes it there too."""
    directory = run_directory(runs_directory, run_id)
    plan = {
        "checkpoint_version": CHECKPOINT_VERSION,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "dataset_sha256": dataset_sha256,
        "models": list(models),
        "report_file": str(report_file.resolve()) if report_file is not None else None,
        "settings": dict(settings),
    }
    try:
        directory.mkdir(parents=True, exist_ok=False)
        temporary = directory / f".{PLAN_FILE}.tmp"
        temporary.write_text(json.dumps(plan, indent=2, ensure_ascii=False), "utf-8")
        os.replace(temporary, directory / PLAN_FILE)
    except OSError as exc:
        raise StoreError(f"{directory}: cannot write the run checkpoint: {exc}") from exc
    return Journal(directory)


def remove_checkpoint(directory: Path) -> None:
    """Delete a checkpoint once its report is safely written."""
    for name in (JOURNAL_FILE, PLAN_FILE):
        (directory / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # something else was put there: leave it
        directory.rmdir()


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
            outcomes=read_journal(directory / JOURNAL_FILE),
            report_file=Path(plan["report_file"]) if plan.get("report_file") else None,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{plan_path}: cannot read the run checkpoint: {exc}") from exc
    return saved


def _restore_url(run_id: str, where: str, section: Any, current: str | None) -> None:
    """Put back ``section``'s base URL with its credentials: the current one when it is the
    same endpoint (its redacted form is the one saved). A saved URL that named a user but has
    no such counterpart now is refused: its password was never saved."""
    if not isinstance(section, dict) or not isinstance(section.get("base_url"), str):
        return
    saved = section["base_url"]
    if current is not None and redact_url(current) == saved:
        section["base_url"] = current
    elif "@" in urlsplit(saved).netloc:
        raise ConfigError(
            f"--resume: run {run_id} used {where}.base_url {saved} with credentials, which "
            "are never saved; resume with the same configuration (--config)"
        )


def restore_settings(saved: SavedRun, current: Settings) -> Settings:
    """The saved run's settings, with what is never saved taken from ``current`` (the
    configuration given now): every ``***`` secret, every base URL whose credentials were
    stripped (the current URL, when it is the same endpoint), and the cache settings, which say
    how to run, not what (so ``--no-cache`` works on a resumed run too)."""
    restored = json.loads(json.dumps(saved.settings))
    sections: list[tuple[str, Any, SecretStr | None]] = [
        ("llm", restored.get("llm"), current.llm.api_key)
    ]
    urls: list[tuple[str, Any, str | None]] = [("llm", restored.get("llm"), current.llm.base_url)]
    for model, section in (restored.get("models") or {}).items():
        now = current.models.get(model)
        sections.append((f"models.{model}", section, now.api_key if now else None))
        urls.append((f"models.{model}", section, now.base_url if now else None))
    for where, section, url in urls:
        _restore_url(saved.run_id, where, section, url)
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
