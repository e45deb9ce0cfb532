"""Canary routing: a share of keys, sticky per key, growing with the step."""

from __future__ import annotations

from modelup.serve.routing import on_canary, routing_key


def test_the_canary_takes_about_its_share_and_keys_stay_put() -> None:
    keys = [f"incident-{n}" for n in range(4000)]
    at_5 = {key for key in keys if on_canary("rel-2", key, 5)}
    at_25 = {key for key in keys if on_canary("rel-2", key, 25)}
    assert 120 < len(at_5) < 280 and 850 < len(at_25) < 1150
    assert at_5 <= at_25  # a key on the canary stays on it when the step grows
    assert at_5 == {key for key in keys if on_canary("rel-2", key, 5)}  # deterministic
    assert not any(on_canary("rel-2", key, 0) for key in keys[:50])
    assert all(on_canary("rel-2", key, 100) for key in keys[:50])
    assert at_5 != {key for key in keys if on_canary("rel-3", key, 5)}  # per release


def test_the_key_is_the_header_then_the_declared_field_then_the_request() -> None:
    fields = {"service": "checkout-api", "sources": {"a": "b"}}
    assert routing_key("INC-1", fields, "service", "req-1") == "INC-1"
    assert routing_key(None, fields, "service", "req-1") == "checkout-api"
    assert routing_key(None, fields, "sources", "req-1") == '{"a":"b"}'
    assert routing_key(None, fields, None, "req-1") == "req-1"
