"""A replica's share of a canary's analysis: it counts what each arm of the current window saw
(in memory, on every request), writes its cumulative counts to its own rows of the store on
every refresh (one small batch, never a write per request), and, when a window is due, sums
every replica's counts and records the analysis through the release's transition, which acts
only once per window however many replicas try."""

from __future__ import annotations

from datetime import datetime

from modelup.release.analysis import Measurement, measure
from modelup.serve.state import Rollout
from modelup.store.serve_rows import CanaryCounts, CountKey


class CanaryCounter:
    def __init__(self) -> None:
        self._counts: dict[CountKey, CanaryCounts] = {}
        self._dirty: set[CountKey] = set()

    def add(
        self,
        key: CountKey,
        *,
        error: bool,
        invalid: bool,
        overridden: bool,
        drift: bool,
        latency_ms: float | None,
    ) -> None:
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = CanaryCounts()
        counts.add(
            error=error, invalid=invalid, overridden=overridden, drift=drift, latency_ms=latency_ms
        )
        self._dirty.add(key)

    def take(self) -> list[tuple[CountKey, CanaryCounts]]:
        """Copies of the counts changed since the last take (to write on the store's thread)."""
        taken = [(key, CanaryCounts.from_json(self._counts[key].to_json())) for key in self._dirty]
        self._dirty.clear()
        return taken

    def keep_only(self, windows: set[tuple[str, int, int]]) -> None:
        """Forget the counts of windows no longer analysed (already written)."""
        for key in [
            key for key in self._counts if (key.release_id, key.step, key.window) not in windows
        ]:
            if key not in self._dirty:
                del self._counts[key]


def due(rollout: Rollout, canary: CanaryCounts, now: datetime) -> bool:
    """Whether the window's analysis interval has passed."""
    interval = rollout.scope.interval
    if interval.requests is not None:
        return canary.requests >= interval.requests
    assert interval.seconds is not None
    started = rollout.window_started_at
    return started is not None and (now - started).total_seconds() >= interval.seconds


def analysis(rollout: Rollout, window: CanaryCounts, stable: CanaryCounts) -> Measurement:
    """The canary arm's window against the stable arm over the whole rollout so far (which also
    covers the last step, where the stable arm gets little or no traffic)."""
    return measure(rollout.scope, window, stable)
