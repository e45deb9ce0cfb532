"""The OpenAI-compatible client against a real loopback server: every retry and stop path."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from modelup.errors import ClientError, ModelNotFoundError
from modelup.models.base import CallFailed
from modelup.models.chat import ChatRequest, Message
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
from support.openai_server import Completion, Drop, HttpError, Malformed, OpenAITestServer, scripted

FAST = RetryPolicy(attempts=3, initial_s=0.001, max_s=0.002, jitter_s=0.0)


def request(model: str = "m1", **kwargs: Any) -> ChatRequest:
    messages = (Message("system", "be brief"), Message("user", "hello"))
    return ChatRequest(model=model, messages=messages, **kwargs)


class Sleeps:
    """An injected sleep: records how long tenacity asked to wait, and waits not at all."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def call(server: OpenAITestServer, req: ChatRequest | None = None, **kwargs: Any) -> Any:
    """One call through a fresh client (fast retries unless told otherwise), synchronously."""
    kwargs.setdefault("retry", FAST)
    base_url = kwargs.pop("base_url", server.base_url)

    async def go() -> Any:
        client = OpenAICompatibleClient(base_url, **kwargs)
        try:
            return await client.complete(req or request())
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_answer_carries_content_usage_identity_and_latency() -> None:
    reply = Completion(
        '{"ok": true}',
        model="m1-2024-08-06",
        prompt_tokens=12,
        completion_tokens=5,
        system_fingerprint="fp_1",
    )
    with OpenAITestServer(scripted(reply)) as server:
        response = call(server)
    assert response.content == '{"ok": true}'
    assert response.resolved_model == "m1-2024-08-06"
    assert response.system_fingerprint == "fp_1"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (12, 5)
    assert response.latency_ms > 0


def test_request_body_holds_the_generation_parameters_and_extra() -> None:
    with OpenAITestServer(scripted(Completion("x"))) as server:
        req = request(temperature=0.3, max_tokens=64, seed=7, extra={"top_p": 0.5}, epoch=2)
        call(server, req, api_key="sk-test-123")
        body = server.calls[0].body
        headers = server.calls[0].headers
    assert body["model"] == "m1"
    assert body["messages"][1] == {"role": "user", "content": "hello"}
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.3, 64, 7)
    assert body["top_p"] == 0.5
    assert body["stream"] is False
    assert "epoch" not in body
    assert headers["authorization"] == "Bearer sk-test-123"


@pytest.mark.parametrize(
    "fault",
    [HttpError(500, "boom"), HttpError(503, "busy"), HttpError(429, "slow down"), Drop()],
    ids=["500", "503", "429", "dropped"],
)
def test_transient_failures_are_retried_then_answered(fault: Any) -> None:
    sleeps = Sleeps()
    with OpenAITestServer(scripted(fault, fault, Completion("fine"))) as server:
        response = call(server, sleep=sleeps)
        assert len(server.calls) == 3
    assert response.content == "fine"
    assert len(sleeps.waits) == 2


def test_backoff_is_exponential_within_its_bounds() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=4, initial_s=1.0, max_s=3.0, jitter_s=0.5)
    with (
        OpenAITestServer(scripted(default=HttpError(500))) as server,
        pytest.raises(CallFailed),
    ):
        call(server, sleep=sleeps, retry=policy)
    first, second, third = sleeps.waits
    assert 1.0 <= first <= 1.5
    assert 2.0 <= second <= 2.5
    assert third == 3.0  # 4 s and more, capped at max_s


def test_retry_after_seconds_is_honoured() -> None:
    sleeps = Sleeps()
    replies = scripted(HttpError(429, "rate limited", retry_after="7"), Completion("ok"))
    with OpenAITestServer(replies) as server:
        assert call(server, sleep=sleeps).content == "ok"
    assert sleeps.waits[0] == pytest.approx(7.0)


def test_retry_after_http_date_is_honoured() -> None:
    sleeps = Sleeps()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    replies = scripted(HttpError(503, "maintenance", retry_after=when), Completion("ok"))
    with OpenAITestServer(replies) as server:
        assert call(server, sleep=sleeps).content == "ok"
    assert 25.0 <= sleeps.waits[0] <= 30.0


def test_a_failure_that_persists_becomes_call_failed_with_the_endpoints_message() -> None:
    with OpenAITestServer(scripted(default=HttpError(503, "upstream overloaded"))) as server:
        with pytest.raises(CallFailed, match="HTTP 503: upstream overloaded") as info:
            call(server, sleep=Sleeps())
        assert len(server.calls) == FAST.attempts
    assert f"gave up after {FAST.attempts} attempts" in str(info.value)


