"""Models: the one client seam, its implementations, and the middleware composed around it.

``ModelClient`` has one async method, ``complete(ChatRequest) -> ChatResponse``. Implementations:
``OpenAICompatibleClient`` (any ``/v1/chat/completions`` endpoint), ``SimulatedModelClient``
(offline, deterministic) and ``ScriptedClient`` (a queue of answers, for tests). Middleware wraps
any client and is itself one: ``CachedClient`` (the response cache) and ``JournaledClient`` (the
run journal that makes a run resumable).

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
    from modelup.models.base import CallFailed, ModelClient
    from modelup.models.cache import CachedClient, cache_key
    from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
    from modelup.models.journal import JournaledClient
    from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
    from modelup.models.scripted import ScriptedClient
    from modelup.models.simulated import SimulatedModelClient

_EXPORTS = {
    "CachedClient": ("modelup.models.cache", "CachedClient"),
    "CallFailed": ("modelup.models.base", "CallFailed"),
    "ChatRequest": ("modelup.models.chat", "ChatRequest"),
    "ChatResponse": ("modelup.models.chat", "ChatResponse"),
    "JournaledClient": ("modelup.models.journal", "JournaledClient"),
    "Message": ("modelup.models.chat", "Message"),
    "ModelClient": ("modelup.models.base", "ModelClient"),
    "OpenAICompatibleClient": ("modelup.models.openai", "OpenAICompatibleClient"),
    "RetryPolicy": ("modelup.models.openai", "RetryPolicy"),
    "ScriptedClient": ("modelup.models.scripted", "ScriptedClient"),
    "SimulatedModelClient": ("modelup.models.simulated", "SimulatedModelClient"),
    "Usage": ("modelup.models.chat", "Usage"),
    "cache_key": ("modelup.models.cache", "cache_key"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


__all__ = [
    "CachedClient",
    "CallFailed",
    "ChatRequest",
    "ChatResponse",
    "JournaledClient",
    "Message",
    "ModelClient",
    "OpenAICompatibleClient",
    "RetryPolicy",
    "ScriptedClient",
    "SimulatedModelClient",
    "Usage",
    "cache_key",
]
