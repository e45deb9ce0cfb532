"""The run journal as client middleware: every call's outcome is written down as it arrives, and
a resumed run is answered from it instead of calling again.

``journal.jsonl`` gets one line per call outcome, keyed by the request (``cache_key``: endpoint,
model, messages, parameters, epoch), in a single ``write`` on a file opened for appending, so a
kill (even ``SIGKILL``) leaves every finished line intact and at worst one torn last line, which
is ignored when the journal is read back. Answers are journaled, not scores: a resumed run
re-scores them deterministically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelup import jsonbytes
from modelup.errors import StoreError
from modelup.models.base import CallFailed, ModelClient
from modelup.models.cache import cache_key
from modelup.models.chat import ChatRequest, ChatResponse, response_from_json, response_to_json

JOURNAL_FILE = "journal.jsonl"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What one call ended with: an answer (maybe from the cache) or the reason it failed."""

    response: ChatResponse | None
    error: str | None = None


class Journal:
    """The append-only journal of one run; ``record`` is one ``write`` system call."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.answered = 0
        """Answers recorded by this journal object (not counting a resumed run's)."""
        path = directory / JOURNAL_FILE
        try:
            self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the run journal: {exc.strerror}") from exc

    def record(self, key: str, outcome: CallOutcome) -> None:
        entry: dict[str, Any] = {"k": key}
        if outcome.response is not None:
            entry["response"] = response_to_json(outcome.response)
            entry["cached"] = outcome.response.cached
        else:
            entry["error"] = outcome.error or "unknown error"
        line = jsonbytes.compact(entry) + b"\n"
        if self._fd is None:
            raise StoreError(f"{self.directory}: the run journal is closed")
        try:
            os.write(self._fd, line)
        except OSError as exc:
            raise StoreError(f"{self.directory}: cannot write the run journal: {exc}") from exc
        self.answered += outcome.response is not None

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def read_journal(path: Path) -> dict[str, CallOutcome]:
    """Every outcome journaled in ``path`` by request key; a torn last line is ignored."""
    outcomes: dict[str, CallOutcome] = {}
    if not path.exists():
        return outcomes
    with path.open("rb") as journal:
        for number, raw in enumerate(journal, start=1):
            if not raw.endswith(b"\n"):
                break  # torn last line: that call is simply made again
            try:
                entry = json.loads(raw)
                key = str(entry["k"])
                if "response" in entry:
                    cached = bool(entry.get("cached"))
                    outcome = CallOutcome(response_from_json(entry["response"], cached=cached))
                else:
                    outcome = CallOutcome(None, error=str(entry["error"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"{path}: line {number}: damaged journal entry: {exc}") from exc
            outcomes[key] = outcome
    return outcomes


class JournaledClient:
    """A ``ModelClient`` that answers from ``resumed`` outcomes (a stopped run's journal) when
    it has one for the request, and journals every outcome of ``inner`` as it arrives: an
    answer, or a failed call (raised again as ``CallFailed``). A failure that stops the run
    (``ClientError``) is not journaled: the call is made again on resume."""

    def __init__(
        self,
        inner: ModelClient,
        journal: Journal,
        *,
        endpoint: str,
        resumed: Mapping[str, CallOutcome] | None = None,
    ) -> None:
        self.inner = inner
        self._journal = journal
        self._endpoint = endpoint
        self._resumed = resumed or {}

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = cache_key(self._endpoint, request)
        saved = self._resumed.get(key)
        if saved is not None:
            if saved.response is None:
                raise CallFailed(saved.error or "unknown error")
            return saved.response
        try:
            response = await self.inner.complete(request)
        except CallFailed as exc:
            self._journal.record(key, CallOutcome(None, error=str(exc)))
            raise
        self._journal.record(key, CallOutcome(response))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


__all__ = ["CallOutcome", "Journal", "JournaledClient", "read_journal"]
