"""What a workflow serves, read from the store: the pin, the last-known-good, a canary's share,
containment; and the drift test of a target."""

from __future__ import annotations

from pathlib import Path

from modelup.release import Releases
from modelup.serve.state import Target, read_state, state_json
from modelup.store.release_rows import PinnedIdentity
from modelup.store.serving import open_serving_store
from support.serving import CANARY, pinned_store


def test_nothing_released_serves_nothing(tmp_path: Path) -> None:
    with open_serving_store(tmp_path / "store.sqlite") as store:
        state = read_state(store, "incident-triage")
    assert state.stable is None and state.rollout is None and not state.contained
    assert state_json(state)["pinned"] is None


def test_a_canary_takes_its_step_until_the_workflow_is_contained(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    first, second = pinned_store(url, tmp_path / "releases", canary=CANARY)
    with open_serving_store(url) as store:
        state = read_state(store, "incident-triage")
        assert state.stable is not None and state.stable.requested_model == "m-stable"
        assert state.stable.release_id == first
        assert (
            state.last_known_good is not None and state.last_known_good.requested_model == "m-old"
        )
        assert state.canary is not None and state.canary.release_id == second
        assert state.canary.percent == 50 and state.canary.target.requested_model == "m-canary"
        Releases(store).contain(second, actor="oncall", reason="looks wrong")
        contained = read_state(store, "incident-triage")
    assert contained.contained and contained.canary is None and contained.shadow is None
    described = state_json(contained)
    assert (
        described["rollout"]["percent"] == 0.0 and described["contained"]["reason"] == "looks wrong"
    )


def test_drift_is_another_model_or_an_unpinned_fingerprint() -> None:
    target = Target("m", PinnedIdentity("m", "m-2026", ("fp_a",)), "rel-1")
    assert not target.drifted("m-2026", "fp_a")
    assert not target.drifted("m-2026", None)
    assert target.drifted("m-2027", "fp_a")
    assert target.drifted("m-2026", "fp_b")
    assert not Target("m", PinnedIdentity("m", "m"), None).drifted("m", "fp_anything")
