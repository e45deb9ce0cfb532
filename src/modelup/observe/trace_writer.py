"""The trace writer: a process of its own that assembles trace records from their parts, encodes
them and inserts them into the project store, so that the run or the service making them spends
no time on the record, its JSON or the store's code (on a busy run, they cost as much as the
calls' own work; docs/benchmarks.md).

``python -m modelup.observe.trace_writer`` reads pickled frames from its standard input: first
``WriterSetup`` (the store and the retention; sent over the pipe, so a password in the store's URL
never appears in a process listing), then batches of records' parts (``RecordParts``), each
assembled into records, encoded into the rows the store keeps (``store_row``) and inserted in one
transaction, until the input ends. It then
prints its warnings, a JSON list of strings, on its standard output and exits 0. It never raises
for what the store cannot do: after the first failure it reads and drops the rest, and says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from modelup.config.store_url import StoreLocation
from modelup.errors import StoreError
from modelup.observe.parts import RecordParts, assemble
from modelup.observe.record import TraceRecord
from modelup.store.traces import TraceRow, TraceStore, open_trace_store, store_time

PROTOCOL = 5
NICENESS = 10
"""How much the writer yields the CPU to others (``os.nice``; where the system has it)."""


@dataclass(frozen=True, slots=True)
class WriterSetup:
    """The first frame: where to write, and how long traces are kept (0 or ``None``: always)."""

    url: StoreLocation
    """Parsed or not; never turned into text here (its text form drops the password)."""
    retention_days: float | None = None


def store_row(record: TraceRecord) -> TraceRow:
    """``record`` as the store keeps it: the columns queries filter on, and its JSON."""
    return TraceRow(
        record.span_id,
        record.trace_id,
        store_time(record.finished_at),
        record.source,
        record.run_id,
        record.workflow,
        record.workflow_version,
        record.case_id,
        record.requested_model,
        record.resolved_model,
        record.failed,
        record.overridden,
        record.drift,
        record.error is not None,
        record.trace_version,
        record.to_json().decode("utf-8"),
    )


def write_frames(source: BinaryIO) -> list[str]:
    """Write every batch ``source`` carries to the store its first frame names; the warnings."""
    warnings: list[str] = []
    try:
        setup = pickle.load(source)
    except EOFError:
        return warnings
    store = _open(setup, warnings)
    unwritable = 0
    try:
        while True:
            try:
                batch: Sequence[RecordParts] = pickle.load(source)
            except EOFError:
                break
            if store is None:
                continue
            rows = _rows(batch)
            unwritable += len(batch) - len(rows)
            try:
                store.add(rows)
            except StoreError as error:
                warnings.append(f"traces not recorded: {error}")
                store.close()
                store = None
    finally:
        if store is not None:
            store.close()
    if unwritable:
        warnings.append(f"{unwritable} trace record(s) not recorded: they hold values JSON cannot")
    return warnings


def _rows(batch: Sequence[RecordParts]) -> list[TraceRow]:
    """The batch's rows; a record JSON cannot hold (a case field that is no JSON value, given
    from Python) is left out, and only it."""
    try:
        return [store_row(assemble(parts)) for parts in batch]
    except (TypeError, ValueError):
        rows = []
        for parts in batch:
            with contextlib.suppress(TypeError, ValueError):
                rows.append(store_row(assemble(parts)))
        return rows


def _open(setup: WriterSetup, warnings: list[str]) -> TraceStore | None:
    try:
        store = open_trace_store(setup.url)
        assert store is not None  # create=True always opens one
    except StoreError as error:
        warnings.append(f"traces not recorded: {error}")
        return None
    if setup.retention_days:
        try:
            store.prune(datetime.now(UTC) - timedelta(days=setup.retention_days))
        except StoreError as error:
            warnings.append(f"traces not pruned: {error}")
    return store


def main() -> None:
    # Background work: the run's own process, and on a small machine the model server beside
    # it, come first; the writer keeps up in the time they leave (docs/benchmarks.md).
    with contextlib.suppress(AttributeError, OSError):
        os.nice(NICENESS)
    warnings = write_frames(sys.stdin.buffer)  # the store is closed (committed) when it returns
    sys.stdout.write(json.dumps(warnings) + "\n")
    sys.stdout.flush()
    # The run waits for this process to end: nothing is left to do, so it ends without tearing
    # the interpreter down.
    os._exit(0)


if __name__ == "__main__":
    main()
