"""What serving replicas share in the store, on both engines: containment, and each replica's
canary counts summed per arm."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from modelup.store.serve_rows import CanaryCounts, CountKey
from modelup.store.serving import open_serving_store
from support.serving import pinned_store

AT = datetime(2026, 5, 18, 12, tzinfo=UTC)


def counts(requests: int, invalid: int, latency: float) -> CanaryCounts:
    made = CanaryCounts()
    for index in range(requests):
        made.add(
            error=False, invalid=index < invalid, overridden=False, drift=False, latency_ms=latency
        )
    return made


def test_replicas_counts_are_summed_per_arm(store_url: str, tmp_path: Path) -> None:
    _, rid = pinned_store(
        store_url, tmp_path / "releases", canary={"kind": "canary", "steps": [50, 100]}
    )
    with open_serving_store(store_url) as store:
        window0 = CountKey(rid, 0, 0, "canary")
        store.add_counts(
            "a",
            [(window0, counts(10, 2, 40.0)), (CountKey(rid, 0, 0, "stable"), counts(5, 0, 20.0))],
            AT,
        )
        store.add_counts("b", [(window0, counts(4, 1, 400.0))], AT)
        store.add_counts("a", [(window0, counts(12, 2, 40.0))], AT)  # cumulative: replaces a's row
        store.add_counts("b", [(CountKey(rid, 1, 1, "stable"), counts(7, 0, 20.0))], AT)
        window = store.counts(rid, step=0, window=0)
        whole = store.counts(rid)
    assert (window["canary"].requests, window["canary"].invalid) == (16, 3)
    assert window["stable"].requests == 5 and whole["stable"].requests == 12
    assert (window["canary"].p95_ms() or 0) >= 400  # the slow replica's share is in the p95


def test_json_round_trip_tolerates_older_bucket_lists() -> None:
    made = counts(3, 1, 12.0)
    assert CanaryCounts.from_json(made.to_json()) == made
    short = CanaryCounts.from_json({"requests": 2, "latency": [2]})
    assert short.requests == 2 and short.p95_ms() == 1.0 and len(short.latency) == len(made.latency)
