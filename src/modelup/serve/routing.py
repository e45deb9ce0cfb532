"""Which arm a request goes to: a canary's share of routing keys, sticky per key.

The key is the ``X-Routing-Key`` header, else the workflow's declared routing field
(``[authority] routing_key``), else the request's own id (no stickiness asked for). It is hashed
with the release id into one of 10,000 buckets; the canary takes the buckets below its percent,
so raising the step keeps every key already on the canary there."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from modelup import jsonbytes

BUCKETS = 10_000


def routing_key(
    header: str | None, fields: Mapping[str, Any], field: str | None, fallback: str
) -> str:
    if header:
        return header
    if field is not None and field in fields:
        value = fields[field]
        return value if isinstance(value, str) else jsonbytes.compact(value).decode("utf-8")
    return fallback


def bucket(release_id: str, key: str) -> int:
    digest = hashlib.blake2b(f"{release_id}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def on_canary(release_id: str, key: str, percent: float) -> bool:
    """Whether ``key`` falls in the canary's share of ``percent`` percent."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    return bucket(release_id, key) < round(percent * BUCKETS / 100)
