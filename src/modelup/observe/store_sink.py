"""The project store's trace sink, for runs and for ``modelup serve``.

Batches of records' parts (every 256 records or every second, and on close) go to the trace
writer, a process of its own (``modelup.observe.trace_writer``) that assembles the records,
encodes them into the rows the store keeps, inserts and commits them. A thread here pickles the
batches into its input, so the event loop never waits on the pipe. Neither the record nor its JSON
nor the insert nor the commit is made in this process: on a busy run they cost as much as the
calls' own work, and a writer thread here measured no faster than writing inline, contending with
the event loop for the GIL. A call's parts are a tuple of plain values, which pickles in a
fraction of a record's time, and the parts calls share (the workflow's, the case's) are pickled
once per batch (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from modelup.config.store_url import StoreLocation
from modelup.observe.parts import RecordParts
from modelup.observe.recorder import GateOutcome
from modelup.observe.trace_writer import PROTOCOL, WriterSetup

_BATCH = 256
_BATCH_S = 1.0
_IN_FLIGHT = 16
"""Batches handed to the feeder and not yet sent; past that, ``flush`` waits (a store slower
than the calls costs time, not unbounded memory)."""
_CLOSE_TIMEOUT_S = 300.0


class StoreSink:
    """Hands records to a trace writer process, in batches; the writer deletes those older than
    ``retention_days`` (0 or ``None``: none) first. Never raises for what the store or the
    writer cannot do: that is a warning, returned by ``close``."""

    def __init__(self, url: StoreLocation, *, retention_days: float | None = None) -> None:
        self.warnings: list[str] = []
        self._pending: list[RecordParts] = []
        self._started = 0.0
        self._batches: queue.Queue[list[RecordParts] | None] = queue.Queue(maxsize=_IN_FLIGHT)
        self._broken = False
        self._finished = False
        self._unpicklable = 0
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "modelup.observe.trace_writer"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C reaches the run, which closes the writer
            )
        except OSError as error:
            self._fail(f"cannot start the trace writer: {error.strerror or error}")
            return
        setup = WriterSetup(url, retention_days)
        self._feeder = threading.Thread(
            target=self._feed, args=(setup,), name="modelup-traces", daemon=True
        )
        self._feeder.start()

    def add(self, parts: RecordParts, *, closes_trace: bool) -> None:
        if self._finished:
            raise RuntimeError("a trace record after finish(): it could not be written")
        if self._broken:
            return
        now = time.monotonic()
        if not self._pending:
            self._started = now
        self._pending.append(parts)
        if len(self._pending) >= _BATCH or now - self._started > _BATCH_S:
            self.flush()

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None:
        """The store keeps calls; a run's verdicts are in its history."""

    def flush(self) -> None:
        """Hand the pending records' parts to the writer (waiting only when it is
        ``_IN_FLIGHT`` batches behind)."""
        if self._broken or not self._pending:
            return
        batch, self._pending = self._pending, []
        self._batches.put(batch)

    def finish(self) -> None:
        """Send what is pending and end the writer's input; ``close`` waits for it."""
        if self._process is None or self._finished:
            return
        self.flush()
        self._finished = True
        self._batches.put(None)

    def close(self) -> list[str]:
        """Send what is pending, end the writer's input and wait for it to write everything."""
        self.finish()
        process = self._process
        if process is None:
            return self.warnings
        self._process = None
        self._feeder.join()
        if self._unpicklable:
            self.warnings.append(
                f"{self._unpicklable} trace record(s) not recorded: they hold values that are "
                "not plain data"
            )
        try:
            out, err = process.communicate(timeout=_CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            self.warnings.append(
                f"traces not recorded: the trace writer did not finish in {_CLOSE_TIMEOUT_S:g} s"
            )
            return self.warnings
        if process.returncode != 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            self.warnings.append(
                f"traces not recorded: the trace writer failed ({process.returncode}): {detail[0]}"
            )
            return self.warnings
        try:
            said = json.loads(out)
            self.warnings += [str(line) for line in said]
        except (ValueError, TypeError):
            self.warnings.append("traces may not be recorded: the trace writer said nothing")
        return self.warnings

    def _feed(self, setup: WriterSetup) -> None:
        """On the feeder thread: pickle each batch into the writer's input."""
        process = self._process
        assert process is not None and process.stdin is not None
        pipe = process.stdin.fileno()
        try:
            _write_all(pipe, pickle.dumps(setup, protocol=PROTOCOL))
            while (batch := self._batches.get()) is not None:
                _write_all(pipe, self._pickled(batch))
        except (OSError, ValueError):  # the writer is gone: close() reads why
            self._broken = True
            while self._batches.get() is not None:  # let add() and close() go on
                pass

    def _pickled(self, batch: list[RecordParts]) -> bytes:
        """The batch as one frame; a record pickle cannot carry (a case field given from Python
        that is no plain value) is left out, and only it, with a warning."""
        try:
            return pickle.dumps(batch, protocol=PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            kept = []
            for parts in batch:
                try:
                    pickle.dumps(parts, protocol=PROTOCOL)
                except (pickle.PicklingError, TypeError, AttributeError):
                    self._unpicklable += 1
                else:
                    kept.append(parts)
            return pickle.dumps(kept, protocol=PROTOCOL)

    def _fail(self, reason: str) -> None:
        self.warnings.append(f"traces not recorded: {reason}")
        self._broken = True


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to the pipe ``fd`` in as few system calls as it takes (one, unless a
    signal interrupts it): the GIL is released for the whole of each, so the event loop is not
    made to hand it over for every 64 KB the pipe holds, as a buffered file's writes would."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
