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


__all__ = ["ChatRequest", "ChatResponse", "Message", "Usage"]
