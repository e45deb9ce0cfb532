"""The OpenAI-compatible client: ``POST {base_url}/chat/completions`` over aiohttp.

Works with Ollama, vLLM, llama.cpp server and OpenAI. Transient failures (429, 5xx, timeouts,
dropped connections) are retried with exponential backoff and jitter, honouring ``Retry-After``;
other 4xx are not. A call that still fails raises ``CallFailed`` (the case is recorded as
errored). Failures that no further call could change stop the run: a model the endpoint does not
serve (``ModelNotFoundError``), a rejected API key or the same 4xx on the first
``REJECTION_LIMIT`` calls of a model (``RequestsRejected``, with the endpoint's own message), a
wrong route or a bad URL (``ClientError``), and an endpoint that never answered at all
(``NoEvidenceError``).

Everything the endpoint sends is untrusted: a body that cannot be read (malformed, or nested
too deep for the parser) is that call's error; the identities it reports (model,
``system_fingerprint``, ids) and its error messages are cleaned (``modelup.untrusted``) before
they are kept or shown. URLs in messages never carry credentials.

aiohttp rather than httpx: at 64 calls in flight httpx's own connection pool spent about 15 ms of
CPU per call, and httpx's request and response objects over aiohttp's transport still cost about a
third of the harness's CPU per call (``benchmarks/live_throughput.py``).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)
from yarl import URL

from modelup import jsonbytes
from modelup.config.endpoints import public_endpoint
from modelup.errors import ClientError, ModelNotFoundError, NoEvidenceError, RequestsRejected
from modelup.models.base import CallFailed
from modelup.models.chat import ChatRequest, ChatResponse, Usage
from modelup.untrusted import clean_identity, clean_line

_MAX_ERROR_TEXT = 300
_MAX_RETRY_AFTER_S = 60.0
REJECTION_LIMIT = 5
"""The same non-retryable 4xx on this many first calls of a model stops the run: the endpoint
rejects the requests themselves, and the rest would only fail the same way."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: attempts in all, and the exponential backoff between them."""

    attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 20.0
    jitter_s: float = 0.5


