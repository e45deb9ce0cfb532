"""The OpenAI-compatible client: ``POST {base_url}/chat/completions`` over httpx.

Works with Ollama, vLLM, llama.cpp server and OpenAI. The httpx transport is a constructor
argument so that tests can use ``httpx.MockTransport`` as well as a real loopback server.
Transient failures (429, 5xx, timeouts, dropped connections) are retried with exponential backoff
and jitter, honouring ``Retry-After``; other 4xx are not. A call that still fails raises
``CallFailed`` (the case is recorded as errored). Failures that no further call could change
stop the run: a model the endpoint does not serve (``ModelNotFoundError``), a wrong route or a
rejected API key, a bad URL, and an endpoint that never answered at all (``ClientError``).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from modelup.chat import ChatRequest, ChatResponse, Usage
from modelup.clients.base import CallFailed
from modelup.errors import ClientError, ModelNotFoundError

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

    def __init__(
        self, reason: str, retry_after_s: float | None = None, *, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        self.unreachable = unreachable
        """No connection could be made at all (refused, name not resolved, connect timeout)."""


Sleep = Callable[[float], Awaitable[None]]


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
        sleep: Sleep | None = None,
    ) -> None:
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        try:
            self._completions_url = httpx.URL(f"{self.base_url}/chat/completions")
        except httpx.InvalidURL as exc:
            raise ClientError(f"{self.base_url}: not a usable endpoint URL: {exc}") from exc
        self._retry = retry or RetryPolicy()
        self._sleep: Sleep = sleep or asyncio.sleep
        self._answered = False
        """Whether the endpoint ever answered: until it has, an unreachable endpoint stops the
        run instead of erroring every case after a full round of retries."""
        # Requests go straight to the transport, and the default transport is aiohttp's (through
        # httpx-aiohttp, as the OpenAI SDK does): httpx's own connection pool spent about 15 ms
        # of CPU per call at 64 calls in flight (benchmarks/live_throughput.py: ratio 10.1 to
        # ideal against 1.38 with aiohttp), making the harness the bottleneck. Any httpx
        # transport can be passed instead, e.g. ``httpx.MockTransport`` in tests.
        self._transport = transport or AiohttpTransport(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            )
        )
        self._timeouts = {
            "connect": connect_timeout_s,
            "read": read_timeout_s,
            "write": read_timeout_s,
            "pool": read_timeout_s,
        }

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def complete(self, request: ChatRequest) -> ChatResponse:
        body = _request_body(request)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._call(request.model, body)
        except _Transient as exc:
            attempts = self._retry.attempts
            if exc.unreachable and not self._answered:
                raise ClientError(
                    f"cannot reach {self.base_url}: {exc} (after {attempts} attempts); "
                    "is the server running and is base_url right?"
                ) from exc
            raise CallFailed(f"{exc} (gave up after {attempts} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        # Exponential backoff with jitter, capped, as tenacity's ``wait_exponential_jitter``
        # computes it (whose parameter names changed across tenacity versions).
        policy = self._retry
        exponential = policy.initial_s * 2.0 ** (state.attempt_number - 1)
        backoff = min(exponential + random.uniform(0, policy.jitter_s), policy.max_s)
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Transient) and error.retry_after_s is not None:
            return max(backoff, error.retry_after_s)
        return backoff

    async def _call(self, model: str, body: dict[str, Any]) -> ChatResponse:
        started = time.perf_counter()
        try:
            # Compact JSON to a URL parsed once: both showed up in profiles at 700 calls/s.
            request = httpx.Request(
                "POST",
                self._completions_url,
                headers=self._headers,
                content=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                extensions={"timeout": self._timeouts},
            )
            response = await self._transport.handle_async_request(request)
            await response.aread()
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ClientError(f"{self.base_url}: not a usable endpoint URL: {exc}") from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            reason = f"cannot connect ({type(exc).__name__}: {exc})"
            raise _Transient(reason, unreachable=True) from exc
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"connection failed ({type(exc).__name__}: {exc})") from exc
        latency_ms = (time.perf_counter() - started) * 1000
        self._answered = True
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(
                f"HTTP {status}: {_error_text(response)}",
                _retry_after(response.headers.get("retry-after")),
            )
        if status == 404:
            if "model" in _error_text(response).lower():
                raise ModelNotFoundError(_not_found_message(self.base_url, model, response))
            raise ClientError(
                f"{self.base_url}/chat/completions: HTTP 404: {_error_text(response)} "
                "(an OpenAI-compatible base_url usually ends in /v1)"
            )
        if status == 401:
            raise ClientError(
                f"{self.base_url} rejected the API key (HTTP 401): {_error_text(response)}"
            )
        if status >= 400:
            raise CallFailed(f"HTTP {status}: {_error_text(response)}")
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
        try:
            when = parsedate_to_datetime(value)  # the HTTP-date form
        except (TypeError, ValueError):
            return None  # unreadable: the exponential backoff applies
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)
