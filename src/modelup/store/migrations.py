"""The one migration runner of every store (after simonw/llm's ``migrations.py``).

A store kind (the project store, the response cache) is a list of named, append-only migration
functions, ``m001_initial``, ``m002_...``, each run once and in order. The pending ones run in
one transaction together with the rows recording their names in ``_migrations``, so a store is
never left half-migrated, and one process at a time migrates (SQLite's ``BEGIN IMMEDIATE``;
PostgreSQL's ``pg_advisory_xact_lock``): a second process waits, then finds nothing left to do.
A released migration is never edited or removed: a change is a new function at the end. A store
that records a migration this modelup does not know was written by a newer modelup and is
refused rather than guessed at.

A migration receives the ``Database``; where the engines' SQL must differ it reads
``db.dialect`` (schema statements go through ``db.execute_ddl``, which maps column types).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from modelup.errors import StoreError
from modelup.store.database import Database

Migration = Callable[[Database], None]
MIGRATIONS_TABLE = "_migrations"


def registrar(steps: list[Migration]) -> Callable[[Migration], Migration]:
    """A decorator that appends a migration function to ``steps`` (a store kind's list)."""

    def migration(function: Migration) -> Migration:
        steps.append(function)
        return function

    return migration


def applied_migrations(db: Database) -> list[str]:
    """The names recorded in ``_migrations``, in order; none for a store never migrated."""
    if not db.table_exists(MIGRATIONS_TABLE):
        return []
    return [row[0] for row in db.query(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name")]


def migrate(
    db: Database,
    steps: Sequence[Migration],
    *,
    kind: str = "store",
    adopt: Migration | None = None,
) -> list[str]:
    """Run every migration of ``steps`` that ``db`` has not had; returns the names run.

    ``kind`` names the store in messages. ``adopt`` runs first, inside the same transaction
    and after ``_migrations`` exists: it may copy in what an older runner recorded elsewhere.
    Driver errors propagate as the driver raised them (``db.errors``); the caller names the
    store in its ``StoreError``.
    """
    known = [step.__name__ for step in steps]
    if len(set(known)) != len(known):
        raise ValueError(f"migration names repeat: {known}")
    ran: list[str] = []
    with db.transaction():
        db.lock_exclusively()
        if not db.table_exists(MIGRATIONS_TABLE):
            db.execute_ddl(
                f"CREATE TABLE {MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        if adopt is not None:
            adopt(db)
        applied = applied_migrations(db)
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise StoreError(
                f"{db.url}: this {kind} was written by a newer modelup "
                f"(unknown migrations: {', '.join(unknown)}); upgrade modelup to use it"
            )
        for step in steps:
            if step.__name__ in applied:
                continue
            step(db)
            db.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)",
                (step.__name__, datetime.now(UTC).isoformat()),
            )
            ran.append(step.__name__)
    return ran
