"""Trace records in the project store: the SQL behind ``modelup traces`` and the trace sink.

The store keeps each record as JSON beside the columns queries filter on; what a record holds
and how its JSON is versioned is ``modelup.observe``'s business (the store never imports it).
Times are UTC text in one fixed format (``2026-05-23T07:13:37.000000Z``), so text order is time
order on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from modelup.config.store_url import StoreLocation, StoreUrl
from modelup.errors import StoreError
from modelup.store.database import Database, upsert
from modelup.store.project import open_project_database

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def store_time(moment: datetime) -> str:
    """``moment`` as the store writes times (UTC, fixed width: ``TIME_FORMAT``)."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"  # strftime costs ten times more


class TraceRow(NamedTuple):
    """One trace as the store keeps it: the filtered columns and the record's JSON, in the
    table's column order (a tuple, so a batch is inserted as it is)."""

    span_id: str
    trace_id: str
    at: str
    source: str
    run_id: str | None
    workflow: str
    workflow_version: str
    case_id: str | None
    requested_model: str
    resolved_model: str | None
    failed: bool
    overridden: bool
    drift: bool
    errored: bool
    trace_version: int
    record: str


_COLUMNS = TraceRow._fields
_INSERT = upsert("traces", _COLUMNS, ("span_id",))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM traces"


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """Which traces to read; every filter left at ``None``/``False`` selects all."""

    workflow: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    run_id: str | None = None
    failed: bool = False
    overridden: bool = False
    drift: bool = False
    """With several of ``failed``, ``overridden`` and ``drift``: a trace with any of them."""
    limit: int | None = None
    newest_first: bool = False


class TraceStore:
    """An open project store, for trace records; use as a context manager, or ``close``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.url: StoreUrl = db.url

    def __repr__(self) -> str:
        return f"<TraceStore {self.url.public}>"

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def add(self, rows: Sequence[TraceRow]) -> None:
        """Write ``rows`` in one transaction (a span id already there is replaced)."""
        if not rows:
            return
        values: Sequence[Sequence[object]] = rows
        if self._db.dialect.name != "sqlite":  # SQLite stores a bool as 0 or 1 by itself
            values = [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in rows]
        try:
            with self._db.transaction() as db:
                db.executemany(_INSERT, values)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot record traces: {exc}") from exc

    def find(self, query: TraceQuery) -> list[TraceRow]:
        """The traces ``query`` selects, oldest first (``newest_first``: newest first)."""
        where: list[str] = []
        params: list[object] = []
        for column, value in (("workflow", query.workflow), ("run_id", query.run_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.since is not None:
            where.append("at >= ?")
            params.append(store_time(query.since))
        if query.until is not None:
            where.append("at < ?")
            params.append(store_time(query.until))
        flags = [name for name in ("failed", "overridden", "drift") if getattr(query, name)]
        if flags:
            where.append("(" + " OR ".join(f"{name} = 1" for name in flags) + ")")
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        order = "DESC" if query.newest_first else "ASC"
        sql += f" ORDER BY at {order}, span_id {order}"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        return [_row(row) for row in self._read(sql, params)]

    def get(self, ident: str) -> list[TraceRow]:
        """The traces ``ident`` names: a span id (one call), or a trace id (every call of a
        case or request), in full or as a prefix that matches one of them only."""
        ident = ident.strip().lower()
        if not ident or any(c not in "0123456789abcdef" for c in ident):
            raise StoreError(f"{ident!r} is not a trace or span id (hexadecimal)")
        exact = self._read(_SELECT + " WHERE span_id = ? OR trace_id = ? ORDER BY at", (ident,) * 2)
        if exact:
            return [_row(row) for row in exact]
        pattern = ident + "%"
        sql = _SELECT + " WHERE span_id LIKE ? OR trace_id LIKE ? ORDER BY at, span_id"
        rows = [_row(row) for row in self._read(sql, (pattern, pattern))]
        if len({row.trace_id for row in rows}) > 1:
            raise StoreError(f"{ident!r} matches several traces: give more of the id")
        return rows

    def prune(self, before: datetime) -> int:
        """Delete the traces recorded before ``before``; returns how many."""
        cutoff = store_time(before)
        try:
            with self._db.transaction() as db:
                row = db.query_one("SELECT count(*) FROM traces WHERE at < ?", (cutoff,))
                db.execute("DELETE FROM traces WHERE at < ?", (cutoff,))
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot prune traces: {exc}") from exc
        return int(row[0]) if row else 0

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        try:
            return self._db.query(sql, params)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read traces: {exc}") from exc


def _row(values: Sequence[object]) -> TraceRow:
    data = dict(zip(_COLUMNS, values, strict=True))
    for flag in ("failed", "overridden", "drift", "errored"):
        data[flag] = bool(data[flag])
    data["trace_version"] = int(data["trace_version"])  # type: ignore[call-overload]
    return TraceRow(**data)  # type: ignore[arg-type]


def open_trace_store(url: StoreLocation, *, create: bool = True) -> TraceStore | None:
    """Open (and migrate) the project store at ``url`` for traces. With ``create=False`` a
    store nothing was recorded in yet is ``None`` rather than created."""
    db = open_project_database(url, create=create, what="store")
    if db is None:
        return None
    return TraceStore(db)
