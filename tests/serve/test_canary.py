"""A replica's canary counts and when a window is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelup.release.record import RolloutScope
from modelup.serve.canary import CanaryCounter, due
from modelup.serve.state import Rollout, Target
from modelup.store.serve_rows import CanaryCounts, CountKey

KEY = CountKey("rel-2", 0, 0, "canary")
START = datetime(2026, 5, 18, 12, tzinfo=UTC)


def rollout(interval: dict[str, float]) -> Rollout:
    scope = RolloutScope.model_validate({"kind": "canary", "steps": [5, 100], "interval": interval})
    return Rollout("rel-2", "canary", Target("m", None, "rel-2"), scope, window_started_at=START)


def test_counts_are_taken_once_per_change_as_copies() -> None:
    counter = CanaryCounter()
    counter.add(KEY, error=False, invalid=True, overridden=True, drift=False, latency_ms=30.0)
    counter.add(KEY, error=True, invalid=False, overridden=False, drift=True, latency_ms=None)
    ((key, counts),) = counter.take()
    assert key == KEY and (counts.requests, counts.errors, counts.invalid) == (2, 1, 1)
    assert (counts.overridden, counts.drift, sum(counts.latency)) == (1, 1, 1)
    assert counter.take() == []  # nothing changed since
    counter.add(KEY, error=False, invalid=False, overridden=False, drift=False, latency_ms=5.0)
    ((_, again),) = counter.take()
    assert again.requests == 3  # cumulative: a replica's row holds all it counted
    counts.requests = 99
    counter.add(KEY, error=False, invalid=False, overridden=False, drift=False, latency_ms=5.0)
    assert counter.take()[0][1].requests == 4  # a taken copy does not alias the live count


def test_old_windows_are_forgotten_once_written() -> None:
    counter = CanaryCounter()
    counter.add(KEY, error=False, invalid=False, overridden=False, drift=False, latency_ms=1.0)
    counter.keep_only(set())
    assert len(counter.take()) == 1  # not yet written: kept
    counter.keep_only(set())
    assert counter.take() == []


def test_a_window_is_due_after_its_requests_or_its_time() -> None:
    by_requests = rollout({"requests": 3})
    assert not due(by_requests, CanaryCounts(requests=2), START)
    assert due(by_requests, CanaryCounts(requests=3), START)
    by_time = rollout({"seconds": 60})
    assert not due(by_time, CanaryCounts(requests=500), START + timedelta(seconds=59))
    assert due(by_time, CanaryCounts(), START + timedelta(seconds=60))
