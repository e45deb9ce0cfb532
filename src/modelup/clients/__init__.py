"""Model clients: the one seam between modelup and any model, live or simulated."""

from modelup.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.clients.base import CallFailed, ModelClient
from modelup.clients.openai import OpenAICompatibleClient, RetryPolicy
from modelup.clients.simulated import SimulatedModelClient

__all__ = [
    "CallFailed",
    "ChatRequest",
    "ChatResponse",
    "Message",
    "ModelClient",
    "OpenAICompatibleClient",
    "RetryPolicy",
    "SimulatedModelClient",
    "Usage",
]
