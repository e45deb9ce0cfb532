"""The release operations: propose, gate, approve, reject, promote and roll back.

Each transition is decided by a function handed to ``ReleaseStore.transition``, which runs it in
one transaction on the locked rows, so the checks here (the state, the owner, the verdict, the
workflow's pin) hold for exactly what is written. A gate runs its evaluation outside any
transaction and records the evidence only if the release has not changed meanwhile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from modelup.errors import ReleaseError, ReportError
from modelup.release.analysis import Measurement
from modelup.release.evaluation import check_report, evaluation_settings, plan_evaluation
from modelup.release.evidence import Evidence
from modelup.release.judge import judge_release
from modelup.release.ledger import Approval, Release
from modelup.release.record import load_record
from modelup.release.rollout import analyzed, contained, resumed
from modelup.release.serving import restore, serve, start_rollout, still_previous
from modelup.release.states import Action, State, require
from modelup.report.io import read_report
from modelup.session.session import RunObserver, RunResult, Session
from modelup.store.releases import (
    CHANGE_SLOT,
    Change,
    Containment,
    Locked,
    PinRow,
    ReleaseRow,
    ReleaseStore,
    Update,
)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Gated:
    """A gated release, the evidence just recorded, and the run that produced it (None when an
    existing report was attached)."""

    release: Release
    evidence: Evidence
    run: RunResult | None


class Releases:
    """Release operations on an open store. ``clock`` gives every timestamp written."""

    def __init__(self, store: ReleaseStore, *, clock: Clock = _now) -> None:
        self.store = store
        self._clock = clock

    # -- reading -------------------------------------------------------------------------------

    def get(self, release_id: str) -> Release:
        row = self.store.get(release_id)
        if row is None:
            raise ReleaseError(f"no release {release_id} in {self.store.url}")
        return self._release(row)

    def releases(
        self, *, workflow_id: str | None = None, state: str | None = None, limit: int | None = None
    ) -> list[Release]:
        rows = self.store.releases(workflow_id=workflow_id, state=state, limit=limit)
        return [self._release(row) for row in rows]

    def pins(self, workflow_id: str | None = None) -> list[PinRow]:
        return self.store.pins(workflow_id)

    def _release(self, row: ReleaseRow) -> Release:
        return Release.from_rows(row, self.store.events(row.release_id))

    # -- proposing and gating ------------------------------------------------------------------

    def new(self, path: Path, *, actor: str) -> Release:
        """Propose the release ``path`` describes; its evaluation is planned (no model is
        called) and checked against the record first."""
        actor = _actor(actor)
        record, sha256 = load_record(path)
        plan_evaluation(record, evaluation_settings(record, self.store.url), str(path))
        row = self.store.create(
            workflow_id=record.workflow_id,
            release_owner=record.release_owner,
            previous_model=record.previous_model,
            candidate_model=record.candidate_model,
            record=record.model_dump(mode="json"),
            source=str(path.resolve()),
            source_sha256=sha256,
            rollout=record.rollout_scope.model_dump(mode="json"),
            state=State.PROPOSED,
            actor=actor,
            at=self._clock(),
        )
        return self._release(row)

    def gate(
        self,
        release_id: str,
        *,
        actor: str,
        report: Path | None = None,
        observer: RunObserver | None = None,
    ) -> Gated:
        """Run the release's evaluation (or attach ``report`` after checking it is that
        evaluation), judge it as the release, and record the evidence and verdict."""
        actor = _actor(actor)
        release = self.get(release_id)
        require(release_id, release.state, Action.GATE)
        revision = release.row.revision
        record = release.record
        settings = evaluation_settings(record, self.store.url)
        plan = plan_evaluation(record, settings, f"release {release_id}")
        run: RunResult | None = None
        if report is None:
            run = Session(settings, observer=observer).run()
            path, head = run.report_path, run.report
        else:
            path, head = report, read_report(report)
            check_report(record, plan, head, report)
        evidence = judge_release(
            record,
            head,
            source="run" if run is not None else "report",
            report_path=str(path.resolve()),
            report_sha256=_sha256(path),
            gated_at=self._clock(),
            gated_by=actor,
        )

        def decide(locked: Locked) -> Change:
            row = locked.release
            require(release_id, row.state, Action.GATE)
            if row.revision != revision:
                raise ReleaseError(
                    f"release {release_id} changed while it was being gated (now {row.state}); "
                    "its evidence was not recorded: gate it again"
                )
            update = Update(
                release_id,
                State.GATED,
                Action.GATE,
                actor,
                evidence.gated_at,
                reason=evidence.reasons[0] if evidence.verdict != "Promote" else None,
                detail={
                    "verdict": evidence.verdict,
                    "source": evidence.source,
                    "report_sha256": evidence.report_sha256,
                },
                columns={"verdict": evidence.verdict, "evidence": evidence.to_json()},
            )
            return Change((update,))

        gated = self._release(self.store.transition(release_id, decide))
        return Gated(gated, evidence, run)

    # -- signing -------------------------------------------------------------------------------

    def approve(
        self, release_id: str, *, actor: str, note: str | None = None, override: str | None = None
    ) -> Release:
        """The owner's sign-off: a Promote verdict; a Hold only with ``override``; never a
        Rollback. One approved change per workflow at a time."""
        actor = _actor(actor)
        note, override = _text(note), _text(override)
        at = self._clock()

        def decide(locked: Locked) -> Change:
            row = locked.release
            require(release_id, row.state, Action.APPROVE)
            _owner(row, actor, "approve")
            verdict, evidence = row.verdict, _evidence(row)
            if verdict == "Rollback":
                raise ReleaseError(
                    f"release {release_id} was gated Rollback: a Rollback verdict can never be "
                    "approved (reject it, or propose a new release)"
                )
            if verdict == "Hold" and override is None:
                raise ReleaseError(
                    f"release {release_id} was gated Hold ({evidence.reasons[0]}): approve it "
                    'only with --override "REASON", which is recorded and shown with the '
                    "release; or reject it, or gate it again"
                )
            if verdict == "Promote" and override is not None:
                raise ReleaseError(
                    f"release {release_id} was gated Promote: there is nothing to override "
                    "(drop --override)"
                )
            _slot_free(locked, CHANGE_SLOT, "approve")
            still_previous(locked)
            approval = Approval(
                by=actor,
                at=at,
                verdict=evidence.verdict,
                report_sha256=evidence.report_sha256,
                note=note,
                override=override,
            )
            update = Update(
                release_id,
                State.APPROVED,
                Action.APPROVE,
                actor,
                at,
                reason=override or note,
                detail=approval.model_dump(mode="json", exclude={"by", "at"}),
                columns={"approval": approval.model_dump(mode="json")},
                slot=CHANGE_SLOT,
            )
            return Change((update,))

        return self._release(self.store.transition(release_id, decide))

    def reject(self, release_id: str, *, actor: str, reason: str) -> Release:
        actor, why = _actor(actor), _required(reason, "reject")
        at = self._clock()

        def decide(locked: Locked) -> Change:
            row = locked.release
            require(release_id, row.state, Action.REJECT)
            _owner(row, actor, "reject")
            update = Update(release_id, State.REJECTED, Action.REJECT, actor, at, why, slot=None)
            return Change((update,))

        return self._release(self.store.transition(release_id, decide))

    # -- serving -------------------------------------------------------------------------------

    def promote(self, release_id: str, *, actor: str) -> Release:
        """An approved release becomes the workflow's serving release, its pinned identity the
        one its gate observed; or, when its rollout is a canary or shadow, starts that (the pin
        stays on the last-known-good until the release is promoted again)."""
        actor = _actor(actor)
        at = self._clock()

        def decide(locked: Locked) -> Change:
            row = locked.release
            require(release_id, row.state, Action.PROMOTE)
            identity = _evidence(row).candidate_identity
            if identity is None:
                raise ReleaseError(
                    f"release {release_id}: its gate saw no single resolved identity of "
                    f"{row.candidate_model}, so there is nothing to pin; gate it again"
                )
            kind = str(row.rollout.get("kind", "full"))
            if row.state == State.APPROVED and kind in (State.CANARY, State.SHADOW):
                return start_rollout(row, identity, kind, actor, at)
            return serve(locked, identity, actor, at)

        return self._release(self.store.transition(release_id, decide))

    def rollback(self, release_id: str, *, actor: str, reason: str) -> Release:
        """Take the release off traffic in one step: the workflow's pin goes back to the
        previous last-known-good identity (a canary's or shadow's never left it)."""
        actor, why = _actor(actor), _required(reason, "roll back")
        at = self._clock()

        def decide(locked: Locked) -> Change:
            row = locked.release
            require(release_id, row.state, Action.ROLLBACK)
            containment = Containment(release_id, at, actor, f"rolled back: {why}")
            if row.state != State.PROMOTED:
                update = Update(
                    release_id, State.ROLLED_BACK, Action.ROLLBACK, actor, at, why, slot=None
                )
                return Change((update,), containment=containment)
            return replace(restore(locked, actor, at, why), containment=containment)

        return self._release(self.store.transition(release_id, decide))

    # -- at run time (modelup serve, and the on-call engineer) ---------------------------------

    def contain(self, release_id: str, *, actor: str, reason: str) -> Release:
        """Contain the release's workflow: escalation forced by policy, next steps read-only,
        no canary or shadow traffic, until ``resume``."""
        actor, why = _actor(actor), _required(reason, "contain")
        at = self._clock()
        return self._release(
            self.store.transition(release_id, lambda locked: contained(locked, actor, at, why))
        )

    def resume(self, release_id: str, *, actor: str, reason: str | None = None) -> Release:
        """Lift the workflow's containment; continue a paused canary in a new window."""
        actor, why = _actor(actor), _text(reason)
        at = self._clock()
        return self._release(
            self.store.transition(release_id, lambda locked: resumed(locked, actor, at, why))
        )

    def analyze(
        self, release_id: str, measurement: Measurement, *, step: int, window: int, actor: str
    ) -> Release:
        """Record a canary analysis of one window and act on it (next step, pause, automatic
        rollback, or promotion after the last step); nothing when the window has moved on."""
        at = self._clock()

        def decide(locked: Locked) -> Change:
            return analyzed(locked, measurement, step=step, window=window, actor=actor, at=at)

        return self._release(self.store.transition(release_id, decide))


