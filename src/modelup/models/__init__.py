"""Model clients: the one seam between modelup and any model, live or simulated."""

from modelup.models.base import CallFailed, ModelClient
from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
from modelup.models.simulated import SimulatedModelClient

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
