"""The on-disk response cache of live calls: one local SQLite file, keyed by what decides an
answer (``modelup.models.cache.cache_key``).

The cache is per machine, so it stays a local SQLite file whatever the project store is. It
migrates with the store's runner (``m001_responses``...). Caches written before that runner
recorded their steps in a table named ``migrations``; they are adopted on open: the names move
to ``_migrations`` and the old table is dropped, in the migrating transaction.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from modelup import jsonbytes
from modelup.config.store_url import StoreUrl
from modelup.errors import StoreError
from modelup.models.chat import ChatResponse, response_from_json, response_to_json
from modelup.store.database import Database, connect, upsert
from modelup.store.migrations import Migration, migrate, registrar

_BATCH = 256
_BATCH_S = 1.0
_PUT = upsert("responses", ("key", "model", "response", "created_at"), ("key",))

MIGRATIONS: list[Migration] = []
migration = registrar(MIGRATIONS)


@migration
def m001_responses(db: Database) -> None:
    """One answer per key."""
    db.execute_ddl(
        """CREATE TABLE IF NOT EXISTS responses (
            key TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )


def adopt_legacy_migrations(db: Database) -> None:
    """Move the step names an older cache recorded in ``migrations`` to ``_migrations``."""
    if not db.table_exists("migrations"):
        return
    db.execute(
        "INSERT INTO _migrations (name, applied_at) "
        "SELECT name, coalesce(applied_at, '') FROM migrations "
        "WHERE name NOT IN (SELECT name FROM _migrations)"
    )
    db.execute("DROP TABLE migrations")


class ResponseCache:
    """A cache file, open for the length of a run. Used from one thread (the event loop).

    With ``refresh``, every lookup misses, so every call is made again and its fresh answer
    replaces the cached one (``--refresh-cache``). Answers are written in batches, one
    transaction each (every 256 answers or every second, and on close): a killed run may lose
    its last few cached answers, never the run's results, which its journal keeps.
    """

    def __init__(self, path: Path, *, refresh: bool = False) -> None:
        self.path = path
        self.refresh = refresh
        self._pending: dict[str, tuple[str, str, str]] = {}
        """Answers not written yet, by key: (model, response JSON, when it was put)."""
        self._batch_started = 0.0
        self._db = connect(StoreUrl("sqlite", str(path), path), timeout=5.0)
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL sync: a crash may lose the last answers, never corrupt the file;
            # the run's own journal is what resume relies on.
            self._db.execute("PRAGMA synchronous = NORMAL")
            migrate(self._db, MIGRATIONS, kind="response cache", adopt=adopt_legacy_migrations)
        except self._db.errors as exc:
            self._db.close()
            raise StoreError(f"{path}: cannot open the response cache: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def get(self, key: str) -> ChatResponse | None:
        if self.refresh:
            return None
        pending = self._pending.get(key)
        if pending is not None:
            stored = pending[1]
        else:
            try:
                row = self._db.query_one("SELECT response FROM responses WHERE key = ?", (key,))
            except self._db.errors as exc:
                raise StoreError(f"{self.path}: cannot read the response cache: {exc}") from exc
            if row is None:
                return None
            stored = row[0]
        try:
            return response_from_json(json.loads(stored))
        except (ValueError, KeyError, TypeError):
            return None  # A damaged entry is a miss: the call is simply made again.

    def put(self, key: str, model: str, response: ChatResponse) -> None:
        value = jsonbytes.compact(response_to_json(response)).decode("utf-8")
        now = time.monotonic()
        if not self._pending:
            self._batch_started = now
        self._pending[key] = (model, value, _now())
        if len(self._pending) >= _BATCH or now - self._batch_started > _BATCH_S:
            self.flush()

    def flush(self) -> None:
        """Write the answers put so far, in one transaction."""
        if not self._pending:
            return
        rows = [(key, *row) for key, row in self._pending.items()]
        try:
            with self._db.transaction() as db:
                db.executemany(_PUT, rows)
        except self._db.errors as exc:
            raise StoreError(f"{self.path}: cannot write the response cache: {exc}") from exc
        self._pending.clear()

    def __len__(self) -> int:
        self.flush()
        row = self._db.query_one("SELECT count(*) FROM responses")
        return int(row[0]) if row else 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
