"""The response cache as client middleware: an answer already given to exactly this request is
not asked for again.

The key is the sha256 of the endpoint, the requested model, the exact messages, the generation
parameters and the epoch, so a changed prompt, parameter or trial is a miss, never a stale hit.
The API key is never part of the key or the stored value: only the answer is kept. Where answers
are kept is the cache's business (``modelup.store.cache.ResponseCache`` keeps them in SQLite):
the middleware needs only ``get`` and ``put``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Protocol

from modelup import jsonbytes
from modelup.config.endpoints import public_endpoint
from modelup.models.base import ModelClient
from modelup.models.chat import ChatRequest, ChatResponse

KEY_VERSION = 2
"""Part of every key: bump it when the key's recipe changes, so old entries simply miss. 2: the
recipe is encoded by ``modelup.jsonbytes`` (orjson), not ``json.dumps``."""


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


class AnswerCache(Protocol):
    """Where cached answers live, by ``cache_key``."""

    def get(self, key: str) -> ChatResponse | None: ...

    def put(self, key: str, model: str, response: ChatResponse) -> None: ...


class CachedClient:
    """A ``ModelClient`` that looks ``request`` up in ``cache`` before asking ``inner``, and
    keeps every answer ``inner`` gives. A cached answer says so (``cached``); a failed call is
    never cached."""

    def __init__(self, inner: ModelClient, cache: AnswerCache, *, endpoint: str) -> None:
        self.inner = inner
        self._cache = cache
        self._endpoint = endpoint

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = cache_key(self._endpoint, request)
        hit = self._cache.get(key)
        if hit is not None:
            return replace(hit, cached=True)
        response = await self.inner.complete(request)
        self._cache.put(key, request.model, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
