"""A run's tracer: results are noted as they arrive and their records made in batches; every
record is made by ``finish`` (or ``close``), stamped with when its answer arrived."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelup.evaluate.dataset import Dataset
from modelup.evaluate.targets import ModelTarget
from modelup.observe import run_trace
from modelup.observe.parts import RecordParts, assemble
from modelup.observe.record import TraceRecord
from modelup.observe.recorder import TraceRecorder
from modelup.observe.run_trace import RunTracer
from support.traces import incident, scored, triage_answer


class Sink:
    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self.closing: list[bool] = []

    def add(self, parts: RecordParts, *, closes_trace: bool) -> None:
        self.records.append(assemble(parts))
        self.closing.append(closes_trace)

    def gate(self, *args: Any) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> list[str]:
        return []


def _tracer(sink: Sink) -> tuple[RunTracer, list[Any]]:
    workflow, cases = incident()
    targets = (ModelTarget("baseline", "base", "simulated"), ModelTarget("candidate", "cand", "x"))
    tracer = RunTracer(
        TraceRecorder([sink]),
        workflow=workflow,
        dataset=Dataset(Path("incident.json"), "0" * 64, tuple(cases)),
        targets=targets,
        epochs=1,
        run_id="R1",
        client="mock",
    )
    answer = triage_answer(escalate=True, steps=["inspect"], cite="deploy-4821")
    return tracer, [scored(workflow, case, answer) for case in cases]


def test_records_are_made_in_batches_and_all_of_them_by_finish(monkeypatch: Any) -> None:
    monkeypatch.setattr(run_trace, "_BATCH", 3)
    sink = Sink()
    tracer, results = _tracer(sink)
    before = time.time()
    tracer.on_result(0, results[0])
    tracer.on_result(1, results[0])
    assert sink.records == []  # noted, not made yet
    tracer.on_result(0, results[1])
    assert len(sink.records) == 3  # a batch
    assert sink.closing == [False, True, False]  # both models of the first case: its trace
    tracer.on_result(1, results[1])
    tracer.finish()
    assert len(sink.records) == 4 and sink.closing[-1] is True
    assert tracer.recorder.recorded == 4 and tracer.close() == []
    first = sink.records[0]
    assert (first.requested_model, first.role, first.run_id) == ("base", "baseline", "R1")
    assert first.trace_id == sink.records[1].trace_id != sink.records[2].trace_id
    # Stamped when the answer arrived, not when the record was made.
    assert datetime.fromtimestamp(before, UTC) <= first.finished_at <= sink.records[2].finished_at


def test_close_makes_what_is_pending_when_a_run_stops_early() -> None:
    sink = Sink()
    tracer, results = _tracer(sink)
    tracer.on_result(0, results[0])
    assert tracer.close() == [] and len(sink.records) == 1
