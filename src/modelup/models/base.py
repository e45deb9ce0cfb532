"""The seam between modelup and any model: one request value in, one response value out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from modelup.models.chat import ChatRequest, ChatResponse


@runtime_checkable
class ModelClient(Protocol):
    """A model endpoint. Raises ``CallFailed`` for a call that failed and may be recorded as an
    errored case, and ``ClientError`` for a failure that must stop the run."""

    async def complete(self, request: ChatRequest) -> ChatResponse: ...

    async def aclose(self) -> None: ...


class CallFailed(Exception):
    """One call failed after all retries; the case is recorded as errored with this reason.

    Deliberately not a ``ModelupError``: it never reaches the user as an error, it becomes
    evidence (an errored case) that the gate refuses to promote on.
    """
