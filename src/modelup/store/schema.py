"""The project store's schema: one append-only list of named migrations for every table in it.

History's tables come first (``m001``-``m003``), then release records (``m004_releases``);
per-call traces (``m005_traces``), then what the run-time shell's replicas share
(``m006_serve``), on this same list. The SQLite bodies of the released
steps are exactly what earlier modelups ran, so their files open unchanged; where PostgreSQL
needs other SQL the step says so (``db.dialect``). See ``modelup.store.migrations`` for the
rules.
"""

from __future__ import annotations

from modelup.store.database import Database
from modelup.store.migrations import Migration, registrar

MIGRATIONS: list[Migration] = []
migration = registrar(MIGRATIONS)


def _insertion_order(db: Database, table: str) -> None:
    # SQLite keeps insertion order in its rowid; a PostgreSQL table needs its own column.
    if db.dialect.name == "postgresql":
        db.execute(f"ALTER TABLE {table} ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY")


@migration
def m001_initial(db: Database) -> None:
    """One row per run; one row per figure per model per run."""
    db.execute_ddl(
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
    db.execute_ddl("CREATE INDEX runs_started_at ON runs (started_at)")
    db.execute_ddl(
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
    _insertion_order(db, "figures")
    db.execute_ddl("CREATE INDEX figures_model_figure ON figures (model, figure)")


@migration
def m002_run_details(db: Database) -> None:
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
        db.execute_ddl(f"ALTER TABLE runs ADD COLUMN {column}")


@migration
def m003_decisions(db: Database) -> None:
    """A verdict per candidate, and which candidate was recommended. Runs recorded before this
    held only the recommended verdict, which is the candidate's own when there was one."""
    db.execute_ddl("ALTER TABLE runs ADD COLUMN recommended TEXT")
    db.execute_ddl(
        """
        CREATE TABLE decisions (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            candidate TEXT NOT NULL,
            verdict TEXT NOT NULL,
            PRIMARY KEY (run_id, candidate)
        )
        """
    )
    _insertion_order(db, "decisions")
    if db.dialect.name == "sqlite":
        single = "json_array_length(candidates) = 1"
        first = "json_extract(candidates, '$[0]')"
    else:  # PostgreSQL stores start at m003 (nothing to backfill), but the SQL is the same idea
        single = "json_array_length(candidates::json) = 1"
        first = "(candidates::json ->> 0)"
    db.execute(f"UPDATE runs SET recommended = {first} WHERE {single}")
    db.execute(
        "INSERT INTO decisions (run_id, candidate, verdict) "
        f"SELECT run_id, {first}, verdict FROM runs WHERE {single}"
    )


@migration
def m004_releases(db: Database) -> None:
    """Release records (``modelup release``), their event log, and the pinned identity each
    workflow serves. JSON columns hold what a release accumulates (its record, evidence,
    approval, rollout progress, pinned identity), so the run-time shell can add to them without
    a migration. ``slot`` says which of a workflow's two places a release holds: ``change`` (the
    one approved change in flight: approved, in canary or shadow) or ``serving`` (the promoted
    release the pin names); the unique key keeps each to one release per workflow."""
    db.execute_ddl(
        """
        CREATE TABLE releases (
            release_id TEXT PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            workflow_id TEXT NOT NULL,
            state TEXT NOT NULL,
            revision INTEGER NOT NULL,
            slot TEXT,
            release_owner TEXT NOT NULL,
            previous_model TEXT NOT NULL,
            candidate_model TEXT NOT NULL,
            verdict TEXT,
            record TEXT NOT NULL,
            source TEXT NOT NULL,
            source_sha256 TEXT NOT NULL,
            evidence TEXT,
            approval TEXT,
            rollout TEXT NOT NULL,
            pin TEXT,
            replaced_pin TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (workflow_id, slot)
        )
        """
    )
    db.execute_ddl("CREATE INDEX releases_workflow ON releases (workflow_id, number)")
    db.execute_ddl(
        """
        CREATE TABLE release_events (
            release_id TEXT NOT NULL REFERENCES releases (release_id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            reason TEXT,
            detail TEXT NOT NULL,
            PRIMARY KEY (release_id, number)
        )
        """
    )
    db.execute_ddl(
        """
        CREATE TABLE pins (
            workflow_id TEXT PRIMARY KEY,
            release_id TEXT REFERENCES releases (release_id),
            requested_model TEXT NOT NULL,
            model TEXT NOT NULL,
            system_fingerprints TEXT NOT NULL,
            pinned_at TEXT NOT NULL,
            pinned_by TEXT NOT NULL,
            previous_release_id TEXT REFERENCES releases (release_id),
            previous_requested_model TEXT,
            previous_model TEXT,
            previous_system_fingerprints TEXT,
            revision INTEGER NOT NULL
        )
        """
    )


@migration
def m005_traces(db: Database) -> None:
    """One trace record per model call (``modelup traces``): the indexed columns the queries
    filter on, and the versioned record itself as JSON."""
    db.execute_ddl(
        """
        CREATE TABLE traces (
            span_id TEXT PRIMARY KEY,
            trace_id TEXT NOT NULL,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            run_id TEXT,
            workflow TEXT NOT NULL,
            workflow_version TEXT NOT NULL,
            case_id TEXT,
            requested_model TEXT NOT NULL,
            resolved_model TEXT,
            failed INTEGER NOT NULL,
            overridden INTEGER NOT NULL,
            drift INTEGER NOT NULL,
            errored INTEGER NOT NULL,
            trace_version INTEGER NOT NULL,
            record TEXT NOT NULL
        )
        """
    )
    db.execute_ddl("CREATE INDEX traces_at ON traces (at)")
    db.execute_ddl("CREATE INDEX traces_workflow_at ON traces (workflow, at)")
    db.execute_ddl("CREATE INDEX traces_trace_id ON traces (trace_id)")


@migration
def m006_serve(db: Database) -> None:
    """What the run-time shell (``modelup serve``) shares between replicas: which workflows are
    contained (a row each, removed when a human resumes), and each replica's counts of a
    canary's analysis windows (one row per release, step, window, arm and replica, so replicas
    never write the same row; an analysis sums them)."""
    db.execute_ddl(
        """
        CREATE TABLE containment (
            workflow_id TEXT PRIMARY KEY,
            release_id TEXT REFERENCES releases (release_id),
            since TEXT NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT NOT NULL
        )
        """
    )
    db.execute_ddl(
        """
        CREATE TABLE canary_counts (
            release_id TEXT NOT NULL REFERENCES releases (release_id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            window_no INTEGER NOT NULL,
            arm TEXT NOT NULL,
            replica TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            counts TEXT NOT NULL,
            PRIMARY KEY (release_id, step, window_no, arm, replica)
        )
        """
    )
