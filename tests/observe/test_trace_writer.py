"""The trace writer process's loop: setup, then batches of records' parts, each assembled, encoded
into rows and written in one transaction, on SQLite and PostgreSQL; what the store cannot do is a
warning."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelup.observe.parts import (
    CallParts,
    CaseFacts,
    CheckMeta,
    Keep,
    PolicyMeta,
    RecordParts,
    WorkflowFacts,
    assemble,
)
from modelup.observe.queries import records
from modelup.observe.record import RequestParameters, TraceRecord
from modelup.observe.trace_writer import PROTOCOL, WriterSetup, store_row, write_frames
from modelup.store.traces import TraceQuery, TraceRow, open_trace_store

WORKFLOW = WorkflowFacts(
    name="incident-triage",
    version="1",
    prompt_id="p",
    prompt_sha256="0" * 64,
    checks=(CheckMeta("policy", "policy", "policy_accuracy", True),),
    policies=(PolicyMeta("policy", "escalation", "escalate"),),
)
CASE = CaseFacts(
    inputs={"impact": "high"},
    inputs_sha256="1" * 64,
    source_ids=("doc-1",),
    decisions=((True, "high impact", "impact is high"),),
)


def _parts(
    span: str,
    *,
    days_ago: float = 0.0,
    error: str | None = None,
    overridden: bool = False,
    inputs: dict[str, Any] | None = None,
) -> RecordParts:
    call = CallParts(
        trace_id=span * 2,
        span_id=span,
        parent_span_id=None,
        drift=False,
        finished_at=(datetime.now(UTC) - timedelta(days=days_ago)).timestamp(),
        source="run",
        provider="openai",
        run_id="R1",
        release_id=None,
        arm=None,
        fallback=None,
        role="candidate",
        requested_model="m",
        endpoint="http://127.0.0.1:1/v1",
        request=RequestParameters(),
        case_id="IT-001",
        epoch=0,
        validation="error" if error else "strict",
        passed=False,
        repairs=(),
        outcomes=((not overridden, 1.0 if not overridden else 0.0, None),),
        said=((not overridden, overridden),),
        action_classes=(),
        latency_ms=None if error else 40.0,
        input_tokens=0,
        output_tokens=0,
        cost_usd=None,
        attempts=1,
        cached=False,
        error=error,
        resolved_model="m-1",
        system_fingerprint=None,
        response_id=None,
        finish_reason=None,
        answer=None,
        output=None,
    )
    case = CASE if inputs is None else replace(CASE, inputs=inputs)
    return RecordParts(Keep(), WORKFLOW, case, call)


def _record(span: str, **options: Any) -> TraceRecord:
    return assemble(_parts(span, **options))


def _row(span: str, *, days_ago: float = 0.0) -> TraceRow:
    return store_row(_record(span, days_ago=days_ago))


def _frames(*objects: object) -> io.BytesIO:
    buffer = io.BytesIO()
    for item in objects:
        pickle.dump(item, buffer, protocol=PROTOCOL)
    buffer.seek(0)
    return buffer


def test_batches_are_written_after_old_traces_are_pruned(store_url: str) -> None:
    with open_trace_store(store_url) as store:  # type: ignore[union-attr]
        store.add([_row("0" * 16, days_ago=10)])
    setup = WriterSetup(store_url, retention_days=7)
    made = [_parts(f"{n:016x}") for n in range(1, 6)]
    assert write_frames(_frames(setup, made[:3], made[3:])) == []
    with open_trace_store(store_url) as store:  # type: ignore[union-attr]
        found = store.find(TraceQuery())
    assert sorted(row.span_id for row in found) == [f"{n:016x}" for n in range(1, 6)]
    assert all(row.failed is True and row.errored is False for row in found)
    assembled = [assemble(parts) for parts in made]
    assert sorted(records(found), key=lambda r: r.span_id) == assembled  # the records, read back


def test_a_store_row_holds_the_filtered_columns_and_the_records_json() -> None:
    record = _record("a" * 16, error="HTTP 500", overridden=True)
    row = store_row(record)
    assert (row.span_id, row.trace_id, row.source, row.run_id) == ("a" * 16, "a" * 32, "run", "R1")
    assert (row.failed, row.overridden, row.errored, row.trace_version) == (True, True, True, 1)
    assert row.at.endswith("Z") and TraceRecord.from_json(row.record) == record


def test_a_record_json_cannot_hold_is_left_out_and_said(tmp_path: Path) -> None:
    url = tmp_path / "store.sqlite"
    odd = _parts("b" * 16, inputs={"when": object()})
    warnings = write_frames(_frames(WriterSetup(url), [_parts("a" * 16), odd, _parts("c" * 16)]))
    assert warnings == ["1 trace record(s) not recorded: they hold values JSON cannot"]
    with open_trace_store(url) as store:  # type: ignore[union-attr]
        assert sorted(row.span_id for row in store.find(TraceQuery())) == ["a" * 16, "c" * 16]


def test_no_input_writes_nothing_and_says_nothing(tmp_path: Path) -> None:
    assert write_frames(io.BytesIO()) == []
    assert not any(tmp_path.iterdir())


def test_a_store_that_cannot_be_opened_is_a_warning_and_the_rows_are_read(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    setup = WriterSetup(blocker / "store.sqlite")
    source = _frames(setup, [_parts("1" * 16)], [_parts("2" * 16)])
    (warning,) = write_frames(source)
    assert warning.startswith("traces not recorded:") and "store.sqlite" in warning
    assert source.read() == b""  # every frame read: the sender is never left blocked


def test_a_failed_insert_is_one_warning_and_the_rest_is_dropped(tmp_path: Path) -> None:
    url = tmp_path / "store.sqlite"
    with open_trace_store(url) as store:  # type: ignore[union-attr]
        store._db.execute("DROP TABLE traces")
    warnings = write_frames(_frames(WriterSetup(url), [_parts("1" * 16)], [_parts("2" * 16)]))
    assert len(warnings) == 1 and "no such table: traces" in warnings[0]


def test_the_process_reads_its_input_and_prints_its_warnings(tmp_path: Path) -> None:
    url = tmp_path / "store.sqlite"
    frames = _frames(WriterSetup(url), [_parts("a" * 16)]).getvalue()
    done = subprocess.run(
        [sys.executable, "-m", "modelup.observe.trace_writer"],
        input=frames,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == b"[]\n"
    with open_trace_store(url) as store:  # type: ignore[union-attr]
        assert [row.span_id for row in store.find(TraceQuery())] == ["a" * 16]


def test_the_writer_does_not_import_pydantic() -> None:
    # It starts beside every traced run: its imports are CPU the run's machine shares.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, modelup.observe.trace_writer; print(sorted(sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = done.stdout.strip()
    assert "modelup.store.traces" in modules and "pydantic" not in modules
