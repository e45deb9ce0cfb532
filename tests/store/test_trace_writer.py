"""The trace writer process's loop: setup, then batches of rows, each written in one transaction,
on SQLite and PostgreSQL; what the store cannot do is a warning."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelup.store.trace_writer import PROTOCOL, WriterSetup, write_frames
from modelup.store.traces import TraceQuery, TraceRow, open_trace_store, store_time


def _row(span: str, *, days_ago: float = 0.0) -> TraceRow:
    return TraceRow(
        span,
        span * 2,
        store_time(datetime.now(UTC) - timedelta(days=days_ago)),
        "run",
        "R1",
        "incident-triage",
        "1",
        "IT-001",
        "m",
        "m-1",
        True,
        False,
        False,
        False,
        1,
        '{"trace_version": 1}',
    )


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
    batches = [[_row(f"{n:016x}") for n in range(1, 4)], [_row(f"{n:016x}") for n in range(4, 6)]]
    assert write_frames(_frames(setup, *batches)) == []
    with open_trace_store(store_url) as store:  # type: ignore[union-attr]
        found = store.find(TraceQuery())
    assert sorted(row.span_id for row in found) == [f"{n:016x}" for n in range(1, 6)]
    assert all(row.failed is True and row.errored is False for row in found)


def test_no_input_writes_nothing_and_says_nothing(tmp_path: Path) -> None:
    assert write_frames(io.BytesIO()) == []
    assert not any(tmp_path.iterdir())


def test_a_store_that_cannot_be_opened_is_a_warning_and_the_rows_are_read(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    source = _frames(WriterSetup(blocker / "store.sqlite"), [_row("1" * 16)], [_row("2" * 16)])
    (warning,) = write_frames(source)
    assert warning.startswith("traces not recorded:") and "store.sqlite" in warning
    assert source.read() == b""  # every frame read: the sender is never left blocked


def test_a_failed_insert_is_one_warning_and_the_rest_is_dropped(tmp_path: Path) -> None:
    url = tmp_path / "store.sqlite"
    with open_trace_store(url) as store:  # type: ignore[union-attr]
        store._db.execute("DROP TABLE traces")
    warnings = write_frames(_frames(WriterSetup(url), [_row("1" * 16)], [_row("2" * 16)]))
    assert len(warnings) == 1 and "no such table: traces" in warnings[0]


def test_the_process_reads_its_input_and_prints_its_warnings(tmp_path: Path) -> None:
    url = tmp_path / "store.sqlite"
    frames = _frames(WriterSetup(url), [_row("a" * 16)]).getvalue()
    done = subprocess.run(
        [sys.executable, "-m", "modelup.store.trace_writer"],
        input=frames,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == b"[]\n"
    with open_trace_store(url) as store:  # type: ignore[union-attr]
        assert [row.span_id for row in store.find(TraceQuery())] == ["a" * 16]
