"""The values that cross the model seam: the request every model gets, the answer it gives.

The messages themselves are the workflow's prompt rendered for a case (``Message``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelup.workflow.prompt import Message


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
    epoch: int = 0
    """Which repeated trial this is. Not sent to the endpoint; it keeps trials apart in caches
    and in simulated models, which answer each trial afresh."""


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """A model's answer. ``resolved_model`` is what the endpoint says actually answered."""

    content: str
    latency_ms: float
    resolved_model: str | None = None
    usage: Usage = field(default_factory=Usage)
    system_fingerprint: str | None = None
    response_id: str | None = None
    """The endpoint's id of this completion (``chatcmpl-...``), when it gave one."""
    finish_reason: str | None = None
    """Why generation stopped (``stop``, ``length``...), when the endpoint said."""
    attempts: int = 1
    """Calls made for this answer, retries included."""
    cached: bool = False
    """Answered from the response cache; ``latency_ms`` is the original call's."""


def response_to_json(response: ChatResponse) -> dict[str, Any]:
    """A response as plain JSON, for the response cache and the run journal."""
    return {
        "content": response.content,
        "latency_ms": response.latency_ms,
        "resolved_model": response.resolved_model,
        "prompt_tokens": response.usage.prompt_tokens,
        "completion_tokens": response.usage.completion_tokens,
        "system_fingerprint": response.system_fingerprint,
        "response_id": response.response_id,
        "finish_reason": response.finish_reason,
    }


def response_from_json(data: dict[str, Any], *, cached: bool = False) -> ChatResponse:
    """The inverse of ``response_to_json``; raises ``KeyError``/``TypeError``/``ValueError`` on
    a bad value."""
    content = data["content"]
    if not isinstance(content, str):
        raise TypeError("content is not a string")
    return ChatResponse(
        content=content,
        latency_ms=float(data["latency_ms"]),
        resolved_model=_optional_str(data.get("resolved_model")),
        usage=Usage(int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0))),
        system_fingerprint=_optional_str(data.get("system_fingerprint")),
        response_id=_optional_str(data.get("response_id")),
        finish_reason=_optional_str(data.get("finish_reason")),
        cached=cached,
    )


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = [
    "ChatRequest",
    "ChatResponse",
    "Message",
    "Usage",
    "response_from_json",
    "response_to_json",
]
