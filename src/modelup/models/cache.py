"""The on-disk response cache of live calls: one SQLite file, keyed by what decides an answer.

The key is the sha256 of the endpoint, the requested model, the exact messages, the generation
parameters and the epoch, so a changed prompt, parameter or trial is a miss, never a stale hit.
The API key is never part of the key or the stored value: only the answer is kept (content,
original latency, resolved model, usage, system fingerprint). The file migrates with named,
append-only steps, recorded in a ``migrations`` table.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from modelup import jsonbytes
from modelup.errors import StoreError
from modelup.models.chat import ChatRequest, ChatResponse, Usage

KEY_VERSION = 1
"""Part of every key: bump it when the key's recipe changes, so old entries simply miss."""
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


def cache_key(endpoint: str, request: ChatRequest) -> str:
    """The sha256 of everything that decides an answer (secrets excluded)."""
    recipe = {
        "v": KEY_VERSION,
        "endpoint": public_endpoint(endpoint),
        "model": request.model,
        "messages": [message.to_json() for message in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "extra": dict(request.extra),
        "epoch": request.epoch,
    }
    return hashlib.sha256(jsonbytes.compact(recipe, sort_keys=True)).hexdigest()


@lru_cache(maxsize=64)  # a run has a few endpoints, asked for on every call
def public_endpoint(url: str) -> str:
    """``url`` without credentials (``https://user:key@host`` → ``https://host``) or a trailing
    slash: the form that may be hashed, saved or shown."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), parts.query, ""))


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


def response_to_json(response: ChatResponse) -> dict[str, Any]:
    """A response as plain JSON (shared with the run journal)."""
    return {
        "content": response.content,
        "latency_ms": response.latency_ms,
        "resolved_model": response.resolved_model,
        "prompt_tokens": response.usage.prompt_tokens,
        "completion_tokens": response.usage.completion_tokens,
        "system_fingerprint": response.system_fingerprint,
    }


def response_from_json(data: dict[str, Any]) -> ChatResponse:
    """The inverse of ``response_to_json``; raises ``KeyError``/``TypeError`` on a bad value."""
    content = data["content"]
    if not isinstance(content, str):
        raise TypeError("content is not a string")
    return ChatResponse(
        content=content,
        latency_ms=float(data["latency_ms"]),
        resolved_model=_optional_str(data.get("resolved_model")),
        usage=Usage(int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0))),
        system_fingerprint=_optional_str(data.get("system_fingerprint")),
    )


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


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
