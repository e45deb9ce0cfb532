"""The release state machine: which action each state allows, and the refusal that names both.

    proposed ──gate──▶ gated ──approve──▶ approved ──promote──▶ promoted ──rollback──▶ rolled_back
                 ▲ └─gate─┘                    │                    ▲   │
                 │                             └─promote─▶ canary ──┘   └─(another release
                 │                                         shadow ──┘      promoted)─▶ superseded
    reject: proposed, gated, approved ──▶ rejected
    rollback: canary, shadow ──▶ rolled_back (the pin never left the last-known-good)

A superseded release is promoted again when the release that superseded it is rolled back.
``rejected`` and ``rolled_back`` are final. The run-time shell (``modelup serve``) analyses a
canary (``analyze``): a step passed moves it on, the last one promotes it, a failure beyond its
``failure_limit`` rolls it back, and too little data pauses it (``paused``) until a human
resumes or rolls it back. ``contain`` restricts a workflow's served answers (escalation forced,
read-only next steps) whatever its release's state; ``resume`` lifts that, or continues a paused
canary.
"""

from __future__ import annotations

from enum import StrEnum

from modelup.errors import ReleaseError


class State(StrEnum):
    PROPOSED = "proposed"
    GATED = "gated"
    APPROVED = "approved"
    CANARY = "canary"
    SHADOW = "shadow"
    PROMOTED = "promoted"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"
    PAUSED = "paused"


class Action(StrEnum):
    GATE = "gate"
    APPROVE = "approve"
    REJECT = "reject"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    ANALYZE = "analyze"
    CONTAIN = "contain"
    RESUME = "resume"


_LIVE = frozenset({State.PROMOTED, State.CANARY, State.SHADOW, State.PAUSED})
ALLOWED: dict[Action, frozenset[State]] = {
    Action.GATE: frozenset({State.PROPOSED, State.GATED}),
    Action.APPROVE: frozenset({State.GATED}),
    Action.REJECT: frozenset({State.PROPOSED, State.GATED, State.APPROVED}),
    Action.PROMOTE: frozenset({State.APPROVED, State.CANARY, State.SHADOW}),
    Action.ROLLBACK: _LIVE,
    Action.ANALYZE: frozenset({State.CANARY}),
    Action.CONTAIN: _LIVE,
    Action.RESUME: _LIVE,
}
"""Action → the states it may be taken in."""

FINAL = frozenset({State.REJECTED, State.ROLLED_BACK})


def allowed_actions(state: str) -> list[str]:
    """The actions ``state`` allows, in the order of a release's life."""
    return [action.value for action, states in ALLOWED.items() if state in states]


def require(release_id: str, state: str, action: Action) -> None:
    """Refuse ``action`` unless ``state`` allows it, naming the state and what it allows."""
    if state in ALLOWED[action]:
        return
    allowed = allowed_actions(state)
    if allowed:
        what = f"allowed in {state}: {', '.join(allowed)}"
    elif state == State.SUPERSEDED:
        what = "it is superseded; roll back the release that serves now to restore it"
    else:
        what = f"{state} is final"
    raise ReleaseError(f"release {release_id} is {state}: cannot {action} it ({what})")
