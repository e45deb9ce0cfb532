"""What promotion and rollback write: a rollout started, a release made the serving one (its
predecessor superseded, the workflow pinned to the identity the gate saw answer), and a serving
release rolled back to the previous last-known-good pin. Called inside the store's transaction,
on the locked rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelup.errors import ReleaseError
from modelup.release.evidence import Evidence, IdentityRecord
from modelup.release.states import Action, State
from modelup.store.releases import (
    SERVING_SLOT,
    Change,
    Locked,
    PinnedIdentity,
    PinWrite,
    ReleaseRow,
    Update,
)


def start_rollout(
    row: ReleaseRow, identity: IdentityRecord, kind: str, actor: str, at: datetime
) -> Change:
    rollout: dict[str, Any] = {**row.rollout, "started_at": at.isoformat()}
    detail: dict[str, Any] = {"rollout": kind, "model": identity.model}
    if kind == State.CANARY:
        rollout.update(step=0, window=0, window_started_at=at.isoformat(), failures=0)
        detail["percent"] = rollout["steps"][0]
    update = Update(
        row.release_id,
        State(kind),
        Action.PROMOTE,
        actor,
        at,
        detail=detail,
        columns={"rollout": rollout, "pin": identity.model_dump(mode="json")},
    )
    return Change((update,))


def still_previous(locked: Locked) -> None:
    """A release replaces what its gate compared against: the workflow must still serve its
    ``previous_model`` (or nothing yet)."""
    row, pin = locked.release, locked.pin
    if pin is not None and pin.identity.requested_model != row.previous_model:
        raise ReleaseError(
            f"workflow {row.workflow_id} now serves {pin.identity.requested_model} "
            f"(release {pin.release_id or 'none'}), but release {row.release_id} was gated "
            f"against previous_model {row.previous_model}: propose and gate a release against "
            "what serves now"
        )


def serve(locked: Locked, identity: IdentityRecord, actor: str, at: datetime) -> Change:
    row, pin = locked.release, locked.pin
    still_previous(locked)
    previous_id: str | None = None
    previous: PinnedIdentity | None = None
    if pin is not None:
        previous_id, previous = pin.release_id, pin.identity
    else:
        # The workflow's first pin: the last-known-good is the previous model as the gate saw it
        # (none when it answered as more than one identity: a rollback then has nowhere to go).
        observed = Evidence.model_validate(row.evidence).previous_identity
        previous = observed.pinned() if observed is not None else None
    updates = []
    if locked.serving is not None and locked.serving.release_id != row.release_id:
        updates.append(
            Update(
                locked.serving.release_id,
                State.SUPERSEDED,
                "supersede",
                actor,
                at,
                f"superseded by {row.release_id}",
                slot=None,
            )
        )
    replaced = {"release_id": previous_id, **previous.to_json()} if previous is not None else None
    updates.append(
        Update(
            row.release_id,
            State.PROMOTED,
            Action.PROMOTE,
            actor,
            at,
            detail={"pinned": identity.model_dump(mode="json"), "replaced": replaced},
            columns={"pin": identity.model_dump(mode="json"), "replaced_pin": replaced},
            slot=SERVING_SLOT,
        )
    )
    new_pin = PinWrite(row.release_id, identity.pinned(), at, actor, previous_id, previous)
    return Change(tuple(updates), new_pin)


def restore(locked: Locked, actor: str, at: datetime, why: str) -> Change:
    row, pin = locked.release, locked.pin
    if pin is None or pin.release_id != row.release_id:
        serving = pin.release_id if pin is not None else "nothing"
        raise ReleaseError(
            f"release {row.release_id} is promoted but workflow {row.workflow_id} is served by "
            f"{serving}: only the serving release can be rolled back"
        )
    if pin.previous is None:
        raise ReleaseError(
            f"workflow {row.workflow_id} has no previous last-known-good identity to return to"
        )
    restored = {"release_id": pin.previous_release_id, **pin.previous.to_json()}
    updates = [
        Update(
            row.release_id,
            State.ROLLED_BACK,
            Action.ROLLBACK,
            actor,
            at,
            why,
            detail={"restored": restored},
            slot=None,
        )
    ]
    next_id: str | None = None
    next_previous: PinnedIdentity | None = None
    if locked.previous is not None:
        back = locked.previous
        updates.append(
            Update(
                back.release_id,
                State.PROMOTED,
                "restore",
                actor,
                at,
                f"{row.release_id} rolled back: {why}",
                slot=SERVING_SLOT,
            )
        )
        if back.replaced_pin is not None:
            next_id = back.replaced_pin.get("release_id")
            next_previous = PinnedIdentity.from_json(back.replaced_pin)
    new_pin = PinWrite(pin.previous_release_id, pin.previous, at, actor, next_id, next_previous)
    return Change(tuple(updates), new_pin)
