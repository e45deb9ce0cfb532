"""The on-disk response cache of live calls: one SQLite file, keyed by what decides an answer.

The key is the sha256 of the endpoint, the requested model, the exact messages, the generation
parameters and the epoch, so a changed prompt, parameter or trial is a miss, never a stale hit.
The API key is never part of the key or the stored value: only the answer is kept (content,
original latency, resolved model, usage, system fingerprint). The cache file itself is
``modelup.store.cache.ResponseCache``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from modelup import jsonbytes
from modelup.models.chat import ChatRequest, ChatResponse, Usage

KEY_VERSION = 1
"""Part of every key: bump it when the key's recipe changes, so old entries simply miss."""


def cache_key(endpoint: str, request: ChatRequest) -> str:
    """The sha256 of everything that decides an answer (secrets excluded)."""
    recipe = {
        "v": KEY_VERSION,
        "endpoint": public_endpoint(endpoint),
        "model": request.model,
        "messages": [message.to_json() for message in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "extra": dict(request.extra),
        "epoch": request.epoch,
    }
    return hashlib.sha256(jsonbytes.compact(recipe, sort_keys=True)).hexdigest()


@lru_cache(maxsize=64)  # a run has a few endpoints, asked for on every call
def public_endpoint(url: str) -> str:
    """``url`` without credentials (``https://user:key@host`` → ``https://host``) or a trailing
    slash: the form that may be hashed, saved or shown."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), parts.query, ""))


def response_to_json(response: ChatResponse) -> dict[str, Any]:
    """A response as plain JSON (shared with the run journal)."""
    return {
        "content": response.content,
        "latency_ms": response.latency_ms,
        "resolved_model": response.resolved_model,
        "prompt_tokens": response.usage.prompt_tokens,
        "completion_tokens": response.usage.completion_tokens,
        "system_fingerprint": response.system_fingerprint,
    }


def response_from_json(data: dict[str, Any]) -> ChatResponse:
    """The inverse of ``response_to_json``; raises ``KeyError``/``TypeError`` on a bad value."""
    content = data["content"]
    if not isinstance(content, str):
        raise TypeError("content is not a string")
    return ChatResponse(
        content=content,
        latency_ms=float(data["latency_ms"]),
        resolved_model=_optional_str(data.get("resolved_model")),
        usage=Usage(int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0))),
        system_fingerprint=_optional_str(data.get("system_fingerprint")),
    )


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
