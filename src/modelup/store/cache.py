"""The on-disk response cache of live calls: one SQLite file of answers by request key
(``modelup.models.cache.cache_key``), used by the ``CachedClient`` middleware.

Only the answer is kept (content, original latency, resolved model, usage, system fingerprint),
never the API key. The file migrates with named, append-only steps.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from modelup import jsonbytes
from modelup.errors import StoreError
from modelup.models.chat import ChatResponse, response_from_json, response_to_json

_BATCH = 256
_BATCH_S = 1.0

_MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "m001_responses",
        """CREATE TABLE IF NOT EXISTS responses (
            key TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ),
)


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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL sync: a crash may lose the last answers, never corrupt the file;
            # the run's own journal is what resume relies on.
            self._db.execute("PRAGMA synchronous = NORMAL")
            _migrate(self._db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the response cache: {exc}") from exc

    def get(self, key: str) -> ChatResponse | None:
        if self.refresh:
            return None
        pending = self._pending.get(key)
        if pending is not None:
            stored = pending[1]
        else:
            try:
                row = self._db.execute(
                    "SELECT response FROM responses WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.Error as exc:
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
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO responses (key, model, response, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the response cache: {exc}") from exc
        self._pending.clear()

    def __len__(self) -> int:
        self.flush()
        row = self._db.execute("SELECT count(*) FROM responses").fetchone()
        return int(row[0])

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


def _migrate(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    for name, statement in _MIGRATIONS:
        if name in done:
            continue
        with db:  # one transaction per step: a step is applied whole or not at all
            db.execute("BEGIN")
            db.execute(statement)
            db.execute(
                "INSERT OR IGNORE INTO migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
