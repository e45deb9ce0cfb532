"""Trace records in the project store, on SQLite and PostgreSQL: filters, ids, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelup.errors import StoreError
from modelup.store.schema import MIGRATIONS
from modelup.store.traces import TraceQuery, TraceRow, open_trace_store, store_time

NOW = datetime(2026, 5, 23, 12, 0, tzinfo=UTC)


def row(
    span: str, *, hours_ago: float, workflow: str = "incident-triage", **flags: bool
) -> TraceRow:
    return TraceRow(
        span_id=span,
        trace_id=span * 2,
        at=store_time(NOW - timedelta(hours=hours_ago)),
        source="run",
        run_id="R1",
        workflow=workflow,
        workflow_version="1",
        case_id="IT-001",
        requested_model="m",
        resolved_model="m-1",
        failed=flags.get("failed", False),
        overridden=flags.get("overridden", False),
        drift=flags.get("drift", False),
        errored=False,
        trace_version=1,
        record='{"trace_version": 1}',
    )


def test_traces_are_one_migration_on_the_project_store() -> None:
    assert "m005_traces" in [step.__name__ for step in MIGRATIONS]


def test_filters_ids_and_retention(store_url: str) -> None:
    assert open_trace_store(store_url, create=False) is None  # nothing recorded yet
    store = open_trace_store(store_url)
    assert store is not None
    with store:
        store.add(
            [
                row("a1" * 8, hours_ago=1, failed=True),
                row("b2" * 8, hours_ago=2, overridden=True),
                row("c3" * 8, hours_ago=30, drift=True),
                row("d4" * 8, hours_ago=3, workflow="support-ops"),
            ]
        )
        store.add([row("a1" * 8, hours_ago=1, failed=True)])  # recorded again: replaced
        every = store.find(TraceQuery())
        assert [r.span_id[:2] for r in every] == ["c3", "d4", "b2", "a1"]  # oldest first
        assert every[-1].failed is True and every[-1].overridden is False
        newest = store.find(TraceQuery(newest_first=True, limit=2))
        assert [r.span_id[:2] for r in newest] == ["a1", "b2"]
        assert [r.span_id[:2] for r in store.find(TraceQuery(workflow="support-ops"))] == ["d4"]
        recent = store.find(TraceQuery(since=NOW - timedelta(hours=2, minutes=1)))
        assert [r.span_id[:2] for r in recent] == ["b2", "a1"]
        either = store.find(TraceQuery(failed=True, drift=True))
        assert [r.span_id[:2] for r in either] == ["c3", "a1"]
        assert [r.span_id for r in store.get("b2" * 8)] == ["b2" * 8]
        assert [r.span_id for r in store.get("c3c3")] == ["c3" * 8]  # a unique prefix
        assert [r.span_id for r in store.get("A1" * 16)] == ["a1" * 8]  # a trace id
        assert store.get("e5") == []
        with pytest.raises(StoreError, match="not a trace or span id"):
            store.get("x'; drop table traces")
        assert store.prune(NOW - timedelta(hours=24)) == 1
        assert len(store.find(TraceQuery())) == 3


def test_an_ambiguous_prefix_is_refused(store_url: str) -> None:
    store = open_trace_store(store_url)
    assert store is not None
    with store:
        store.add([row("ab" + "0" * 14, hours_ago=1), row("ab" + "1" * 14, hours_ago=1)])
        with pytest.raises(StoreError, match="matches several traces"):
            store.get("ab")
