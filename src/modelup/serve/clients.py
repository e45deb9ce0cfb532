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
from modelup.models.configured import ConfiguredClients
from modelup.models.pricing import Price, configured_price
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
        self._make = make_client
        self._routes: dict[str, ModelRoute] = {}
        self._configured = ConfiguredClients(settings, max_connections=max_connections)

    def route(self, model: str) -> ModelRoute:
        found = self._routes.get(model)
        if found is not None:
            return found
        settings = self._settings
        merged = model_settings(settings, model)
        base_url = merged.base_url or ""
        client = (
            self._configured.client(model)
            if self._make is None
            else self._make(base_url, settings, model)  # a route is made once per model
        )
        route = ModelRoute(
            client=client,
            endpoint=public_endpoint(base_url) if base_url else "unset",
            temperature=merged.temperature or 0.0,
            max_tokens=merged.max_tokens,
            seed=merged.seed,
            extra=merged.extra,
            price=configured_price(settings, model),
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
        clients = {id(route.client): route.client for route in self._routes.values()}
        for client in clients.values():
            await client.aclose()
        self._routes.clear()