def test_a_slow_answer_times_out_and_is_retried() -> None:
    replies = scripted(Completion("late", delay_s=2.0), Completion("on time"))
    with OpenAITestServer(replies) as server:
        response = call(server, read_timeout_s=0.2, sleep=Sleeps())
        assert len(server.calls) == 2
    assert response.content == "on time"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (HttpError(400, "max_tokens is too large"), "HTTP 400: max_tokens is too large"),
        (HttpError(422, "bad messages"), "HTTP 422: bad messages"),
        (Malformed(b"{not json"), "malformed response body"),
        (Malformed(b'{"choices": []}'), "malformed response body"),
    ],
    ids=["400", "422", "not-json", "no-choices"],
)
def test_client_errors_and_malformed_bodies_are_not_retried(reply: Any, message: str) -> None:
    sleeps = Sleeps()
    with OpenAITestServer(scripted(reply, default=Completion("never"))) as server:
        with pytest.raises(CallFailed, match=message):
            call(server, sleep=sleeps)
        assert len(server.calls) == 1
    assert sleeps.waits == []


def test_a_model_the_endpoint_lacks_stops_the_run_with_how_to_pull_it() -> None:
    with OpenAITestServer(known_models={"llama3:8b"}) as server:
        with pytest.raises(ModelNotFoundError, match=r"ollama pull qwen3:8b") as info:
            call(server, request("qwen3:8b"))
        assert server.calls == []
    assert "does not serve model 'qwen3:8b'" in str(info.value)


def test_a_wrong_route_stops_the_run_and_suggests_v1() -> None:
    with OpenAITestServer() as server:
        base = server.base_url.removesuffix("/v1")
        with pytest.raises(ClientError, match=r"/v1"):
            call(server, base_url=base)


def test_a_rejected_api_key_stops_the_run_without_showing_the_key() -> None:
    with (
        OpenAITestServer(api_key="right-key") as server,
        pytest.raises(ClientError, match="rejected the API key") as info,
    ):
        call(server, api_key="wrong-key-secret")
    assert "wrong-key-secret" not in str(info.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_endpoint_that_never_answered_stops_the_run() -> None:
    async def go() -> None:
        url = f"http://127.0.0.1:{_closed_port()}/v1"
        client = OpenAICompatibleClient(url, retry=FAST, sleep=Sleeps())
        try:
            await client.complete(request())
        finally:
            await client.aclose()

    with pytest.raises(ClientError, match="cannot reach"):
        asyncio.run(go())


def test_an_endpoint_that_went_away_midway_errors_the_case_instead() -> None:
    async def go(server: OpenAITestServer) -> None:
        client = OpenAICompatibleClient(server.base_url, retry=FAST, sleep=Sleeps())
        try:
            await client.complete(request())
            server.close()
            await client.complete(request())
        finally:
            await client.aclose()

    server = OpenAITestServer().start()
    try:
        with pytest.raises(CallFailed):
            asyncio.run(go(server))
    finally:
        server.close()


def test_a_bad_url_stops_the_run() -> None:
    async def go() -> None:
        client = OpenAICompatibleClient("localhost:11434/v1", retry=FAST)
        try:
            await client.complete(request())
        finally:
            await client.aclose()

    with pytest.raises(ClientError, match="not a usable endpoint URL"):
        asyncio.run(go())


def test_concurrent_calls_reuse_keep_alive_connections() -> None:
    async def go(server: OpenAITestServer) -> None:
        client = OpenAICompatibleClient(server.base_url, retry=FAST, max_connections=4)
        gate = asyncio.Semaphore(4)

        async def one() -> None:
            async with gate:
                await client.complete(request())

        try:
            for _ in range(3):
                await asyncio.gather(*(one() for _ in range(8)))
        finally:
            await client.aclose()

    with OpenAITestServer(scripted(default=Completion("x", delay_s=0.01))) as server:
        asyncio.run(go(server))
        assert len(server.calls) == 24
        assert server.connection_count <= 4


def test_calls_go_through_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAITestServer() as proxy, OpenAITestServer() as endpoint:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        call(endpoint)
        assert [r["target"] for r in proxy.requests] == [f"{endpoint.base_url}/chat/completions"]
        assert endpoint.requests == []

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        call(endpoint)
        assert len(proxy.requests) == 1
        assert [r["target"] for r in endpoint.requests] == ["/v1/chat/completions"]
