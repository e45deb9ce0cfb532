"""The rows the run-time shell shares between replicas (migration ``m006_serve``): a workflow's
containment, and each replica's counts of a canary's analysis windows.

Counts are plain JSON (``CanaryCounts.to_json``): what a window of one arm saw, with the model
latencies as counts per fixed bucket so that the p95 of several replicas can be merged.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelup import jsonbytes
from modelup.store.database import Database, upsert

LATENCY_BUCKETS_MS: tuple[float, ...] = tuple(round(1.0 * 1.15**index, 3) for index in range(90))
"""Upper bounds of the latency buckets: 1 ms to about 290 s, 15% apart (a p95 read from
them is within 15% of the true one); a last bucket holds everything slower."""

_COUNT_COLUMNS = ("release_id", "step", "window_no", "arm", "replica", "updated_at", "counts")


@dataclass(frozen=True, slots=True)
class Containment:
    """A contained workflow: since when, by whom, why, and on which release."""

    release_id: str | None
    since: datetime
    actor: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "since": self.since.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
        }


@dataclass(slots=True)
class CanaryCounts:
    """What one arm saw in one analysis window (mutable: a replica adds to it)."""

    requests: int = 0
    errors: int = 0
    invalid: int = 0
    overridden: int = 0
    drift: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))

    def add(
        self,
        *,
        error: bool,
        invalid: bool,
        overridden: bool,
        drift: bool,
        latency_ms: float | None,
    ) -> None:
        self.requests += 1
        self.errors += error
        self.invalid += invalid
        self.overridden += overridden
        self.drift += drift
        if latency_ms is not None:
            self.latency[bisect_left(LATENCY_BUCKETS_MS, latency_ms)] += 1

    def merge(self, other: CanaryCounts) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.invalid += other.invalid
        self.overridden += other.overridden
        self.drift += other.drift
        for index, count in enumerate(other.latency):
            self.latency[index] += count

    def p95_ms(self) -> float | None:
        """The upper bound of the bucket holding the 95th percentile; ``None`` without data."""
        total = sum(self.latency)
        if not total:
            return None
        seen = 0
        for index, count in enumerate(self.latency):
            seen += count
            if seen >= 0.95 * total:
                return LATENCY_BUCKETS_MS[min(index, len(LATENCY_BUCKETS_MS) - 1)]
        raise AssertionError("unreachable")

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "invalid": self.invalid,
            "overridden": self.overridden,
            "drift": self.drift,
            "latency": list(self.latency),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CanaryCounts:
        latency = [int(count) for count in data.get("latency", ())]
        size = len(LATENCY_BUCKETS_MS) + 1
        latency = (latency + [0] * size)[:size]
        return cls(
            int(data.get("requests", 0)),
            int(data.get("errors", 0)),
            int(data.get("invalid", 0)),
            int(data.get("overridden", 0)),
            int(data.get("drift", 0)),
            latency,
        )


@dataclass(frozen=True, slots=True)
class CountKey:
    release_id: str
    step: int
    window: int
    arm: str


def read_containment(db: Database, workflow_id: str, *, lock: bool) -> Containment | None:
    sql = "SELECT release_id, since, actor, reason FROM containment WHERE workflow_id = ?"
    row = db.query_one(sql + (db.dialect.lock_rows if lock else ""), (workflow_id,))
    if row is None:
        return None
    return Containment(row[0], datetime.fromisoformat(row[1]), row[2], row[3])


def write_containment(db: Database, workflow_id: str, containment: Containment | None) -> None:
    """Contain the workflow (the first containment's row is kept: since when it has been
    contained), or lift its containment (``None``)."""
    if containment is None:
        db.execute("DELETE FROM containment WHERE workflow_id = ?", (workflow_id,))
        return
    if read_containment(db, workflow_id, lock=False) is not None:
        return
    db.execute(
        "INSERT INTO containment (workflow_id, release_id, since, actor, reason) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            workflow_id,
            containment.release_id,
            containment.since.astimezone(UTC).isoformat(),
            containment.actor,
            containment.reason,
        ),
    )


def write_counts(
    db: Database, replica: str, counts: Iterable[tuple[CountKey, CanaryCounts]], at: datetime
) -> None:
    """A replica's cumulative counts per window and arm (its own rows: no other writer)."""
    stamp = at.astimezone(UTC).isoformat()
    rows = [
        (
            key.release_id,
            key.step,
            key.window,
            key.arm,
            replica,
            stamp,
            jsonbytes.dumps(value.to_json()).decode("utf-8"),
        )
        for key, value in counts
    ]
    db.executemany(upsert("canary_counts", _COUNT_COLUMNS, _COUNT_COLUMNS[:5]), rows)


def read_counts(
    db: Database, release_id: str, *, step: int | None = None, window: int | None = None
) -> dict[str, CanaryCounts]:
    """Every replica's counts of a release summed per arm: of one window (``step`` and
    ``window``), or of the whole rollout."""
    sql = "SELECT arm, counts FROM canary_counts WHERE release_id = ?"
    params: list[object] = [release_id]
    if step is not None and window is not None:
        sql += " AND step = ? AND window_no = ?"
        params += [step, window]
    summed: dict[str, CanaryCounts] = {}
    for arm, text in db.query(sql, params):
        summed.setdefault(arm, CanaryCounts()).merge(CanaryCounts.from_json(json.loads(text)))
    return summed
