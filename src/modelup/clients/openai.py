"""The OpenAI-compatible client: ``POST {base_url}/chat/completions`` over httpx.

Works with Ollama, vLLM, llama.cpp server and OpenAI. The httpx transport is a constructor
argument so that tests can use ``httpx.MockTransport`` as well as a real loopback server.
Transient failures (429, 5xx, timeouts, dropped connections) are retried with exponential backoff
and jitter, honouring ``Retry-After``; other 4xx are not. A call that still fails raises
``CallFailed`` (the case is recorded as errored); a model the endpoint does not serve raises
``ModelNotFoundError`` and stops the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from modelup.chat import ChatRequest, ChatResponse, Usage
from modelup.clients.base import CallFailed
from modelup.errors import ModelNotFoundError

_MAX_ERROR_TEXT = 300
_MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: attempts in all, and the exponential backoff between them."""

    attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 20.0
    jitter_s: float = 0.5


class _Transient(Exception):
    """A failure worth retrying; carries the server's ``Retry-After`` when it gave one."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class OpenAICompatibleClient:
    """A ``ModelClient`` for one endpoint; reuses keep-alive connections across calls."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def complete(self, request: ChatRequest) -> ChatResponse:
        body = _request_body(request)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._call(request.model, body)
        except _Transient as exc:
            attempts = self._retry.attempts
            raise CallFailed(f"{exc} (gave up after {attempts} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            initial=self._retry.initial_s, max=self._retry.max_s, jitter=self._retry.jitter_s
        )(state)
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Transient) and error.retry_after_s is not None:
            return max(backoff, error.retry_after_s)
        return backoff

    async def _call(self, model: str, body: dict[str, Any]) -> ChatResponse:
        started = time.perf_counter()
        try:
            response = await self._http.post("/chat/completions", json=body)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"connection failed ({type(exc).__name__}: {exc})") from exc
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(
                f"HTTP {response.status_code}: {_error_text(response)}",
                _retry_after(response.headers.get("retry-after")),
            )
        if response.status_code == 404 and "model" in _error_text(response).lower():
            raise ModelNotFoundError(_not_found_message(self.base_url, model, response))
        if response.status_code >= 400:
            raise CallFailed(f"HTTP {response.status_code}: {_error_text(response)}")
        return _parse_response(response, latency_ms)


def _request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = dict(request.extra)
    body.update(
        model=request.model,
        messages=[message.to_json() for message in request.messages],
        temperature=request.temperature,
        stream=False,
    )
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.seed is not None:
        body["seed"] = request.seed
    return body


def _parse_response(response: httpx.Response, latency_ms: float) -> ChatResponse:
    try:
        payload = response.json()
        message = payload["choices"][0]["message"]
        content = message.get("content") or ""
        if not isinstance(content, str):
            raise TypeError("content is not a string")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise CallFailed(
            f"malformed response body ({type(exc).__name__}): {response.text[:_MAX_ERROR_TEXT]!r}"
        ) from exc
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    resolved = payload.get("model")
    fingerprint = payload.get("system_fingerprint")
    return ChatResponse(
        content=content,
        latency_ms=latency_ms,
        resolved_model=resolved if isinstance(resolved, str) else None,
        usage=Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))),
        system_fingerprint=fingerprint if isinstance(fingerprint, str) else None,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:_MAX_ERROR_TEXT] or response.reason_phrase
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:_MAX_ERROR_TEXT]
    if isinstance(error, str):
        return error[:_MAX_ERROR_TEXT]
    return response.text[:_MAX_ERROR_TEXT]


def _not_found_message(base_url: str, model: str, response: httpx.Response) -> str:
    text = _error_text(response)
    hint = ""
    if "pull" in text.lower() or ":11434" in base_url:
        hint = f" For Ollama, run: ollama pull {model}"
    return f"{base_url} does not serve model {model!r}: {text}.{hint}"


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # An HTTP date: rare for these APIs; the exponential backoff applies.
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)
