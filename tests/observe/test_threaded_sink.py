"""Served requests' traces reach the store from the store's own thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from modelup.observe.label_free import label_free_workflow
from modelup.observe.queries import records
from modelup.observe.recorder import TraceRecorder
from modelup.observe.serve_trace import record_served
from modelup.observe.threaded_sink import ThreadedStoreSink
from modelup.store.traces import TraceQuery, open_trace_store
from support.traces import incident, scored, triage_answer


def test_records_are_written_on_the_store_thread_and_all_of_them_on_close(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    workflow, cases = incident()
    served, _ = label_free_workflow(workflow, "serve")
    threads: set[str] = set()
    with ThreadPoolExecutor(1, thread_name_prefix="store") as executor:
        sink = ThreadedStoreSink.open(executor, url, retention_days=0)
        original = sink._write

        def spy(batch: object) -> None:
            threads.add(threading.current_thread().name)
            original(batch)  # type: ignore[arg-type]

        sink._write = spy  # type: ignore[method-assign]
        recorder = TraceRecorder([sink])
        case = cases[0]
        fields = {name: case.fields[name] for name in served.input_fields}
        result = scored(served, case, triage_answer(escalate=True, steps=["inspect"], cite="x"))
        made = [
            record_served(
                recorder,
                workflow=served,
                request_id=f"req-{n}",
                fields=fields,
                result=result,
                requested_model="m",
                endpoint="http://127.0.0.1:1/v1",
            )
            for n in range(300)  # over one batch: one is written before close
        ]
        assert recorder.close() == []
    assert threads and all(name.startswith("store") for name in threads)
    store = open_trace_store(url, create=False)
    assert store is not None
    with store:
        stored = records(store.find(TraceQuery(limit=1000)))
    assert sorted(r.span_id for r in stored) == sorted(r.span_id for r in made)
