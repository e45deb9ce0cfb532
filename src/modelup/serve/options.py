"""How the run-time shell runs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from modelup.serve.request_body import DEFAULT_MAX_BODY_BYTES


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How the shell runs (every field has a sensible default)."""

    refresh_s: float = 2.0
    """How often the store is re-read (pins, states, containment) and a canary analysed: the
    longest a replica goes on sending canary traffic after another rolled it back."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_connections: int = 256
    """Connections to each model endpoint."""
    shadow_in_flight: int = 64
    """Shadow calls in flight at most; a request mirrored beyond that is not mirrored."""
    replica: str = field(default_factory=lambda: f"replica-{random.getrandbits(32):08x}")
    service_version: str = "0"