def _evidence(row: ReleaseRow) -> Evidence:
    if row.evidence is None:
        raise ReleaseError(f"release {row.release_id} has no gate evidence: gate it first")
    return Evidence.model_validate(row.evidence)


def _owner(row: ReleaseRow, actor: str, action: str) -> None:
    if actor != row.release_owner:
        raise ReleaseError(
            f"only the release owner, {row.release_owner}, may {action} release "
            f"{row.release_id} (--as {actor})"
        )


def _slot_free(locked: Locked, slot: str, action: str) -> None:
    holder = locked.holders.get(slot)
    if holder is not None and holder.release_id != locked.release.release_id:
        raise ReleaseError(
            f"cannot {action} release {locked.release.release_id}: workflow "
            f"{holder.workflow_id} already has release {holder.release_id} {holder.state}; "
            "promote, reject or roll it back first"
        )


def _actor(actor: str) -> str:
    name = actor.strip()
    if not name:
        raise ReleaseError("--as: an actor name is required")
    return name


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _required(reason: str, action: str) -> str:
    text = _text(reason)
    if text is None:
        raise ReleaseError(f"--reason: say why you {action} the release")
    return text


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ReportError(f"{path}: cannot read report: {exc.strerror or exc}") from exc
    return digest.hexdigest()
