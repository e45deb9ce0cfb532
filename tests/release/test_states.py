"""The state machine: what each state allows, and refusals that name the state and the way on."""

from __future__ import annotations

import pytest

from modelup.errors import ReleaseError
from modelup.release.states import ALLOWED, FINAL, Action, State, allowed_actions, require

EXPECTED = {
    State.PROPOSED: ["gate", "reject"],
    State.GATED: ["gate", "approve", "reject"],
    State.APPROVED: ["reject", "promote"],
    State.CANARY: ["promote", "rollback", "analyze", "contain", "resume"],
    State.SHADOW: ["promote", "rollback", "contain", "resume"],
    State.PAUSED: ["rollback", "contain", "resume"],
    State.PROMOTED: ["rollback", "contain", "resume"],
    State.SUPERSEDED: [],
    State.REJECTED: [],
    State.ROLLED_BACK: [],
}


@pytest.mark.parametrize("state", list(State))
def test_each_state_allows_exactly_its_actions(state: State) -> None:
    assert allowed_actions(state) == EXPECTED[state]
    for action in Action:
        if action.value in EXPECTED[state]:
            require("rel-1", state, action)
        else:
            with pytest.raises(ReleaseError, match=f"release rel-1 is {state.value}: cannot"):
                require("rel-1", state, action)


def test_refusals_say_what_is_allowed() -> None:
    with pytest.raises(
        ReleaseError, match=r"cannot approve it \(allowed in promoted: rollback, contain, resume\)"
    ):
        require("rel-7", State.PROMOTED, Action.APPROVE)
    with pytest.raises(
        ReleaseError, match=r"cannot promote it \(allowed in proposed: gate, reject"
    ):
        require("rel-7", State.PROPOSED, Action.PROMOTE)
    with pytest.raises(ReleaseError, match=r"cannot gate it \(rolled_back is final\)"):
        require("rel-7", State.ROLLED_BACK, Action.GATE)
    with pytest.raises(ReleaseError, match="roll back the release that serves now to restore it"):
        require("rel-7", State.SUPERSEDED, Action.ROLLBACK)


def test_final_states_allow_nothing() -> None:
    for state in FINAL:
        assert not any(state in states for states in ALLOWED.values())
