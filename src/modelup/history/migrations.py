"""Named, append-only migrations of the history store (after simonw/llm's ``migrations.py``).

Each migration is a function named ``mNNN_what`` that runs once, in order; the pending ones run
in one transaction together with the rows recording their names in ``_migrations``, so a store is
never left half-migrated. A released migration is never edited or removed:
a change to the store is a new function at the end. A store that records a migration this
modelup does not know was written by a newer modelup and is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from modelup.errors import StoreError

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(function: Migration) -> Migration:
    MIGRATIONS.append(function)
    return function


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    """One row per run; one row per figure per model per run."""
    db.execute(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            workflow TEXT NOT NULL,
            dataset_sha256 TEXT NOT NULL,
            baseline TEXT NOT NULL,
            candidates TEXT NOT NULL,
            verdict TEXT NOT NULL,
            report_path TEXT
        )
        """
    )
    db.execute("CREATE INDEX runs_started_at ON runs (started_at)")
    db.execute(
        """
        CREATE TABLE figures (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            role TEXT NOT NULL,
            figure TEXT NOT NULL,
            value REAL,
            PRIMARY KEY (run_id, model, figure)
        )
        """
    )
    db.execute("CREATE INDEX figures_model_figure ON figures (model, figure)")


@migration
def m002_run_details(db: sqlite3.Connection) -> None:
    """What else identifies a run: versions, mode, the prompt, and when it was recorded."""
    for column in (
        "finished_at TEXT",
        "workflow_version TEXT",
        "mode TEXT",
        "client TEXT",
        "dataset_path TEXT",
        "case_count INTEGER",
        "prompt_sha256 TEXT",
        "tool_version TEXT",
        "recorded_at TEXT",
    ):
        db.execute(f"ALTER TABLE runs ADD COLUMN {column}")


@migration
def m003_decisions(db: sqlite3.Connection) -> None:
    """A verdict per candidate, and which candidate was recommended. Runs recorded before this
    held only the recommended verdict, which is the candidate's own when there was one."""
    db.execute("ALTER TABLE runs ADD COLUMN recommended TEXT")
    db.execute(
        """
        CREATE TABLE decisions (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            candidate TEXT NOT NULL,
            verdict TEXT NOT NULL,
            PRIMARY KEY (run_id, candidate)
        )
        """
    )
    single = "json_array_length(candidates) = 1"
    db.execute(f"UPDATE runs SET recommended = json_extract(candidates, '$[0]') WHERE {single}")
    db.execute(
        "INSERT INTO decisions (run_id, candidate, verdict) "
        f"SELECT run_id, json_extract(candidates, '$[0]'), verdict FROM runs WHERE {single}"
    )


def applied_migrations(db: sqlite3.Connection) -> list[str]:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    if not exists:
        return []
    return [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(db: sqlite3.Connection, where: str) -> list[str]:
    """Run every migration ``db`` has not had; returns the names run. ``db`` must be in
    autocommit mode (``isolation_level=None``) so that each step is its own transaction."""
    known = [step.__name__ for step in MIGRATIONS]
    ran: list[str] = []
    db.execute("BEGIN IMMEDIATE")  # one migrating process at a time
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = applied_migrations(db)
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise StoreError(
                f"{where}: history store was written by a newer modelup "
                f"(unknown migrations: {', '.join(unknown)})"
            )
        for step in MIGRATIONS:
            if step.__name__ in applied:
                continue
            step(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (step.__name__, datetime.now(UTC).isoformat()),
            )
            ran.append(step.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return ran
