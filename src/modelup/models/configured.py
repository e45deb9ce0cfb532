"""OpenAI-compatible clients as the configuration describes them: each model's merged
``[models."id"]`` settings, and one client per endpoint, key, timeouts and attempts, so that the
models behind one endpoint share its keep-alive connections."""

from __future__ import annotations

from modelup.config.endpoints import model_settings
from modelup.config.settings import Settings
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0
MAX_ATTEMPTS = 4


class ConfiguredClients:
    """The live clients of one run, grader or serving process, made on first use."""

    def __init__(self, settings: Settings, *, max_connections: int) -> None:
        self._settings = settings
        self._max_connections = max_connections
        self._clients: dict[tuple[object, ...], OpenAICompatibleClient] = {}

    def client(self, model: str) -> OpenAICompatibleClient:
        """``model``'s client: shared with every model asked at the same endpoint, with the same
        key, timeouts and attempts."""
        resolved = model_settings(self._settings, model)
        base_url = resolved.base_url or ""
        api_key = self._settings.api_key(model)
        connect = resolved.connect_timeout_s or CONNECT_TIMEOUT_S
        read = resolved.read_timeout_s or READ_TIMEOUT_S
        attempts = resolved.max_attempts or MAX_ATTEMPTS
        identity = (base_url, api_key, connect, read, attempts)
        found = self._clients.get(identity)
        if found is None:
            found = self._clients[identity] = OpenAICompatibleClient(
                base_url,
                api_key=api_key,
                connect_timeout_s=connect,
                read_timeout_s=read,
                retry=RetryPolicy(attempts=attempts),
                max_connections=self._max_connections,
            )
        return found
