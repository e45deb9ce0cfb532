"""Release SQL on both engines: the m004 tables, numbering, transitions applied whole or not at
all, the one-release-per-slot key, the event log and the pins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelup.errors import ReleaseError
from modelup.store import MIGRATIONS, applied_migrations, connect, open_store, record_run
from modelup.store.releases import (
    CHANGE_SLOT,
    KEEP,
    Change,
    Locked,
    PinnedIdentity,
    PinWrite,
    ReleaseStore,
    Update,
    open_releases,
)
from support.reports import make_report

AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> | `x` @octocat lone \ud800 surrogate"


@pytest.fixture
def store(store_url: str) -> Iterator[ReleaseStore]:
    opened = open_releases(store_url)
    assert opened is not None
    with opened:
        yield opened


def create(store: ReleaseStore, workflow: str = "support-triage", **extra: Any) -> str:
    row = store.create(
        workflow_id=workflow,
        release_owner="alice",
        previous_model="gpt-oss:20b",
        candidate_model="qwen3:8b",
        record={"workflow_id": workflow, "declared_goal": HOSTILE, **extra},
        source="/srv/release.toml",
        source_sha256="a" * 64,
        rollout={"kind": "full", "steps": []},
        state="proposed",
        actor="bob",
        at=AT,
    )
    return row.release_id


def to(state: str, action: str, slot: Any = KEEP, **columns: Any) -> Any:
    def decide(locked: Locked) -> Change:
        update = Update(
            locked.release.release_id,
            state,
            action,
            "alice",
            AT + timedelta(minutes=1),
            reason=f"{action} because",
            detail={"n": 1},
            columns=columns,
            slot=slot,
        )
        return Change((update,))

    return decide


def test_the_release_tables_come_with_m004(store_url: str, store: ReleaseStore) -> None:
    names = [step.__name__ for step in MIGRATIONS]
    assert names.index("m004_releases") == names.index("m003_decisions") + 1
    with connect(store_url, create=False) as db:
        assert "m004_releases" in applied_migrations(db)
        assert all(db.table_exists(t) for t in ("releases", "release_events", "pins"))


def test_readers_never_create_a_store(tmp_path: Any) -> None:
    assert open_releases(tmp_path / "none.sqlite", create=False) is None
    assert not (tmp_path / "none.sqlite").exists()


def test_releases_are_numbered_and_start_their_event_log(store: ReleaseStore) -> None:
    assert [create(store), create(store), create(store, "billing")] == ["rel-1", "rel-2", "rel-3"]
    row = store.get("rel-1")
    assert row is not None
    assert (row.state, row.revision, row.slot, row.verdict) == ("proposed", 1, None, None)
    assert row.record["declared_goal"] == HOSTILE  # JSON round trip, lone surrogate included
    assert row.created_at == AT and row.created_by == "bob"
    (event,) = store.events("rel-1")
    assert (event.number, event.action, event.from_state, event.to_state) == (
        1,
        "new",
        None,
        "proposed",
    )
    assert [r.release_id for r in store.releases(workflow_id="billing")] == ["rel-3"]
    assert [r.release_id for r in store.releases(limit=2)] == ["rel-3", "rel-2"]
    assert store.get("rel-9") is None


def test_a_transition_updates_and_appends_one_event(store: ReleaseStore) -> None:
    create(store)
    row = store.transition("rel-1", to("gated", "gate", verdict="Hold", evidence={"x": [1.5]}))
    assert (row.state, row.revision, row.verdict, row.evidence) == (
        "gated",
        2,
        "Hold",
        {"x": [1.5]},
    )
    assert row.updated_at == AT + timedelta(minutes=1)
    event = store.events("rel-1")[-1]
    assert (event.number, event.action, event.from_state, event.to_state, event.reason) == (
        2,
        "gate",
        "proposed",
        "gated",
        "gate because",
    )
    assert event.detail == {"n": 1} and event.actor == "alice"


def test_a_refusal_writes_nothing(store: ReleaseStore) -> None:
    create(store)

    def refuse(locked: Locked) -> Change:
        raise ReleaseError(f"{locked.release.release_id} is {locked.release.state}: no")

    with pytest.raises(ReleaseError, match="rel-1 is proposed: no"):
        store.transition("rel-1", refuse)
    with pytest.raises(ReleaseError, match="no release rel-2"):
        store.transition("rel-2", refuse)
    with pytest.raises(ValueError, match="cannot be updated"):
        store.transition("rel-1", to("gated", "gate", release_owner="mallory"))
    row = store.get("rel-1")
    assert row is not None and row.revision == 1 and len(store.events("rel-1")) == 1


def test_one_release_per_slot_and_workflow(store: ReleaseStore) -> None:
    create(store), create(store), create(store, "billing")
    store.transition("rel-1", to("approved", "approve", CHANGE_SLOT))
    store.transition("rel-3", to("approved", "approve", CHANGE_SLOT))  # another workflow
    # The key holds even when a decision does not check it.
    with pytest.raises(ReleaseError, match=r"rel-2: another release of workflow support-triage"):
        store.transition("rel-2", to("approved", "approve", CHANGE_SLOT))
    row = store.get("rel-2")
    assert row is not None and row.state == "proposed" and row.slot is None
    seen: list[dict[str, str]] = []

    def look(locked: Locked) -> Change:
        seen.append({slot: r.release_id for slot, r in locked.holders.items()})
        raise ReleaseError("just looking")

    with pytest.raises(ReleaseError):
        store.transition("rel-2", look)
    assert seen == [{"change": "rel-1"}]


def test_pins_are_written_whole_and_locked_with_the_release(store: ReleaseStore) -> None:
    create(store), create(store)
    first = PinnedIdentity("qwen3:8b", "qwen3:8b-q4_K_M", ("fp_1",))
    base = PinnedIdentity("gpt-oss:20b", "gpt-oss:20b")

    def pin(identity: PinnedIdentity, previous_id: str | None, previous: Any) -> Any:
        def decide(locked: Locked) -> Change:
            update = Update(locked.release.release_id, "promoted", "promote", "bot", AT)
            write = PinWrite(locked.release.release_id, identity, AT, "bot", previous_id, previous)
            return Change((update,), write)

        return decide

    store.transition("rel-1", pin(first, None, base))
    (row,) = store.pins()
    assert (row.release_id, row.identity, row.previous_release_id, row.previous) == (
        "rel-1",
        first,
        None,
        base,
    )
    assert row.revision == 1 and row.pinned_by == "bot"
    second = PinnedIdentity("qwen3:14b", "qwen3:14b", ())
    store.transition("rel-2", pin(second, "rel-1", first))
    (row,) = store.pins("support-triage")
    assert (row.release_id, row.identity, row.previous, row.revision) == ("rel-2", second, first, 2)
    seen: list[tuple[str | None, str | None]] = []

    def look(locked: Locked) -> Change:
        serving = locked.serving.release_id if locked.serving else None
        previous = locked.previous.release_id if locked.previous else None
        seen.append((serving, previous))
        raise ReleaseError("just looking")

    with pytest.raises(ReleaseError):
        store.transition("rel-1", look)
    assert seen == [("rel-2", "rel-1")]
    assert store.pins("billing") == []


def test_an_old_history_file_takes_releases_and_keeps_its_runs(tmp_path: Any) -> None:
    path = tmp_path / "history.sqlite"
    record_run(make_report(run_id="kept"), None, path)
    with connect(path) as db:  # as a modelup before releases left it: m001-m003 only
        for table in ("pins", "release_events", "releases"):
            db.execute(f"DROP TABLE {table}")
        db.execute("DELETE FROM _migrations WHERE name = 'm004_releases'")
    opened = open_releases(path)
    assert opened is not None
    with opened:
        assert create(opened) == "rel-1"
    history = open_store(path, create=False)
    assert history is not None
    with history:
        assert [run.run_id for run in history.runs()] == ["kept"]
