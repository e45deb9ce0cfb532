"""The seam between modelup and any model: one request value in, one response value out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message sent to a model."""

    role: str
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage as the endpoint reported it (zero when it reported none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything that decides a model's answer; the same messages go to every model."""

    model: str
    messages: tuple[Message, ...]
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """A model's answer. ``resolved_model`` is what the endpoint says actually answered."""

    content: str
    latency_ms: float
    resolved_model: str | None = None
    usage: Usage = field(default_factory=Usage)
    system_fingerprint: str | None = None


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
