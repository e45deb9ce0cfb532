"""Tests for the loopback OpenAI-compatible test server (tests/openai_server.py)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.openai_server import (
    ChatCall,
    Completion,
    Drop,
    HttpError,
    Malformed,
    OpenAITestServer,
    Reply,
    completions,
    scripted,
)

CHAT = "/chat/completions"
TIMEOUT = httpx.Timeout(2.0)


def chat_body(model: str = "m1", content: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
def client_for() -> Iterator[Any]:
    """Factory for httpx clients bound to a server; all are closed at teardown."""
    clients: list[httpx.Client] = []

    def make(server: OpenAITestServer, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", TIMEOUT)
        client = httpx.Client(base_url=server.base_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --------------------------------------------------------------------------- replies


def test_completion_defaults_echo_requested_model(client_for: Any) -> None:
    with OpenAITestServer(scripted(Completion("hi there"))) as server:
        response = client_for(server).post(CHAT, json=chat_body("llama3.1:8b"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert isinstance(data["created"], int)
    assert data["model"] == "llama3.1:8b"
    assert data["system_fingerprint"] is None
    choice = data["choices"][0]
    assert choice["index"] == 0
    assert choice["message"] == {"role": "assistant", "content": "hi there"}
    assert choice["finish_reason"] == "stop"
    assert data["usage"] == {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}


def test_completion_overrides_model_usage_and_fingerprint(client_for: Any) -> None:
    reply = Completion(
        "x",
        model="gpt-4o-2024-08-06",
        prompt_tokens=7,
        completion_tokens=3,
        system_fingerprint="fp_abc123",
        finish_reason="length",
    )
    with OpenAITestServer(scripted(reply)) as server:
        data = client_for(server).post(CHAT, json=chat_body("gpt-4o")).json()

    assert data["model"] == "gpt-4o-2024-08-06"
    assert data["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert data["system_fingerprint"] == "fp_abc123"
    assert data["choices"][0]["finish_reason"] == "length"


def test_http_error_with_retry_after(client_for: Any) -> None:
    with OpenAITestServer(scripted(HttpError(429, "slow down", retry_after="2"))) as server:
        response = client_for(server).post(CHAT, json=chat_body())

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    error = response.json()["error"]
    assert error["message"] == "slow down"
    assert error["type"] == "rate_limit_error"
    assert "code" in error


def test_http_error_without_retry_after_and_custom_type(client_for: Any) -> None:
    reply = HttpError(500, "boom", error_type="server_error", code="internal")
    with OpenAITestServer(scripted(reply)) as server:
        response = client_for(server).post(CHAT, json=chat_body())

    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert response.json() == {
        "error": {"message": "boom", "type": "server_error", "param": None, "code": "internal"}
    }


def test_http_error_404_carries_ollama_style_message(client_for: Any) -> None:
    message = 'model "x" not found, try pulling it first'
    with OpenAITestServer(scripted(HttpError(404, message))) as server:
        response = client_for(server).post(CHAT, json=chat_body("x"))

    assert response.status_code == 404
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    ("reply", "status", "payload"),
    [
        (Malformed(), 200, b"{not json"),
        (Malformed(b"<html>bad gateway</html>", status=502), 502, b"<html>bad gateway</html>"),
        (Malformed(b""), 200, b""),
    ],
)
def test_malformed_returns_raw_body(
    client_for: Any, reply: Malformed, status: int, payload: bytes
) -> None:
    with OpenAITestServer(scripted(reply)) as server:
        response = client_for(server).post(CHAT, json=chat_body())

    assert response.status_code == status
    assert response.content == payload
    assert response.headers["content-length"] == str(len(payload))
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_drop_raises_transport_error_and_server_keeps_working(client_for: Any) -> None:
    with OpenAITestServer(scripted(Drop(), Completion("after"))) as server:
        client = client_for(server)
        with pytest.raises(httpx.TransportError):
            client.post(CHAT, json=chat_body())
        response = client.post(CHAT, json=chat_body())

    assert response.json()["choices"][0]["message"]["content"] == "after"
    # the dropped request was read fully and recorded
    assert [r["body"]["messages"][0]["content"] for r in server.requests] == ["hello", "hello"]


def test_delay_is_respected(client_for: Any) -> None:
    with OpenAITestServer(scripted(Completion("late", delay_s=0.3))) as server:
        started = time.monotonic()
        response = client_for(server).post(CHAT, json=chat_body())
        elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert 0.3 <= elapsed < 1.5


def test_delay_beyond_client_timeout_raises_read_timeout(client_for: Any) -> None:
    reply = Completion("too late", delay_s=30.0)
    server = OpenAITestServer(scripted(reply, default=HttpError(503, delay_s=30.0)))
    with server:
        client = client_for(server, timeout=httpx.Timeout(0.2))
        with pytest.raises(httpx.ReadTimeout):
            client.post(CHAT, json=chat_body())
        with pytest.raises(httpx.ReadTimeout):
            client.post(CHAT, json=chat_body())
        exit_started = time.monotonic()
    # exiting wakes the sleeping handlers instead of waiting out delay_s
    assert time.monotonic() - exit_started < 1.5
    assert server.errors == []


# --------------------------------------------------------------------------- recording


def test_requests_and_calls_are_recorded(client_for: Any) -> None:
    seen: list[ChatCall] = []

    def responder(call: ChatCall) -> Reply:
        seen.append(call)
        return Completion(f"#{call.index}: {call.last_content}")

    with OpenAITestServer(responder) as server:
        client = client_for(server, headers={"X-Trace-Id": "abc"})
        first = client.post(CHAT, json=chat_body("m1", "one", temperature=0))
        second = client.post(CHAT, json=chat_body("m2", "two"))
        client.get("/models")

    assert first.json()["choices"][0]["message"]["content"] == "#0: one"
    assert second.json()["choices"][0]["message"]["content"] == "#1: two"

    requests = server.requests
    assert [(r["method"], r["path"]) for r in requests] == [
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
    ]
    assert requests[0]["headers"]["x-trace-id"] == "abc"
    assert requests[0]["headers"]["content-type"] == "application/json"
    assert all(name == name.lower() for name in requests[0]["headers"])
    assert requests[0]["body"] == chat_body("m1", "one", temperature=0)
    assert json.loads(requests[0]["raw_body"]) == requests[0]["body"]
    assert requests[2]["body"] is None

    assert [c.index for c in seen] == [0, 1]
    assert seen[0].model == "m1"
    assert seen[0].messages == [{"role": "user", "content": "one"}]
    assert seen[0].body["temperature"] == 0
    assert seen[0].headers["x-trace-id"] == "abc"
    assert server.calls == seen
    assert server.request_count == 3


def test_concurrent_calls_get_unique_indices(client_for: Any) -> None:
    with OpenAITestServer(completions(lambda call: str(call.index))) as server:
        client = client_for(server)
        results: list[str] = []
        lock = threading.Lock()

        def worker() -> None:
            content = client.post(CHAT, json=chat_body()).json()["choices"][0]["message"]
            with lock:
                results.append(content["content"])

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)

    assert sorted(results, key=int) == [str(i) for i in range(8)]
    assert [c.index for c in server.calls] == list(range(8))


def test_scripted_then_default_then_exhausted(client_for: Any) -> None:
    with OpenAITestServer(scripted(Completion("a"), default=Completion("z"))) as server:
        client = client_for(server)
        contents = [
            client.post(CHAT, json=chat_body()).json()["choices"][0]["message"]["content"]
            for _ in range(3)
        ]
    assert contents == ["a", "z", "z"]

    with OpenAITestServer(scripted(Completion("only"))) as server:
        client = client_for(server)
        assert client.post(CHAT, json=chat_body()).status_code == 200
        exhausted = client.post(CHAT, json=chat_body())
    assert exhausted.status_code == 500
    assert "exhausted" in exhausted.json()["error"]["message"]


def test_responder_exception_becomes_500_and_is_recorded(client_for: Any) -> None:
    def responder(call: ChatCall) -> Reply:
        raise ValueError("bad responder")

    with OpenAITestServer(responder) as server:
        response = client_for(server).post(CHAT, json=chat_body())

    assert response.status_code == 500
    assert "bad responder" in response.json()["error"]["message"]
    assert [type(e) for e in server.errors] == [ValueError]


def test_invalid_requests_get_400(client_for: Any) -> None:
    with OpenAITestServer() as server:
        client = client_for(server)
        not_json = client.post(CHAT, content=b"{nope", headers={"content-type": "application/json"})
        no_model = client.post(CHAT, json={"messages": []})
        bad_messages = client.post(CHAT, json={"model": "m", "messages": "hi"})
        streaming = client.post(CHAT, json=chat_body(stream=True))

    for response in (not_json, no_model, bad_messages, streaming):
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert server.calls == []


def test_unknown_routes_get_404_json(client_for: Any) -> None:
    with OpenAITestServer() as server:
        client = client_for(server)
        responses = [
            client.get("/nope"),
            client.get(CHAT),
            client.post("/completions", json={}),
            client.delete("/models"),
        ]

    for response in responses:
        assert response.status_code == 404
        assert "Unknown route" in response.json()["error"]["message"]


# --------------------------------------------------------------------------- options


def test_api_key_required(client_for: Any) -> None:
    with OpenAITestServer(api_key="sk-test") as server:
        missing = client_for(server).post(CHAT, json=chat_body())
        wrong = client_for(server, headers={"Authorization": "Bearer nope"}).get("/models")
        good_client = client_for(server, headers={"Authorization": "Bearer sk-test"})
        ok = good_client.post(CHAT, json=chat_body())
        models = good_client.get("/models")

    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"
    assert wrong.status_code == 401
    assert ok.status_code == 200
    assert models.status_code == 200
    assert len(server.calls) == 1


def test_known_models(client_for: Any) -> None:
    with OpenAITestServer(known_models={"qwen2.5:7b", "llama3.1:8b"}) as server:
        client = client_for(server)
        unknown = client.post(CHAT, json=chat_body("mistral:7b"))
        known = client.post(CHAT, json=chat_body("qwen2.5:7b"))
        models = client.get("/models")

    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == (
        'model "mistral:7b" not found, try pulling it first'
    )
    assert known.status_code == 200
    assert models.status_code == 200
    listing = models.json()
    assert listing["object"] == "list"
    assert {m["id"] for m in listing["data"]} == {"qwen2.5:7b", "llama3.1:8b"}
    assert all(m["object"] == "model" for m in listing["data"])
    assert [c.model for c in server.calls] == ["qwen2.5:7b"]  # unknown never reached responder


def test_models_without_known_models_lists_requested(client_for: Any) -> None:
    with OpenAITestServer() as server:
        client = client_for(server)
        assert client.get("/models").json() == {"object": "list", "data": []}
        client.post(CHAT, json=chat_body("b"))
        client.post(CHAT, json=chat_body("a"))
        client.post(CHAT, json=chat_body("b"))
        ids = [m["id"] for m in client.get("/models").json()["data"]]
    assert ids == ["a", "b"]


def test_max_requests_cap(client_for: Any) -> None:
    with OpenAITestServer(max_requests=2) as server:
        client = client_for(server)
        statuses = [client.post(CHAT, json=chat_body()).status_code for _ in range(2)]
        statuses.append(client.get("/models").status_code)
        statuses.append(client.post(CHAT, json=chat_body()).status_code)

    assert statuses == [200, 200, 503, 503]
    assert len(server.requests) == 2
    assert len(server.calls) == 2
    assert server.request_count == 4


# --------------------------------------------------------------------------- transport


def test_keep_alive_reuses_one_connection(client_for: Any) -> None:
    with OpenAITestServer(completions(lambda call: call.last_content.upper())) as server:
        client = client_for(server)
        contents = [
            client.post(CHAT, json=chat_body(content=f"m{i}")).json()["choices"][0]["message"][
                "content"
            ]
            for i in range(5)
        ]
        # errors keep the connection alive too
        assert client.get("/nope").status_code == 404
        assert client.post(CHAT, json=chat_body()).status_code == 200
        assert server.connection_count == 1

    assert contents == ["M0", "M1", "M2", "M3", "M4"]


def test_clean_shutdown_closes_port_even_with_idle_keep_alive(client_for: Any) -> None:
    server = OpenAITestServer()
    with server:
        port = server.port
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        client = client_for(server)
        assert client.post(CHAT, json=chat_body()).status_code == 200  # leaves an idle conn
        exit_started = time.monotonic()
    assert time.monotonic() - exit_started < 1.0

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    assert not any(t.name == f"OpenAITestServer:{port}" for t in threading.enumerate())
    with pytest.raises(httpx.TransportError):
        client.post(CHAT, json=chat_body())


def test_base_url_requires_started_server() -> None:
    server = OpenAITestServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server, pytest.raises(RuntimeError):
        server.start()
    with pytest.raises(RuntimeError):
        server.start()
