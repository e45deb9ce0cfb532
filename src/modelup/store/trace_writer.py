"""The trace writer: a process of its own that inserts trace rows into the project store, so that
the run or the service making them spends no time in the store's code (on a busy run, inserting
and committing cost as much as making the records; docs/benchmarks.md).

``python -m modelup.store.trace_writer`` reads pickled frames from its standard input: first
``WriterSetup`` (the store and the retention; sent over the pipe, so a password in the store's URL
never appears in a process listing), then batches of ``TraceRow``, each inserted in one
transaction, until the input ends. It then prints its warnings, a JSON list of strings, on its
standard output and exits 0. It never raises for what the store cannot do: after the first
failure it reads and drops the rest, and says why.
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
from modelup.store.traces import TraceRow, TraceStore, open_trace_store

PROTOCOL = 5
NICENESS = 10
"""How much the writer yields the CPU to others (``os.nice``; where the system has it)."""


@dataclass(frozen=True, slots=True)
class WriterSetup:
    """The first frame: where to write, and how long traces are kept (0 or ``None``: always)."""

    url: StoreLocation
    """Parsed or not; never turned into text here (its text form drops the password)."""
    retention_days: float | None = None


def write_frames(source: BinaryIO) -> list[str]:
    """Write every batch ``source`` carries to the store its first frame names; the warnings."""
    warnings: list[str] = []
    try:
        setup = pickle.load(source)
    except EOFError:
        return warnings
    store = _open(setup, warnings)
    try:
        while True:
            try:
                rows: Sequence[TraceRow] = pickle.load(source)
            except EOFError:
                break
            if store is None:
                continue
            try:
                store.add(rows)
            except StoreError as error:
                warnings.append(f"traces not recorded: {error}")
                store.close()
                store = None
    finally:
        if store is not None:
            store.close()
    return warnings


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
    warnings = write_frames(sys.stdin.buffer)
    sys.stdout.write(json.dumps(warnings) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
