"""Trace records reach the project store through the trace writer process, every one of them by
close; a store or a writer that fails is a warning, never an exception."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from modelup.errors import StoreError
from modelup.observe.label_free import label_free_workflow
from modelup.observe.parts import RecordParts, assemble
from modelup.observe.queries import records
from modelup.observe.record import TraceRecord
from modelup.observe.recorder import TraceRecorder
from modelup.observe.serve_trace import record_served
from modelup.observe.store_sink import StoreSink
from modelup.store.traces import TraceQuery, TraceStore, open_trace_store
from support.traces import incident, scored, triage_answer


def _record_many(recorder: TraceRecorder, count: int) -> list[TraceRecord]:
    return [assemble(parts) for parts in _parts_many(recorder, count)]


def _parts_many(recorder: TraceRecorder, count: int) -> list[RecordParts]:
    workflow, cases = incident()
    served, _ = label_free_workflow(workflow, "serve")
    case = cases[0]
    fields = {name: case.fields[name] for name in served.input_fields}
    result = scored(served, case, triage_answer(escalate=True, steps=["inspect"], cite="x"))
    return [
        record_served(
            recorder,
            workflow=served,
            request_id=f"req-{n}",
            fields=fields,
            result=result,
            requested_model="m",
            endpoint="http://127.0.0.1:1/v1",
        )
        for n in range(count)
    ]


def _stored(url: str) -> list[TraceRecord]:
    store = open_trace_store(url, create=False)
    assert store is not None
    with store:
        return list(records(store.find(TraceQuery(limit=10_000))))


def test_every_record_is_written_by_the_writer_process_by_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(self: TraceStore, rows: object) -> None:
        raise AssertionError("rows inserted in the recording process")

    monkeypatch.setattr(TraceStore, "add", not_here)
    url = str(tmp_path / "store.sqlite")
    recorder = TraceRecorder([StoreSink(url, retention_days=0)])
    made = _record_many(recorder, 600)  # two full batches, and the rest sent on close
    assert recorder.close() == []
    monkeypatch.undo()
    stored = _stored(url)
    assert sorted(r.span_id for r in stored) == sorted(r.span_id for r in made)
    by_id = {r.span_id: r for r in stored}
    assert all(by_id[r.span_id] == r for r in made)  # the record read back is the one made


def test_a_record_pickle_cannot_carry_is_left_out_and_said(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    recorder = TraceRecorder([StoreSink(url)])
    made = _record_many(recorder, 3)
    odd = _parts_many(TraceRecorder([]), 1)[0]
    inputs = {"when": lambda: None}  # given from Python: no plain value
    recorder.sinks[0].add(odd._replace(case=replace(odd.case, inputs=inputs)), closes_trace=True)
    (warning,) = recorder.close()
    assert warning == "1 trace record(s) not recorded: they hold values that are not plain data"
    assert sorted(r.span_id for r in _stored(url)) == sorted(r.span_id for r in made)


def test_a_store_that_cannot_be_opened_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    recorder = TraceRecorder([StoreSink(str(blocker / "store.sqlite"))])
    _record_many(recorder, 300)
    (warning,) = recorder.close()
    assert warning.startswith("traces not recorded:") and "store.sqlite" in warning


def test_a_writer_that_cannot_start_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    recorder = TraceRecorder([StoreSink(str(tmp_path / "store.sqlite"))])
    _record_many(recorder, 300)
    (warning,) = recorder.close()
    assert warning.startswith("traces not recorded: cannot start the trace writer")


def test_a_writer_that_dies_is_a_warning_and_recording_goes_on(tmp_path: Path) -> None:
    sink = StoreSink(str(tmp_path / "store.sqlite"))
    recorder = TraceRecorder([sink])
    _record_many(recorder, 10)
    assert sink._process is not None
    sink._process.kill()
    sink._process.wait()
    _record_many(recorder, 600)  # the feeder finds the pipe broken: nothing raises
    (warning,) = recorder.close()
    assert warning.startswith("traces not recorded: the trace writer failed (-9)")


def test_a_store_that_refuses_rows_is_a_warning(tmp_path: Path) -> None:
    url = tmp_path / "store.sqlite"
    recorder = TraceRecorder([StoreSink(str(url))])
    _record_many(recorder, 10)
    recorder.close()
    with open_trace_store(str(url)) as store:  # type: ignore[union-attr]
        store._db.execute("DROP TABLE traces")
    recorder = TraceRecorder([StoreSink(str(url))])
    _record_many(recorder, 10)
    (warning,) = recorder.close()
    assert warning.startswith("traces not recorded:") and "traces" in warning
    with pytest.raises(StoreError):
        _stored(str(url))


def test_finish_sends_everything_and_close_waits_for_it(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    sink = StoreSink(url)
    recorder = TraceRecorder([sink])
    made = _record_many(recorder, 300)
    recorder.finish()  # returns without waiting for the writer
    with pytest.raises(RuntimeError, match="after finish"):
        _record_many(recorder, 1)
    assert recorder.close() == []
    assert sorted(r.span_id for r in _stored(url)) == sorted(r.span_id for r in made)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no process priorities here")
def test_the_writer_yields_the_cpu_to_the_run(tmp_path: Path) -> None:
    sink = StoreSink(str(tmp_path / "store.sqlite"))
    try:
        assert sink._process is not None
        pid = sink._process.pid
        wanted = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
        for _ in range(200):  # the writer lowers its own priority as it starts
            if os.getpriority(os.PRIO_PROCESS, pid) >= wanted:
                break
            time.sleep(0.02)
        assert os.getpriority(os.PRIO_PROCESS, pid) >= wanted
    finally:
        assert sink.close() == []
