"""A scripted model for tests and examples: a queue of answers, and a record of every call.

Like simonw/llm's mock model: ``enqueue`` what the model will say, run, then read ``calls``. An
answer is a string (the completion's text), a ``ChatResponse``, an exception to raise (e.g.
``CallFailed`` for a failed call), or a function of the request returning one of those.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeAlias

from modelup.errors import ClientError
from modelup.models.chat import ChatRequest, ChatResponse

Answer: TypeAlias = "str | ChatResponse | BaseException | Callable[[ChatRequest], Answer]"


class ScriptedClient:
    """A ``ModelClient`` that gives the queued answers in order. With ``default``, an empty
    queue gives that answer every time; without, running out is a ``ClientError`` that stops
    the run (a test asked for more calls than it scripted)."""

    def __init__(self, *answers: Answer, default: Answer | None = None) -> None:
        self._queue: deque[Answer] = deque(answers)
        self._default = default
        self.calls: list[ChatRequest] = []
        """Every request received, in order."""
        self.closed = False

    def enqueue(self, *answers: Answer) -> None:
        self._queue.extend(answers)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls.append(request)
        if self._queue:
            answer = self._queue.popleft()
        elif self._default is not None:
            answer = self._default
        else:
            raise ClientError(f"ScriptedClient: no answer queued for call {len(self.calls)}")
        return _give(answer, request)

    async def aclose(self) -> None:
        self.closed = True


def _give(answer: Answer, request: ChatRequest) -> ChatResponse:
    while callable(answer) and not isinstance(answer, BaseException | ChatResponse):
        answer = answer(request)
    if isinstance(answer, BaseException):
        raise answer
    if isinstance(answer, ChatResponse):
        return answer
    return ChatResponse(content=answer, latency_ms=1.0, resolved_model=request.model)
