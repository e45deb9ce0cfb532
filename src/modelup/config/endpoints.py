"""Endpoint URLs as they may be shown or saved, and one model's settings merged with [llm]."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from modelup.config.settings import ModelSettings, Settings


@lru_cache(maxsize=64)  # a run has a few endpoints, asked for on every call
def public_endpoint(url: str) -> str:
    """``url`` without credentials (``https://user:key@host`` → ``https://host``) or a trailing
    slash: the form that may be hashed, saved or shown."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), parts.query, ""))


def model_settings(settings: Settings, model: str) -> ModelSettings:
    """``model``'s own ``[models."id"]`` settings with every key it leaves out taken from
    ``[llm]`` (request parameters: ``llm.extra`` updated with the model's ``extra``)."""
    llm = settings.llm
    own = settings.models.get(model) or ModelSettings()
    own_key = own.api_key is not None or own.api_key_env is not None
    return ModelSettings(
        base_url=own.base_url or llm.base_url,
        api_key=own.api_key if own_key else llm.api_key,
        api_key_env=own.api_key_env if own_key else llm.api_key_env,
        temperature=llm.temperature if own.temperature is None else own.temperature,
        max_tokens=llm.max_tokens if own.max_tokens is None else own.max_tokens,
        seed=llm.seed if own.seed is None else own.seed,
        connect_timeout_s=own.connect_timeout_s or llm.connect_timeout_s,
        read_timeout_s=own.read_timeout_s or llm.read_timeout_s,
        max_attempts=own.max_attempts or llm.max_attempts,
        extra={**llm.extra, **own.extra},
        expect_resolved=own.expect_resolved,
    )
