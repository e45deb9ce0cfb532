"""The trace recorder: builds one record per call, gives it its ids, tells drift, and hands it to
every sink (the project store, an OpenTelemetry collector).

Calls are grouped into traces: in a run, every model and epoch of one case share a trace; in
serve, each request is its own. A sink learns when a trace is complete, so an exporter can emit
the parent span with the true extent of its calls. A sink never fails the run: what goes wrong
is collected as warnings, returned by ``close``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from modelup.config.store_url import StoreLocation
from modelup.errors import StoreError
from modelup.observe.build import CallFacts, Keep, build_record
from modelup.observe.record import TraceRecord
from modelup.store.traces import TraceRow, TraceStore, open_trace_store, store_time

_BATCH = 256
_BATCH_S = 1.0


# Ids as OpenTelemetry's own generator makes them (``random.getrandbits``): unique, not secret,
# and a tenth of the cost of ``secrets`` on every call.
def new_trace_id() -> str:
    return f"{random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"


@dataclass(frozen=True, slots=True)
class GateOutcome:
    """The gate's verdict on one candidate, for the sinks that record run-level outcomes."""

    candidate: str
    verdict: str
    reasons: tuple[str, ...]


class TraceSink(Protocol):
    """Where records go. ``add`` is called on the event loop and must not block for long."""

    def add(self, record: TraceRecord, *, closes_trace: bool) -> None: ...

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None: ...

    def close(self) -> list[str]:
        """Flush and close; returns warnings (never raises for what the sink could not do)."""
        ...


def store_row(record: TraceRecord) -> TraceRow:
    return TraceRow(
        span_id=record.span_id,
        trace_id=record.trace_id,
        at=store_time(record.finished_at),
        source=record.source,
        run_id=record.run_id,
        workflow=record.workflow,
        workflow_version=record.workflow_version,
        case_id=record.case_id,
        requested_model=record.requested_model,
        resolved_model=record.resolved_model,
        failed=record.failed,
        overridden=record.overridden,
        drift=record.drift,
        errored=record.error is not None,
        trace_version=record.trace_version,
        record=record.to_json().decode("utf-8"),
    )


class StoreSink:
    """Writes records to the project store in batches (every 256 records or every second, and
    on close), after deleting those older than ``retention_days`` (0 or ``None``: none)."""

    def __init__(self, url: StoreLocation, *, retention_days: float | None = None) -> None:
        self.warnings: list[str] = []
        self._pending: list[TraceRow] = []
        self._started = 0.0
        self._store: TraceStore | None = None
        try:
            store = open_trace_store(url)
            assert store is not None  # create=True always opens one
            self._store = store
            if retention_days:
                store.prune(datetime.now(UTC) - timedelta(days=retention_days))
        except StoreError as error:
            self._fail(error)

    def add(self, record: TraceRecord, *, closes_trace: bool) -> None:
        if self._store is None:
            return
        now = time.monotonic()
        if not self._pending:
            self._started = now
        self._pending.append(store_row(record))
        if len(self._pending) >= _BATCH or now - self._started > _BATCH_S:
            self.flush()

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None:
        """The store keeps calls; a run's verdicts are in its history."""

    def flush(self) -> None:
        if self._store is None or not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            self._store.add(rows)
        except StoreError as error:
            self._fail(error)

    def close(self) -> list[str]:
        self.flush()
        if self._store is not None:
            self._store.close()
            self._store = None
        return self.warnings

    def _fail(self, error: StoreError) -> None:
        self.warnings.append(f"traces not recorded: {error}")
        if self._store is not None:
            self._store.close()
        self._store = None
        self._pending = []


@dataclass
class _Open:
    trace_id: str
    parent_span_id: str
    remaining: int


@dataclass
class DriftTracker:
    """The first identity (resolved model, fingerprint) seen per (endpoint, requested model);
    a later call answered by another identity has drifted."""

    first: dict[tuple[str, str], list[str | None]] = field(default_factory=dict)

    def drifted(self, endpoint: str, model: str, resolved: str | None, fp: str | None) -> bool:
        seen = self.first.setdefault((endpoint, model), [None, None])
        drift = False
        for index, value in enumerate((resolved, fp)):
            if value is None:
                continue
            if seen[index] is None:
                seen[index] = value
            elif seen[index] != value:
                drift = True
        return drift


class TraceRecorder:
    """Turns call facts into records and hands them to ``sinks``."""

    def __init__(self, sinks: Sequence[TraceSink], *, keep: Keep | None = None) -> None:
        self.sinks = list(sinks)
        self.keep = keep or Keep()
        self.drift = DriftTracker()
        self._open: dict[str, _Open] = {}
        self.recorded = 0

    def record(self, facts: CallFacts, *, group: str | None = None, size: int = 1) -> TraceRecord:
        """Record one call. Calls with the same ``group`` (a case) share a trace, which is
        complete after ``size`` of them; without a group the call is a trace of its own."""
        trace = self._open.get(group) if group is not None else None
        if trace is None:
            trace = _Open(new_trace_id(), new_span_id(), max(1, size))
            if group is not None:
                self._open[group] = trace
        trace.remaining -= 1
        closes = trace.remaining <= 0
        if closes and group is not None:
            self._open.pop(group, None)
        result = facts.result
        drift = self.drift.drifted(
            facts.endpoint, facts.requested_model, result.resolved_model, result.system_fingerprint
        )
        record = build_record(
            facts,
            trace_id=trace.trace_id,
            span_id=new_span_id(),
            parent_span_id=trace.parent_span_id,
            drift=drift,
            keep=self.keep,
        )
        for sink in self.sinks:
            sink.add(record, closes_trace=closes)
        self.recorded += 1
        return record

    def is_open(self, group: str) -> bool:
        """Whether calls of ``group`` are still expected (its trace is not complete)."""
        return group in self._open

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None:
        for sink in self.sinks:
            sink.gate(workflow, run_id, outcomes)

    def close(self) -> list[str]:
        warnings: list[str] = []
        for sink in self.sinks:
            warnings += sink.close()
        return warnings
