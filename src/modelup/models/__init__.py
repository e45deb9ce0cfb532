"""Models: the one client seam, its implementations, and the middleware composed around it.

``ModelClient`` has one async method, ``complete(ChatRequest) -> ChatResponse``. Implementations:
``OpenAICompatibleClient`` (any ``/v1/chat/completions`` endpoint), ``SimulatedModelClient``
(offline, deterministic) and ``ScriptedClient`` (a queue of answers, for tests). Middleware wraps
any client and is itself one: ``CachedClient`` (the response cache) and ``JournaledClient`` (the
run journal that makes a run resumable).
"""

from modelup.models.base import CallFailed, ModelClient
from modelup.models.cache import CachedClient, cache_key
from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.models.journal import JournaledClient
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
from modelup.models.scripted import ScriptedClient
from modelup.models.simulated import SimulatedModelClient

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
