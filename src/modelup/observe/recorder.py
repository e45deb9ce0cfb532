"""The trace recorder: makes one record's parts per call (``modelup.observe.parts``), gives it its
ids, tells drift, and hands it to every sink (the project store, an OpenTelemetry collector),
which assembles the record where it needs it.

Calls are grouped into traces: in a run, every model and epoch of one case share a trace; in
serve, each request is its own. A sink learns when a trace is complete, so an exporter can emit
the parent span with the true extent of its calls. A sink never fails the run: what goes wrong
is collected as warnings, returned by ``close``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from modelup.observe.build import CallFacts, Keep, record_parts
from modelup.observe.parts import RecordParts


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
    """Where records go. ``add`` is called on the event loop and must not block for long; the
    record is ``modelup.observe.parts.assemble(parts)``, made where the sink needs it."""

    def add(self, parts: RecordParts, *, closes_trace: bool) -> None: ...

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None: ...

    def finish(self) -> None:
        """No more records: send what is held, without waiting for it."""
        ...

    def close(self) -> list[str]:
        """Flush and close; returns warnings (never raises for what the sink could not do)."""
        ...


@dataclass(slots=True)
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
        seen = self.first.get((endpoint, model))
        if seen is None:
            self.first[(endpoint, model)] = [resolved, fp]
            return False
        drift = False
        if resolved is not None:
            if seen[0] is None:
                seen[0] = resolved
            elif seen[0] != resolved:
                drift = True
        if fp is not None:
            if seen[1] is None:
                seen[1] = fp
            elif seen[1] != fp:
                drift = True
        return drift


class TraceRecorder:
    """Turns call facts into records' parts and hands them to ``sinks``."""

    def __init__(self, sinks: Sequence[TraceSink], *, keep: Keep | None = None) -> None:
        self.sinks = list(sinks)
        self.keep = keep or Keep()
        self.drift = DriftTracker()
        self._open: dict[str, _Open] = {}
        self.recorded = 0

    def record(self, facts: CallFacts, *, group: str | None = None, size: int = 1) -> RecordParts:
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
        parts = record_parts(
            facts,
            trace_id=trace.trace_id,
            span_id=new_span_id(),
            parent_span_id=trace.parent_span_id,
            drift=drift,
            keep=self.keep,
        )
        for sink in self.sinks:
            sink.add(parts, closes_trace=closes)
        self.recorded += 1
        return parts

    def is_open(self, group: str) -> bool:
        """Whether calls of ``group`` are still expected (its trace is not complete)."""
        return group in self._open

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None:
        for sink in self.sinks:
            sink.gate(workflow, run_id, outcomes)

    def finish(self) -> None:
        """No more records: every sink sends what it holds (``close`` then waits for it)."""
        for sink in self.sinks:
            sink.finish()

    def close(self) -> list[str]:
        warnings: list[str] = []
        for sink in self.sinks:
            warnings += sink.close()
        return warnings
