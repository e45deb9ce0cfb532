"""Every release transition and every refusal, on both store engines, with mock evaluations
(the bundled support-ops dataset answered by simulated models)."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modelup import load_settings, run
from modelup.errors import ConfigError, ReleaseError
from modelup.release import Release, Releases, State
from modelup.session import RunObserver
from modelup.store import open_store
from modelup.store.releases import open_releases
from support import release_race as race
from support.releases import write_evaluation, write_record

CANDIDATE_AS = "qwen3:8b-q4_K_M"
UNREACHABLE = [{"figure": "quality_score", "greater_is_better": True, "min_absolute_change": 0.5}]


class Clock:
    """One second later at every call: event order is the order of the calls."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def releases(store_url: str) -> Iterator[Releases]:
    store = open_releases(store_url)
    assert store is not None
    with store:
        yield Releases(store, clock=Clock())


class Files:
    """Each release in its own directory: its record and its mock evaluation."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def __call__(
        self,
        *,
        previous: str = "gpt-oss:20b",
        candidate: str = "qwen3:8b",
        candidate_profile: str = "pinned",
        resolved: str = CANDIDATE_AS,
        **fields: Any,
    ) -> Path:
        self.count += 1
        directory = self.root / f"release-{self.count}"
        directory.mkdir()
        write_evaluation(
            directory,
            baseline=previous,
            candidate=candidate,
            candidate_profile=candidate_profile,
            profiles={"pinned": {"resolved_model": resolved}},
        )
        aliases = {candidate: resolved} if resolved != candidate else {}
        fields = {"alias_resolution": aliases, **fields}
        return write_record(directory, previous_model=previous, candidate_model=candidate, **fields)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


def gated(releases: Releases, path: Path) -> Release:
    release = releases.new(path, actor="bob")
    return releases.gate(release.release_id, actor="ci").release


def actions(release: Release) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.from_state, e.to_state) for e in release.events]


def test_new_gate_approve_promote(releases: Releases, files: Files) -> None:
    release = releases.new(files(), actor="bob")
    assert (release.release_id, release.state, release.verdict) == ("rel-1", "proposed", None)
    assert release.record.release_owner == "alice" and release.row.created_by == "bob"
    gate = releases.gate("rel-1", actor="ci")
    assert gate.evidence.verdict == "Promote" and gate.run is not None
    assert gate.release.state == "gated" and gate.release.verdict == "Promote"
    assert gate.evidence.candidate_identity is not None
    assert gate.evidence.candidate_identity.model == CANDIDATE_AS
    assert Path(gate.evidence.report_path) == gate.run.report_path.resolve()
    approved = releases.approve("rel-1", actor="alice", note="looks right")
    assert approved.approval is not None and approved.approval.note == "looks right"
    assert approved.approval.report_sha256 == gate.evidence.report_sha256
    promoted = releases.promote("rel-1", actor="deploy-bot")
    assert promoted.state == "promoted"
    (pin,) = releases.pins()
    assert (pin.workflow_id, pin.release_id) == ("support-triage", "rel-1")
    assert (pin.identity.requested_model, pin.identity.model) == ("qwen3:8b", CANDIDATE_AS)
    assert pin.previous is not None and pin.previous.model == "gpt-oss:20b"
    assert pin.previous_release_id is None  # the previous model, as the gate saw it answer
    assert actions(promoted) == [
        ("new", None, "proposed"),
        ("gate", "proposed", "gated"),
        ("approve", "gated", "approved"),
        ("promote", "approved", "promoted"),
    ]
    assert [e.actor for e in promoted.events] == ["bob", "ci", "alice", "deploy-bot"]
    assert [e.at for e in promoted.events] == sorted(e.at for e in promoted.events)
    # one store: the gate's run is in the history beside the release
    history = open_store(releases.store.url, create=False)
    assert history is not None
    with history:
        assert [run.run_id for run in history.runs()] == [gate.evidence.run_id]


def test_a_bad_record_creates_nothing(releases: Releases, files: Files) -> None:
    directory = files().parent
    bad = write_record(directory, name="bad.toml", previous_model="llama3:8b")
    with pytest.raises(ConfigError, match=r"bad\.toml: previous_model is 'llama3:8b'"):
        releases.new(bad, actor="bob")
    assert releases.releases() == []


def test_gating_again_replaces_the_evidence_but_never_after_approval(
    releases: Releases, files: Files
) -> None:
    first = gated(releases, files())
    again = releases.gate(first.release_id, actor="ci").release
    assert again.state == "gated" and again.row.revision == first.row.revision + 1
    assert again.evidence is not None and first.evidence is not None
    assert again.evidence.run_id != first.evidence.run_id
    releases.approve(first.release_id, actor="alice")
    with pytest.raises(ReleaseError, match=r"rel-1 is approved: cannot gate it \(allowed in "):
        releases.gate(first.release_id, actor="ci")


def test_only_the_owner_signs(releases: Releases, files: Files) -> None:
    release = gated(releases, files())
    with pytest.raises(
        ReleaseError, match=r"only the release owner, alice, may approve .*--as bob"
    ):
        releases.approve(release.release_id, actor="bob")
    with pytest.raises(ReleaseError, match="only the release owner, alice, may reject"):
        releases.reject(release.release_id, actor="mallory", reason="no")
    assert releases.get(release.release_id).state == "gated"


def test_a_hold_is_approved_only_with_an_override(releases: Releases, files: Files) -> None:
    release = gated(releases, files(expected_deltas=UNREACHABLE))
    assert release.verdict == "Hold"
    with pytest.raises(ReleaseError, match=r"was gated Hold .*--override"):
        releases.approve(release.release_id, actor="alice")
    approved = releases.approve(
        release.release_id, actor="alice", override="quality claim was too ambitious"
    )
    assert approved.override == "quality claim was too ambitious"
    assert approved.events[-1].reason == "quality claim was too ambitious"
    assert approved.events[-1].detail["override"] == "quality claim was too ambitious"
    assert approved.to_json()["override"] == "quality claim was too ambitious"


def test_a_rollback_is_never_approved(releases: Releases, files: Files) -> None:
    release = gated(releases, files(candidate_profile="drifting", resolved="qwen3:8b"))
    assert release.verdict == "Rollback"
    with pytest.raises(ReleaseError, match="a Rollback verdict can never be approved"):
        releases.approve(release.release_id, actor="alice", override="ship it anyway")
    assert releases.get(release.release_id).state == "gated"


def test_nothing_to_override_on_a_promote(releases: Releases, files: Files) -> None:
    release = gated(releases, files())
    with pytest.raises(ReleaseError, match="nothing to override"):
        releases.approve(release.release_id, actor="alice", override="just in case")


def test_invalid_transitions_name_the_state(releases: Releases, files: Files) -> None:
    release = releases.new(files(), actor="bob")
    with pytest.raises(ReleaseError, match=r"is proposed: cannot approve it \(allowed in "):
        releases.approve(release.release_id, actor="alice")
    with pytest.raises(ReleaseError, match="is proposed: cannot promote it"):
        releases.promote(release.release_id, actor="bot")
    with pytest.raises(ReleaseError, match="is proposed: cannot rollback it"):
        releases.rollback(release.release_id, actor="bot", reason="x")
    with pytest.raises(ReleaseError, match="no release rel-99"):
        releases.promote("rel-99", actor="bot")
    with pytest.raises(ReleaseError, match="--reason: say why"):
        releases.reject(release.release_id, actor="alice", reason="  ")
    rejected = releases.reject(release.release_id, actor="alice", reason="wrong candidate")
    assert rejected.state == "rejected" and rejected.events[-1].reason == "wrong candidate"
    with pytest.raises(ReleaseError, match=r"cannot gate it \(rejected is final\)"):
        releases.gate(release.release_id, actor="ci")


def test_one_approved_change_per_workflow(releases: Releases, files: Files) -> None:
    first, second = gated(releases, files()), gated(releases, files())
    releases.approve(first.release_id, actor="alice")
    with pytest.raises(ReleaseError, match="already has release rel-1 approved"):
        releases.approve(second.release_id, actor="alice")
    releases.reject(first.release_id, actor="alice", reason="second is better")
    assert releases.approve(second.release_id, actor="alice").state == "approved"


def test_promoting_supersedes_and_rolling_back_restores(releases: Releases, files: Files) -> None:
    first = gated(releases, files())
    releases.approve(first.release_id, actor="alice")
    releases.promote(first.release_id, actor="bot")
    second = gated(
        releases, files(previous="qwen3:8b", candidate="qwen3:14b", resolved="qwen3:14b-q8")
    )
    releases.approve(second.release_id, actor="alice")
    releases.promote(second.release_id, actor="bot")
    assert releases.get(first.release_id).state == "superseded"
    (pin,) = releases.pins("support-triage")
    assert (pin.release_id, pin.identity.model) == (second.release_id, "qwen3:14b-q8")
    assert (pin.previous_release_id, pin.previous and pin.previous.model) == ("rel-1", CANDIDATE_AS)
    with pytest.raises(ReleaseError, match=r"is superseded: cannot rollback it .*restore it"):
        releases.rollback(first.release_id, actor="bot", reason="x")

    rolled = releases.rollback(second.release_id, actor="oncall", reason="escalations dropped")
    assert rolled.state == "rolled_back" and rolled.events[-1].reason == "escalations dropped"
    restored = releases.get(first.release_id)
    assert restored.state == "promoted"
    assert actions(restored)[-2:] == [
        ("supersede", "promoted", "superseded"),
        ("restore", "superseded", "promoted"),
    ]
    (pin,) = releases.pins()
    assert (pin.release_id, pin.identity.model) == ("rel-1", CANDIDATE_AS)
    # the previous last-known-good of rel-1 is the identity it replaced: gpt-oss:20b
    assert pin.previous_release_id is None and pin.previous is not None
    assert pin.previous.model == "gpt-oss:20b"

    releases.rollback(first.release_id, actor="oncall", reason="back to the start")
    (pin,) = releases.pins()
    assert (pin.release_id, pin.identity.model, pin.previous) == (None, "gpt-oss:20b", None)
    with pytest.raises(ReleaseError, match="is rolled_back: cannot rollback it"):
        releases.rollback(first.release_id, actor="oncall", reason="again")


def test_promoting_against_a_stale_previous_model_is_refused(
    releases: Releases, files: Files
) -> None:
    first, stale = gated(releases, files()), gated(releases, files())
    releases.approve(first.release_id, actor="alice")
    releases.promote(first.release_id, actor="bot")
    with pytest.raises(ReleaseError, match=r"now serves qwen3:8b \(release rel-1\), but release"):
        releases.approve(stale.release_id, actor="alice")


def test_a_canary_keeps_the_pin_until_it_is_promoted_again(
    releases: Releases, files: Files
) -> None:
    canary = {"kind": "canary", "steps": [5, 50, 100]}
    release = gated(releases, files(rollout_scope=canary))
    releases.approve(release.release_id, actor="alice")
    started = releases.promote(release.release_id, actor="bot")
    assert started.state == "canary" and releases.pins() == []
    assert started.row.rollout["step"] == 0 and started.events[-1].detail["percent"] == 5
    assert started.pin is not None and started.pin.model == CANDIDATE_AS
    finished = releases.promote(release.release_id, actor="bot")
    assert finished.state == "promoted" and releases.pins()[0].release_id == release.release_id

    other = gated(
        releases, files(previous="qwen3:8b", candidate="qwen3:14b", rollout_scope="shadow")
    )
    releases.approve(other.release_id, actor="alice")
    assert releases.promote(other.release_id, actor="bot").state == "shadow"
    rolled = releases.rollback(other.release_id, actor="oncall", reason="shadow scores fell")
    assert rolled.state == "rolled_back"
    (pin,) = releases.pins()
    assert pin.release_id == release.release_id  # never left the last-known-good


def test_a_gate_records_nothing_if_the_release_changed_meanwhile(
    releases: Releases, files: Files
) -> None:
    release = releases.new(files(), actor="bob")

    class RejectMidRun(RunObserver):
        def planned(self, plan: Any, *, run_id: str, resumed_calls: int | None) -> None:
            releases.reject(release.release_id, actor="alice", reason="changed our minds")

    with pytest.raises(ReleaseError, match="is rejected: cannot gate it"):
        releases.gate(release.release_id, actor="ci", observer=RejectMidRun())
    after = releases.get(release.release_id)
    assert after.state == "rejected" and after.evidence is None


def test_attaching_an_existing_report(releases: Releases, files: Files, tmp_path: Path) -> None:
    path = files()
    release = releases.new(path, actor="bob")
    result = run(load_settings(path.parent / "modelup.toml"), report_file=tmp_path / "r.json")
    gate = releases.gate(release.release_id, actor="ci", report=result.report_path)
    assert gate.run is None and gate.evidence.source == "report"
    assert gate.evidence.run_id == result.run_id and gate.evidence.verdict == "Promote"
    stale = result.report_path.read_text().replace(result.report.dataset.sha256, "0" * 64)
    (tmp_path / "stale.json").write_text(stale)
    other = releases.new(files(), actor="bob")
    with pytest.raises(ReleaseError, match="not the release's evaluation: it has dataset sha256"):
        releases.gate(other.release_id, actor="ci", report=tmp_path / "stale.json")
    assert releases.get(other.release_id).state == "proposed"


def test_releases_are_listed_newest_first(releases: Releases, files: Files) -> None:
    releases.new(files(), actor="bob")
    releases.new(files(workflow_id="billing-copilot"), actor="bob")
    assert [r.release_id for r in releases.releases()] == ["rel-2", "rel-1"]
    assert [r.release_id for r in releases.releases(workflow_id="billing-copilot")] == ["rel-2"]
    assert releases.releases(state="gated") == []
    assert releases.releases(state=State.PROPOSED, limit=1)[0].release_id == "rel-2"


# -- two processes at once -----------------------------------------------------------------------


def in_processes(target: Any, calls: list[tuple[Any, ...]]) -> list[tuple[Any, str, str]]:
    """Run ``target(*call, barrier, ...)`` in one spawned process per call, all released by one
    barrier; their results, sorted."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(calls)), context.Queue()
    processes = [context.Process(target=target, args=(*call, barrier, results)) for call in calls]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=90)
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return sorted(results.get(timeout=5) for _ in processes)


