"""The model clients of a serving process: one OpenAI-compatible client per endpoint (models on
one endpoint with one key and timeouts share its keep-alive connections), each model asked with
its own merged ``[models."id"]`` settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelup.config.endpoints import model_settings, public_endpoint
from modelup.config.settings import Settings
from modelup.errors import ConfigError
from modelup.models.base import ModelClient
from modelup.models.chat import ChatRequest
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
from modelup.models.pricing import Price
from modelup.observe.record import RequestParameters
from modelup.workflow.prompt import Message


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """How one model id is asked: its client, endpoint and request parameters."""

    client: ModelClient
    endpoint: str
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    price: Price | None = None

    def request(self, model: str, messages: tuple[Message, ...]) -> ChatRequest:
        return ChatRequest(
            model,
            messages,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=self.seed,
            extra=self.extra,
        )

    @property
    def parameters(self) -> RequestParameters:
        return RequestParameters(
            temperature=self.temperature, max_tokens=self.max_tokens, seed=self.seed
        )


class ModelPool:
    """Routes per model id, made on first use. ``make_client(base_url, settings, model)``
    replaces the OpenAI-compatible clients, one per model (tests pass ``ScriptedClient``s)."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_connections: int = 256,
        make_client: Callable[[str, Settings, str], ModelClient] | None = None,
    ) -> None:
        self._settings = settings
        self._max_connections = max_connections
        self._make = make_client
        self._routes: dict[str, ModelRoute] = {}
        self._clients: dict[tuple[object, ...], ModelClient] = {}

    def route(self, model: str) -> ModelRoute:
        found = self._routes.get(model)
        if found is not None:
            return found
        settings = self._settings
        merged = model_settings(settings, model)
        base_url = merged.base_url or ""
        key = settings.api_key(model)
        timeouts = (merged.connect_timeout_s or 10.0, merged.read_timeout_s or 120.0)
        attempts = merged.max_attempts or 4
        identity: tuple[object, ...] = (base_url, key, timeouts, attempts)
        if self._make is not None:
            identity = (model,)
        client = self._clients.get(identity)
        if client is None:
            if self._make is not None:
                client = self._make(base_url, settings, model)
            else:
                client = OpenAICompatibleClient(
                    base_url,
                    api_key=key,
                    connect_timeout_s=timeouts[0],
                    read_timeout_s=timeouts[1],
                    retry=RetryPolicy(attempts=attempts),
                    max_connections=self._max_connections,
                )
            self._clients[identity] = client
        price = settings.prices.get(model)
        route = ModelRoute(
            client=client,
            endpoint=public_endpoint(base_url) if base_url else "unset",
            temperature=merged.temperature or 0.0,
            max_tokens=merged.max_tokens,
            seed=merged.seed,
            extra=merged.extra,
            price=Price(price.input_per_million, price.output_per_million) if price else None,
        )
        self._routes[model] = route
        return route

    def secrets(self, models: list[str]) -> list[str]:
        """The API keys of ``models``: scrubbed from every trace and error message."""
        found = []
        for model in models:
            try:
                key = self._settings.api_key(model)
            except ConfigError:  # a key variable not set: the call itself will say so
                key = None
            if key:
                found.append(key)
        return found

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self._routes.clear()
