"""What the run-time shell writes on a live release, on both store engines: a canary's analysis
(next step, pause, automatic rollback with containment, promotion after the last step), a
containment, a resume, and the containment a rollback leaves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelup.errors import ReleaseError
from modelup.release import Release, Releases
from modelup.release.analysis import Measurement
from modelup.store.serving import ServingStore, open_serving_store
from support.releases import write_evaluation, write_record

PASSED = Measurement("successful", ("every figure met its success condition",), (), 50, 50)
FAILED = Measurement("failed", ("failed: contract_validity canary 0.5 vs stable 1",), (), 50, 50)
UNSURE = Measurement("inconclusive", ("too little data",), (), 3, 50)


@pytest.fixture
def store(store_url: str) -> Iterator[ServingStore]:
    with open_serving_store(store_url) as opened:
        yield opened


def ship(
    releases: Releases, root: Path, name: str, previous: str, candidate: str, rollout: Any
) -> Release:
    directory = root / name
    directory.mkdir()
    write_evaluation(directory, baseline=previous, candidate=candidate)
    path = write_record(
        directory, previous_model=previous, candidate_model=candidate, rollout_scope=rollout
    )
    release = releases.new(path, actor="bob")
    releases.gate(release.release_id, actor="ci")
    releases.approve(release.release_id, actor="alice")
    return releases.promote(release.release_id, actor="deploy")


def canary(store: ServingStore, tmp_path: Path, **scope: Any) -> tuple[Releases, str]:
    releases = Releases(store)
    ship(releases, tmp_path, "first", "gpt-oss:20b", "qwen3:8b", "full")
    rollout = {"kind": "canary", "steps": [10, 50, 100], **scope}
    second = ship(releases, tmp_path, "second", "qwen3:8b", "qwen3:14b", rollout)
    assert second.state == "canary" and second.row.rollout["window"] == 0
    return releases, second.release_id


def test_passed_analyses_step_up_then_promote(store: ServingStore, tmp_path: Path) -> None:
    releases, rid = canary(store, tmp_path)
    stepped = releases.analyze(rid, PASSED, step=0, window=0, actor="serve")
    assert (stepped.state, stepped.row.rollout["step"], stepped.row.rollout["window"]) == (
        "canary",
        1,
        1,
    )
    again = releases.analyze(rid, PASSED, step=0, window=0, actor="other replica")
    assert again.row.revision == stepped.row.revision  # that window was already analysed
    releases.analyze(rid, PASSED, step=1, window=1, actor="serve")
    promoted = releases.analyze(rid, PASSED, step=2, window=2, actor="serve")
    assert promoted.state == "promoted"
    (pin,) = releases.pins()
    assert pin.release_id == rid and pin.identity.requested_model == "qwen3:14b"
    assert promoted.row.rollout["last_analysis"]["status"] == "successful"


def test_a_failed_analysis_rolls_back_and_contains(store: ServingStore, tmp_path: Path) -> None:
    releases, rid = canary(store, tmp_path)
    rolled = releases.analyze(rid, FAILED, step=0, window=0, actor="modelup serve r1")
    assert rolled.state == "rolled_back" and rolled.row.slot is None
    event = rolled.events[-1]
    assert event.action == "rollback" and event.actor == "modelup serve r1"
    assert event.reason is not None and "contract_validity" in event.reason
    contained = store.containment("support-triage")
    assert contained is not None and contained.release_id == rid
    (pin,) = releases.pins()
    assert pin.identity.requested_model == "qwen3:8b"  # the last-known-good never left


def test_failures_within_the_limit_start_a_new_window(store: ServingStore, tmp_path: Path) -> None:
    releases, rid = canary(store, tmp_path, failure_limit=1)
    once = releases.analyze(rid, FAILED, step=0, window=0, actor="serve")
    assert once.state == "canary" and once.row.rollout["failures"] == 1
    assert (once.row.rollout["step"], once.row.rollout["window"]) == (0, 1)
    twice = releases.analyze(rid, FAILED, step=0, window=1, actor="serve")
    assert twice.state == "rolled_back"


def test_inconclusive_pauses_until_a_human_resumes(store: ServingStore, tmp_path: Path) -> None:
    releases, rid = canary(store, tmp_path)
    paused = releases.analyze(rid, UNSURE, step=0, window=0, actor="serve")
    assert paused.state == "paused" and "too little data" in (paused.events[-1].reason or "")
    with pytest.raises(ReleaseError, match="paused: cannot promote"):
        releases.promote(rid, actor="deploy")
    resumed = releases.resume(rid, actor="oncall", reason="traffic is back")
    assert resumed.state == "canary" and resumed.row.rollout["window"] == 1
    paused = releases.analyze(rid, UNSURE, step=0, window=1, actor="serve")
    assert releases.rollback(rid, actor="oncall", reason="not worth it").state == "rolled_back"


def test_contain_and_resume_a_promoted_release(store: ServingStore, tmp_path: Path) -> None:
    releases = Releases(store)
    first = ship(releases, tmp_path, "first", "gpt-oss:20b", "qwen3:8b", "full")
    with pytest.raises(ReleaseError, match="nothing to resume"):
        releases.resume(first.release_id, actor="oncall")
    held = releases.contain(first.release_id, actor="oncall", reason="escalations dropped")
    assert held.state == "promoted" and held.events[-1].action == "contain"
    contained = store.containment("support-triage")
    assert contained is not None and contained.reason == "escalations dropped"
    lifted = releases.resume(first.release_id, actor="oncall", reason="re-gated")
    assert lifted.events[-1].detail["lifted"]["reason"] == "escalations dropped"
    assert store.containment("support-triage") is None


def test_a_rollback_contains_the_workflow(store: ServingStore, tmp_path: Path) -> None:
    releases = Releases(store)
    ship(releases, tmp_path, "first", "gpt-oss:20b", "qwen3:8b", "full")
    second = ship(releases, tmp_path, "second", "qwen3:8b", "qwen3:14b", "full")
    releases.rollback(second.release_id, actor="oncall", reason="escalations dropped")
    contained = store.containment("support-triage")
    assert contained is not None and contained.reason == "rolled back: escalations dropped"