def test_two_processes_approve_and_promote_conflicting_releases(
    releases: Releases, files: Files, store_url: str
) -> None:
    first, second = gated(releases, files()), gated(releases, files())
    # On PostgreSQL both decide on their locked rows before either writes: the unique slot
    # settles it. SQLite's write lock serialises them: the second sees the first's approval.
    overlap = store_url.startswith("postgresql")
    outcome = in_processes(
        race.approve_and_promote,
        [(store_url, first.release_id, overlap), (store_url, second.release_id, overlap)],
    )
    assert sorted(result for _, result, _ in outcome) == ["lost", "won"]
    (winner, _, _), (loser, _, message) = sorted(outcome, key=lambda item: item[1] != "won")
    assert "support-triage" in message and winner in message, message
    if overlap:  # both had decided: the unique slot refused the second commit
        assert "changed at the same time and won" in message, message
    assert releases.get(winner).state == "promoted"
    lost = releases.get(loser)
    assert lost.state == "gated" and lost.approval is None
    assert [event.action for event in lost.events] == ["new", "gate"]
    (pin,) = releases.pins()
    assert pin.release_id == winner and pin.identity.model == CANDIDATE_AS


def test_two_connections_promote_one_release_at_once(
    releases: Releases, files: Files, store_url: str
) -> None:
    # Threads, each with its own connection: two sessions of the database, without the cost of
    # two more interpreters (the process race above covers that).
    release = gated(releases, files())
    releases.approve(release.release_id, actor="alice")
    barrier, results = threading.Barrier(2), queue.SimpleQueue[tuple[int, str, str]]()
    workers = [
        threading.Thread(
            target=race.promote, args=(store_url, release.release_id, worker, barrier, results)
        )
        for worker in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    outcome = [results.get(timeout=5) for _ in workers]
    assert sorted(result for _, result, _ in outcome) == ["lost", "won"]
    message = next(text for _, result, text in outcome if result == "lost")
    assert "is promoted: cannot promote it" in message
    promoted = releases.get(release.release_id)
    assert [event.action for event in promoted.events].count("promote") == 1