class _Rejected(CallFailed):
    """A non-retryable 4xx: the call failed, and the status may say the requests are wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class _Transient(Exception):
    """A failure worth retrying; carries the server's ``Retry-After`` when it gave one."""

    def __init__(
        self, reason: str, retry_after_s: float | None = None, *, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        self.unreachable = unreachable
        """No connection could be made at all (refused, name not resolved, connect timeout)."""


@dataclass(frozen=True, slots=True)
class _Answer:
    """What came back: status, headers and the whole body."""

    status: int
    reason: str
    headers: Mapping[str, str]
    """Case-insensitive (aiohttp's own)."""
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


Sleep = Callable[[float], Awaitable[None]]


class OpenAICompatibleClient:
    """A ``ModelClient`` for one endpoint; reuses keep-alive connections across calls.

    Proxies come from ``HTTP_PROXY``/``HTTPS_PROXY`` (``NO_PROXY`` exempts hosts), looked up
    once: aiohttp's own ``trust_env`` looks them up on every call, which doubled the harness's
    CPU per call."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 64,
        sleep: Sleep | None = None,
    ) -> None:
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self.public_url = public_endpoint(self.base_url)
        """The base URL as it may be shown: without credentials."""
        self._completions_url = _endpoint_url(f"{self.base_url}/chat/completions", self.public_url)
        self._retry = retry or RetryPolicy()
        self._sleep: Sleep = sleep or asyncio.sleep
        self._max_connections = max(1, max_connections)
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s
        )
        self._session: aiohttp.ClientSession | None = None
        self._proxy = _env_proxy(self._completions_url)
        self._answered = False
        """Whether the endpoint ever answered: until it has, an unreachable endpoint stops the
        run instead of erroring every case after a full round of retries."""
        self._rejections: dict[str, tuple[int, int]] = {}
        """Per model, while every call so far was rejected with one 4xx: (status, calls)."""
        self._settled: set[str] = set()
        """Models with a call that was not such a rejection: never stopped early."""

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that will run the calls.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                headers=self._headers,
                timeout=self._timeout,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        body = jsonbytes.compact(_request_body(request))
        model = request.model
        try:
            # The first attempt is made outside tenacity, whose bookkeeping cost about a tenth
            # of the harness's CPU per call at 1,000 calls/s; only a failure enters the loop.
            response = await self._call(model, body)
        except _Transient as exc:
            first = exc
        except _Rejected as exc:
            self._count_rejection(model, exc)
            raise
        except CallFailed:
            self._settled.add(model)
            raise
        else:
            self._settled.add(model)
            return response
        self._settled.add(model)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number == 1:
                        raise first  # tenacity's attempt 1 is the one made above
                    response = await self._call(request.model, body)
                    return replace(response, attempts=attempt.retry_state.attempt_number)
        except _Transient as exc:
            attempts = self._retry.attempts
            if exc.unreachable and not self._answered:
                raise NoEvidenceError(
                    f"no evidence: cannot reach {self.public_url}: {exc} (after {attempts} "
                    "attempts); is the server running and is base_url right?"
                ) from exc
            raise CallFailed(f"{exc} (gave up after {attempts} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _count_rejection(self, model: str, rejected: _Rejected) -> None:
        """Stop the run when the first ``REJECTION_LIMIT`` calls of ``model`` were all
        rejected with the same status: the endpoint refuses the requests themselves."""
        if model in self._settled:
            return
        status, calls = self._rejections.get(model, (rejected.status, 0))
        if status != rejected.status:
            self._settled.add(model)
            return
        self._rejections[model] = (status, calls + 1)
        if calls + 1 >= REJECTION_LIMIT:
            raise RequestsRejected(
                f"{self.public_url} rejected the first {calls + 1} requests for model "
                f"{clean_line(model, 200)!r} with HTTP {status}: {rejected.message} "
                "(the requests themselves are refused: fix the configuration or the request "
                "parameters before running again)"
            ) from rejected

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

    async def _call(self, model: str, body: bytes) -> ChatResponse:
        session = self._open()
        started = time.perf_counter()
        try:
            async with session.post(
                self._completions_url, data=body, proxy=self._proxy
            ) as response:
                answer = _Answer(
                    response.status, response.reason or "", response.headers, await response.read()
                )
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            raise ClientError(f"{self.public_url}: not a usable endpoint URL") from exc
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            reason = f"cannot connect ({type(exc).__name__}: {exc})"
            raise _Transient(reason, unreachable=True) from exc
        except TimeoutError as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from exc
        except aiohttp.ClientError as exc:
            raise _Transient(f"connection failed ({type(exc).__name__}: {exc})") from exc
        latency_ms = (time.perf_counter() - started) * 1000
        self._answered = True
        status = answer.status
        if status == 429 or status >= 500:
            raise _Transient(
                f"HTTP {status}: {_error_text(answer)}",
                _retry_after(answer.headers.get("retry-after")),
            )
        if status == 404:
            if "model" in _error_text(answer).lower():
                raise ModelNotFoundError(_not_found_message(self.public_url, model, answer))
            raise ClientError(
                f"{self.public_url}/chat/completions: HTTP 404: {_error_text(answer)} "
                "(an OpenAI-compatible base_url usually ends in /v1)"
            )
        if status == 401:
            raise RequestsRejected(
                f"{self.public_url} rejected the API key (HTTP 401): {_error_text(answer)}"
            )
        if status >= 400:
            raise _Rejected(status, _error_text(answer))
        return _parse_response(answer, latency_ms)


def _env_proxy(url: URL) -> str | None:
    """The proxy the environment names for ``url``, or None (none named, or host exempted)."""
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies().get(url.scheme)


def _endpoint_url(url: str, shown: str) -> URL:
    """The URL, parsed once; a base URL aiohttp could not call stops the run here. ``shown``
    is how the base URL is named in the message (without credentials)."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError) as exc:
        raise ClientError(f"{shown}: not a usable endpoint URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ClientError(
            f"{shown}: not a usable endpoint URL: it needs http:// or https:// and a host"
        )
    return parsed


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


def _parse_response(response: _Answer, latency_ms: float) -> ChatResponse:
    try:
        payload = json.loads(response.body)
        choice = payload["choices"][0]
        message = choice["message"]
        content = message.get("content") or ""
        if not isinstance(content, str):
            raise TypeError("content is not a string")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser goes (a hostile or broken body).
        raise CallFailed(
            f"malformed response body ({type(exc).__name__}): "
            f"{clean_line(response.text[:_MAX_ERROR_TEXT])!r}"
        ) from exc
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    return ChatResponse(
        content=content,
        latency_ms=latency_ms,
        resolved_model=_str(payload.get("model")),
        usage=Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))),
        system_fingerprint=_str(payload.get("system_fingerprint")),
        response_id=_str(payload.get("id")),
        finish_reason=_str(choice.get("finish_reason")),
    )


def _str(value: Any) -> str | None:
    """An identity the endpoint reported, cleaned to be kept and shown (never trusted)."""
    return clean_identity(value) if isinstance(value, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _error_text(response: _Answer) -> str:
    """The endpoint's own message, cleaned and on one line (it ends up in errors and cases)."""
    return clean_line(_raw_error_text(response))


def _raw_error_text(response: _Answer) -> str:
    try:
        payload = json.loads(response.body)
    except (ValueError, RecursionError):
        return response.text[:_MAX_ERROR_TEXT] or clean_line(response.reason)
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:_MAX_ERROR_TEXT]
    if isinstance(error, str):
        return error[:_MAX_ERROR_TEXT]
    return response.text[:_MAX_ERROR_TEXT]


def _not_found_message(base_url: str, model: str, response: _Answer) -> str:
    text = _error_text(response)
    hint = ""
    if "pull" in text.lower() or ":11434" in base_url:
        hint = f" For Ollama, run: ollama pull {clean_line(model, 200)}"
    return f"{base_url} does not serve model {clean_line(model, 200)!r}: {text}.{hint}"


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
