from __future__ import annotations

from modelup.config.loading import load_settings
from modelup.config.settings import Settings
from modelup.models.configured import (
    CONNECT_TIMEOUT_S,
    MAX_ATTEMPTS,
    READ_TIMEOUT_S,
    ConfiguredClients,
)
from modelup.models.pricing import Price, configured_price


def settings() -> Settings:
    return load_settings(
        None,
        {
            "llm": {
                "base_url": "http://127.0.0.1:9/v1",
                "api_key": "k-shared",
                "baseline_model_id": "a",
                "candidate_model_id": "b",
            },
            "models": {
                "c": {"base_url": "http://127.0.0.1:8/v1"},
                "d": {"api_key": "k-own"},
                "e": {"read_timeout_s": 5.0},
            },
            "prices": {"a": {"input_per_million": 1.0, "output_per_million": 2.0}},
        },
    )


def test_models_with_the_same_endpoint_key_and_timeouts_share_one_client() -> None:
    clients = ConfiguredClients(settings(), max_connections=8)
    a, b = clients.client("a"), clients.client("b")
    assert a is b
    assert clients.client("a") is a
    assert len({id(clients.client(m)) for m in ("a", "c", "d", "e")}) == 4


def test_a_client_takes_the_merged_settings_and_the_documented_defaults() -> None:
    client = ConfiguredClients(settings(), max_connections=8).client("e")
    assert client.base_url == "http://127.0.0.1:9/v1"
    assert client._timeout.sock_read == 5.0
    assert client._timeout.sock_connect == CONNECT_TIMEOUT_S
    assert client._retry.attempts == MAX_ATTEMPTS
    default = ConfiguredClients(settings(), max_connections=8).client("a")
    assert default._timeout.sock_read == READ_TIMEOUT_S


def test_a_model_without_a_price_has_none_never_zero() -> None:
    assert configured_price(settings(), "a") == Price(1.0, 2.0)
    assert configured_price(settings(), "b") is None
