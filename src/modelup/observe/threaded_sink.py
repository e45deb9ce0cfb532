"""The project store's trace sink for ``modelup serve``, written from a thread of its own: a
served request hands its record over and goes on; batches (every 256 records or every second,
and on close) are encoded and inserted on that thread, so a commit never stalls the event loop.
(A run writes inline: there a writer thread measured no faster, contending for the GIL.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

from modelup.observe.record import TraceRecord
from modelup.observe.recorder import GateOutcome, StoreSink

_BATCH = 256
_BATCH_S = 1.0


class ThreadedStoreSink:
    """A ``TraceSink`` around a ``StoreSink`` that lives on ``executor``'s one thread (SQLite
    connections belong to the thread that opened them)."""

    def __init__(self, executor: Executor, inner: StoreSink) -> None:
        self._executor = executor
        self._inner = inner
        self._pending: list[TraceRecord] = []
        self._started = 0.0
        self._writing: Future[None] | None = None

    @classmethod
    def open(
        cls, executor: Executor, url: str, *, retention_days: float | None
    ) -> ThreadedStoreSink:
        """Open the store sink on the executor's thread (blocking: call it from that thread's
        caller before serving)."""
        inner = executor.submit(lambda: StoreSink(url, retention_days=retention_days)).result()
        return cls(executor, inner)

    def add(self, record: TraceRecord, *, closes_trace: bool) -> None:
        now = time.monotonic()
        if not self._pending:
            self._started = now
        self._pending.append(record)
        if len(self._pending) >= _BATCH or now - self._started > _BATCH_S:
            self._submit()

    def _submit(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._writing = self._executor.submit(self._write, batch)

    def _write(self, batch: Sequence[TraceRecord]) -> None:
        for record in batch:
            self._inner.add(record, closes_trace=True)
        self._inner.flush()

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None:
        """Served requests have no gate."""

    def close(self) -> list[str]:
        self._submit()
        closing: Callable[[], list[str]] = self._inner.close
        return self._executor.submit(closing).result()
