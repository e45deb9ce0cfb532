"""What a canary's analysis, a containment and a resume write: the transitions the run-time shell
and the on-call engineer make on a live release. Decided here, on the rows
``ReleaseStore.transition`` locked, so that of two replicas analysing one window only the first
writes (the other finds the window already moved on and writes nothing).

The rollout JSON column of a canary holds ``step`` (index into ``steps``), ``window`` (the
analysis window, counted from 0 over the whole canary), ``window_started_at``, ``failures``
(failed analyses so far) and ``last_analysis``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelup.errors import ReleaseError
from modelup.release.analysis import Measurement
from modelup.release.evidence import Evidence
from modelup.release.record import RolloutScope
from modelup.release.serving import serve
from modelup.release.states import Action, State, require
from modelup.store.releases import KEEP, Change, Containment, Locked, Update


def analyzed(
    locked: Locked,
    measurement: Measurement,
    *,
    step: int,
    window: int,
    actor: str,
    at: datetime,
) -> Change:
    """The canary's next state after ``measurement`` of window ``window`` at step ``step``; no
    change when the release is no longer in that window (another replica analysed it)."""
    row = locked.release
    rollout = dict(row.rollout)
    if row.state != State.CANARY or rollout.get("step", 0) != step:
        return Change(())
    if rollout.get("window", 0) != window:
        return Change(())
    scope = RolloutScope.model_validate({k: v for k, v in rollout.items() if k in _SCOPE_KEYS})
    steps = scope.steps
    detail: dict[str, Any] = {"window": window, "step": step, **measurement.to_json()}
    rollout["last_analysis"] = {"at": at.isoformat(), **detail}
    reason = "; ".join(measurement.reasons)
    if measurement.status == "inconclusive":
        update = Update(
            row.release_id,
            State.PAUSED,
            Action.ANALYZE,
            actor,
            at,
            f"paused: {reason}",
            detail=detail,
            columns={"rollout": rollout},
        )
        return Change((update,))
    if measurement.status == "failed":
        failures = int(rollout.get("failures", 0)) + 1
        rollout["failures"] = failures
        if failures > scope.failure_limit:
            limit = scope.failure_limit
            why = f"canary analysis failed ({failures} > failureLimit {limit}): {reason}"
            update = Update(
                row.release_id,
                State.ROLLED_BACK,
                Action.ROLLBACK,
                actor,
                at,
                why,
                detail=detail,
                columns={"rollout": rollout},
                slot=None,
            )
            containment = Containment(row.release_id, at, actor, f"automatic rollback: {why}")
            return Change((update,), containment=containment)
        return Change((_next_window(row.release_id, rollout, step, at, actor, reason, detail),))
    if step + 1 < len(steps):
        rollout.update(step=step + 1)
        update = _next_window(
            row.release_id,
            rollout,
            step + 1,
            at,
            actor,
            f"analysis passed: canary to {steps[step + 1]:g}%",
            detail,
        )
        return Change((update,))
    identity = Evidence.model_validate(row.evidence).candidate_identity if row.evidence else None
    if identity is None:
        raise ReleaseError(f"release {row.release_id}: no gated identity to pin")
    record = Update(
        row.release_id,
        State.CANARY,
        Action.ANALYZE,
        actor,
        at,
        "final step passed",
        detail=detail,
        columns={"rollout": rollout},
    )
    promoted = serve(locked, identity, actor, at)
    return Change((record, *promoted.updates), promoted.pin, containment=KEEP)


_SCOPE_KEYS = ("kind", "steps", "interval", "must_have_data", "failure_limit", "metrics")


def _next_window(
    release_id: str,
    rollout: dict[str, Any],
    step: int,
    at: datetime,
    actor: str,
    reason: str,
    detail: dict[str, Any],
) -> Update:
    rollout.update(window=int(rollout.get("window", 0)) + 1, window_started_at=at.isoformat())
    return Update(
        release_id,
        State.CANARY,
        Action.ANALYZE,
        actor,
        at,
        reason,
        detail={**detail, "next_step": step},
        columns={"rollout": rollout},
    )


def contained(locked: Locked, actor: str, at: datetime, why: str) -> Change:
    """Contain the release's workflow: escalation forced, read-only next steps, no canary or
    shadow traffic, until a human resumes it."""
    row = locked.release
    require(row.release_id, row.state, Action.CONTAIN)
    update = Update(row.release_id, row.state, Action.CONTAIN, actor, at, why)
    return Change((update,), containment=Containment(row.release_id, at, actor, why))


def resumed(locked: Locked, actor: str, at: datetime, why: str | None) -> Change:
    """Lift the workflow's containment, and continue a paused canary in a new window."""
    row = locked.release
    require(row.release_id, row.state, Action.RESUME)
    paused = row.state == State.PAUSED
    if locked.containment is None and not paused:
        raise ReleaseError(
            f"release {row.release_id} is {row.state} and workflow {row.workflow_id} is not "
            "contained: there is nothing to resume"
        )
    columns: dict[str, Any] = {}
    to_state = row.state
    if paused:
        rollout = dict(row.rollout)
        rollout.update(window=int(rollout.get("window", 0)) + 1, window_started_at=at.isoformat())
        columns["rollout"] = rollout
        to_state = State.CANARY
    detail = {"lifted": locked.containment.to_json() if locked.containment else None}
    update = Update(
        row.release_id, to_state, Action.RESUME, actor, at, why, detail=detail, columns=columns
    )
    return Change((update,), containment=None)
