"""The scripted client: queued answers in order, every call recorded, running out is loud."""

from __future__ import annotations

import asyncio

import pytest

from modelup.errors import ClientError
from modelup.models.base import CallFailed, ModelClient
from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.models.scripted import ScriptedClient

REQUEST = ChatRequest("m1", (Message("user", "hi"),))


def complete(client: ScriptedClient, request: ChatRequest = REQUEST) -> ChatResponse:
    return asyncio.run(client.complete(request))


def test_answers_come_in_order_and_calls_are_recorded() -> None:
    client = ScriptedClient("first")
    client.enqueue("second")
    assert isinstance(client, ModelClient)
    assert complete(client).content == "first"
    other = ChatRequest("m2", (Message("user", "again"),), epoch=1)
    answer = complete(client, other)
    assert (answer.content, answer.resolved_model) == ("second", "m2")
    assert client.calls == [REQUEST, other]


def test_responses_exceptions_and_functions_are_given_as_they_are() -> None:
    exact = ChatResponse("x", 12.0, "m1-2026", Usage(3, 4), "fp")
    client = ScriptedClient(
        exact,
        CallFailed("HTTP 503"),
        lambda request: f"echo {request.messages[-1].content}",
    )
    assert complete(client) is exact
    with pytest.raises(CallFailed, match="503"):
        complete(client)
    assert complete(client).content == "echo hi"


def test_running_out_stops_the_run_unless_there_is_a_default() -> None:
    with pytest.raises(ClientError, match="no answer queued for call 1"):
        complete(ScriptedClient())
    client = ScriptedClient(default="same")
    assert [complete(client).content for _ in range(3)] == ["same"] * 3
    asyncio.run(client.aclose())
    assert client.closed
