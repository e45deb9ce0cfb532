"""The SQL of release records, in the project store: releases, their event log, and the pinned
identity each workflow serves.

The store keeps rows and applies changes; what a change may be (the state machine, the owner,
the verdict) is decided in ``modelup.release``, which hands ``ReleaseStore.transition`` a
function. That function runs inside one transaction, after every row it may change is locked
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds the whole file), so
what it sees is what it changes: two people acting on one release never both win. Conflicts
between releases of one workflow are a unique key: at most one release per workflow holds the
``change`` slot (approved, in canary or shadow) and one the ``serving`` slot (promoted). A
concurrent writer that takes a slot first makes the other's commit fail, and the loser gets a
``ReleaseError`` naming the release that holds it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from modelup import jsonbytes
from modelup.config.store_url import StoreLocation, StoreUrl
from modelup.errors import ReleaseError, StoreError
from modelup.store.database import Database
from modelup.store.project import open_project_database
from modelup.store.release_rows import (
    CHANGE_SLOT,
    KEEP,
    PIN_COLUMNS,
    SERVING_SLOT,
    Change,
    EventRow,
    Keep,
    Locked,
    PinnedIdentity,
    PinRow,
    PinWrite,
    ReleaseRow,
    Update,
    event_row,
    pin_row,
)
from modelup.store.serve_rows import Containment, read_containment, write_containment

__all__ = [
    "CHANGE_SLOT",
    "KEEP",
    "SERVING_SLOT",
    "Change",
    "Containment",
    "EventRow",
    "Locked",
    "PinRow",
    "PinWrite",
    "PinnedIdentity",
    "ReleaseRow",
    "ReleaseStore",
    "Update",
    "open_releases",
]

_JSON_COLUMNS = ("record", "evidence", "approval", "rollout", "pin", "replaced_pin")
RELEASE_COLUMNS = (
    "release_id",
    "number",
    "workflow_id",
    "state",
    "revision",
    "slot",
    "release_owner",
    "previous_model",
    "candidate_model",
    "verdict",
    "record",
    "source",
    "source_sha256",
    "evidence",
    "approval",
    "rollout",
    "pin",
    "replaced_pin",
    "created_at",
    "created_by",
    "updated_at",
)
_UPDATABLE = frozenset({"verdict", "evidence", "approval", "rollout", "pin", "replaced_pin"})
_EVENT_COLUMNS = (
    "release_id",
    "number",
    "at",
    "actor",
    "action",
    "from_state",
    "to_state",
    "reason",
    "detail",
)
_CREATE_ATTEMPTS = 5


class ReleaseStore:
    """Releases in an open project store; use as a context manager, or call ``close``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.url: StoreUrl = db.url

    def __repr__(self) -> str:
        return f"<ReleaseStore {self.url.public}>"

    def __enter__(self) -> ReleaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------------------------

    def create(
        self,
        *,
        workflow_id: str,
        release_owner: str,
        previous_model: str,
        candidate_model: str,
        record: Mapping[str, Any],
        source: str,
        source_sha256: str,
        rollout: Mapping[str, Any],
        state: str,
        actor: str,
        at: datetime,
    ) -> ReleaseRow:
        """A new release, numbered one past the highest so far (``rel-N``), with its first
        event. Two writers numbering at once on PostgreSQL: the second retries."""
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                with self._db.transaction() as db:
                    row = db.query_one("SELECT max(number) FROM releases")
                    number = int(row[0]) + 1 if row and row[0] is not None else 1
                    release_id = f"rel-{number}"
                    stamp = _utc(at)
                    values: dict[str, Any] = {
                        "release_id": release_id,
                        "number": number,
                        "workflow_id": workflow_id,
                        "state": str(state),
                        "revision": 1,
                        "slot": None,
                        "release_owner": release_owner,
                        "previous_model": previous_model,
                        "candidate_model": candidate_model,
                        "verdict": None,
                        "record": _dump(record),
                        "source": source,
                        "source_sha256": source_sha256,
                        "evidence": None,
                        "approval": None,
                        "rollout": _dump(rollout),
                        "pin": None,
                        "replaced_pin": None,
                        "created_at": stamp,
                        "created_by": actor,
                        "updated_at": stamp,
                    }
                    db.execute(
                        f"INSERT INTO releases ({', '.join(RELEASE_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in RELEASE_COLUMNS)})",
                        [values[name] for name in RELEASE_COLUMNS],
                    )
                    self._append_event(
                        db, release_id, Update(release_id, state, "new", actor, at), None
                    )
            except self._db.conflicts:
                if attempt + 1 == _CREATE_ATTEMPTS:
                    raise StoreError(f"{self.url}: cannot number a new release: busy") from None
                continue
            except self._db.errors as exc:
                raise StoreError(f"{self.url}: cannot create a release: {exc}") from exc
            created = self.get(release_id)
            assert created is not None
            return created
        raise AssertionError("unreachable")

    def transition(self, release_id: str, decide: Callable[[Locked], Change]) -> ReleaseRow:
        """Lock ``release_id`` and what it may change, let ``decide`` say what changes (it
        raises ``ReleaseError`` to refuse), and write it, all in one transaction."""
        workflow_id: str | None = None
        try:
            with self._db.transaction() as db:
                release = self._release(db, release_id, lock=True)
                if release is None:
                    raise ReleaseError(f"no release {release_id} in {self.url}")
                workflow_id = release.workflow_id
                pin = self._pin(db, workflow_id, lock=True)
                serving = previous = None
                if pin is not None and pin.release_id is not None:
                    serving = self._release(db, pin.release_id, lock=True)
                if pin is not None and pin.previous_release_id is not None:
                    previous = self._release(db, pin.previous_release_id, lock=True)
                contained = read_containment(db, workflow_id, lock=True)
                holders = self._holders(db, release)
                change = decide(Locked(release, pin, serving, previous, holders, contained))
                for update in change.updates:
                    self._apply(db, update)
                if change.pin is not None:
                    self._write_pin(db, workflow_id, pin, change.pin)
                if not isinstance(change.containment, Keep):
                    write_containment(db, workflow_id, change.containment)
        except self._db.conflicts:
            # A concurrent writer took a slot (or the pin) of this workflow first.
            raise ReleaseError(self._conflict(release_id, workflow_id)) from None
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot change release {release_id}: {exc}") from exc
        changed = self.get(release_id)
        assert changed is not None
        return changed

    def _conflict(self, release_id: str, workflow_id: str | None) -> str:
        holders = []
        if workflow_id is not None:
            sql = f"SELECT {', '.join(RELEASE_COLUMNS)} FROM releases WHERE workflow_id = ?"
            sql += " AND slot IS NOT NULL ORDER BY number"
            holders = [self._row(row) for row in self._read(sql, (workflow_id,))]
        held = "; ".join(f"{row.release_id} is {row.state}" for row in holders)
        return (
            f"release {release_id}: another release of workflow {workflow_id} changed at the same "
            f"time and won ({held or 'it has since moved on'}); nothing was changed"
        )

    def _apply(self, db: Database, update: Update) -> None:
        current = self._release(db, update.release_id, lock=False)
        assert current is not None  # locked by ``transition`` before ``decide`` ran
        unknown = set(update.columns) - _UPDATABLE
        if unknown:
            raise ValueError(f"release columns cannot be updated: {sorted(unknown)}")
        assignments: dict[str, Any] = {
            "state": str(update.to_state),
            "revision": current.revision + 1,
            "updated_at": _utc(update.at),
        }
        for name, value in update.columns.items():
            assignments[name] = _dump(value) if name in _JSON_COLUMNS else value
        if not isinstance(update.slot, Keep):
            assignments["slot"] = update.slot
        names = list(assignments)
        db.execute(
            f"UPDATE releases SET {', '.join(f'{name} = ?' for name in names)} "
            "WHERE release_id = ? AND revision = ?",
            [*(assignments[name] for name in names), update.release_id, current.revision],
        )
        self._append_event(db, update.release_id, update, current.state)

    def _append_event(
        self, db: Database, release_id: str, update: Update, from_state: str | None
    ) -> None:
        row = db.query_one(
            "SELECT max(number) FROM release_events WHERE release_id = ?", (release_id,)
        )
        number = int(row[0]) + 1 if row and row[0] is not None else 1
        db.execute(
            f"INSERT INTO release_events ({', '.join(_EVENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})",
            (
                release_id,
                number,
                _utc(update.at),
                update.actor,
                str(update.action),
                from_state,
                str(update.to_state),
                update.reason,
                _dump(dict(update.detail)),
            ),
        )

    def _write_pin(self, db: Database, workflow_id: str, old: PinRow | None, new: PinWrite) -> None:
        previous = new.previous
        values = (
            new.release_id,
            new.identity.requested_model,
            new.identity.model,
            _dump(list(new.identity.system_fingerprints)),
            _utc(new.pinned_at),
            new.pinned_by,
            new.previous_release_id,
            previous.requested_model if previous else None,
            previous.model if previous else None,
            _dump(list(previous.system_fingerprints)) if previous else None,
        )
        if old is None:
            # A concurrent first pin of the workflow breaks the primary key: a conflict.
            db.execute(
                f"INSERT INTO pins ({', '.join(PIN_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in PIN_COLUMNS)})",
                (workflow_id, *values, 1),
            )
            return
        columns = PIN_COLUMNS[1:-1]
        db.execute(
            f"UPDATE pins SET {', '.join(f'{name} = ?' for name in columns)}, revision = ? "
            "WHERE workflow_id = ? AND revision = ?",
            (*values, old.revision + 1, workflow_id, old.revision),
        )

    # -- reading -------------------------------------------------------------------------------

    def get(self, release_id: str) -> ReleaseRow | None:
        try:
            return self._release(self._db, release_id, lock=False)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read release {release_id}: {exc}") from exc

    def releases(
        self, *, workflow_id: str | None = None, state: str | None = None, limit: int | None = None
    ) -> list[ReleaseRow]:
        """Releases, newest first, optionally of one workflow or in one state."""
        where, params = [], []
        if workflow_id is not None:
            where.append("workflow_id = ?")
            params.append(workflow_id)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        sql = f"SELECT {', '.join(RELEASE_COLUMNS)} FROM releases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY number DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._row(row) for row in self._read(sql, params)]

    def events(self, release_id: str) -> list[EventRow]:
        sql = f"SELECT {', '.join(_EVENT_COLUMNS)} FROM release_events WHERE release_id = ?"
        rows = self._read(sql + " ORDER BY number", (release_id,))
        return [event_row(dict(zip(_EVENT_COLUMNS, row, strict=True))) for row in rows]

    def pins(self, workflow_id: str | None = None) -> list[PinRow]:
        sql = f"SELECT {', '.join(PIN_COLUMNS)} FROM pins"
        params: list[str] = []
        if workflow_id is not None:
            sql += " WHERE workflow_id = ?"
            params.append(workflow_id)
        return [pin_row(row) for row in self._read(sql + " ORDER BY workflow_id", params)]

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.query(sql, params)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read releases: {exc}") from exc

    def _release(self, db: Database, release_id: str, *, lock: bool) -> ReleaseRow | None:
        sql = f"SELECT {', '.join(RELEASE_COLUMNS)} FROM releases WHERE release_id = ?"
        row = db.query_one(sql + (db.dialect.lock_rows if lock else ""), (release_id,))
        return self._row(row) if row is not None else None

    def _pin(self, db: Database, workflow_id: str, *, lock: bool) -> PinRow | None:
        sql = f"SELECT {', '.join(PIN_COLUMNS)} FROM pins WHERE workflow_id = ?"
        row = db.query_one(sql + (db.dialect.lock_rows if lock else ""), (workflow_id,))
        return pin_row(row) if row is not None else None

    def _holders(self, db: Database, release: ReleaseRow) -> dict[str, ReleaseRow]:
        sql = f"SELECT {', '.join(RELEASE_COLUMNS)} FROM releases "
        sql += "WHERE workflow_id = ? AND slot IS NOT NULL"
        rows = [self._row(row) for row in db.query(sql, (release.workflow_id,))]
        return {row.slot: row for row in rows if row.slot is not None}

    @staticmethod
    def _row(row: Sequence[Any]) -> ReleaseRow:
        values = dict(zip(RELEASE_COLUMNS, row, strict=True))
        for name in _JSON_COLUMNS:
            if values[name] is not None:
                values[name] = json.loads(values[name])
        for name in ("created_at", "updated_at"):
            values[name] = datetime.fromisoformat(values[name])
        values["number"] = int(values["number"])
        values["revision"] = int(values["revision"])
        return ReleaseRow(**values)


def _dump(value: Any) -> str:
    return jsonbytes.dumps(value, sort_keys=True).decode("utf-8")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def open_releases(url: StoreLocation, *, create: bool = True) -> ReleaseStore | None:
    """Open (and migrate) the project store at ``url`` for releases. With ``create=False`` a
    store nothing was recorded in yet is ``None`` rather than created."""
    db = open_project_database(url, create=create)
    return ReleaseStore(db) if db is not None else None
