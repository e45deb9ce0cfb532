"""What a workflow serves right now, read from the store: the stable arm (the pinned identity),
the last-known-good one behind it, a canary's or shadow's candidate and share, and whether the
workflow is contained. A snapshot, re-read every few seconds by the app (``ServeState``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from modelup.release.record import RolloutScope
from modelup.release.states import State
from modelup.store.release_rows import CHANGE_SLOT, SERVING_SLOT, PinnedIdentity, PinRow, ReleaseRow
from modelup.store.serve_rows import Containment
from modelup.store.serving import ServingStore

Arm = Literal["stable", "canary", "shadow"]
DriftRule = Literal["flag", "fallback", "reject"]
_SCOPE_KEYS = ("kind", "steps", "interval", "must_have_data", "failure_limit", "metrics")


@dataclass(frozen=True, slots=True)
class Target:
    """Where an arm's requests go: the requested model id, the identity it must answer as, the
    release it serves under, and that release's rule for identity drift."""

    requested_model: str
    expected: PinnedIdentity | None
    release_id: str | None
    drift_rule: DriftRule = "flag"

    def drifted(self, resolved: str | None, fingerprint: str | None) -> bool:
        """The endpoint answered as another identity than the pinned one."""
        if self.expected is None:
            return False
        if resolved is not None and resolved != self.expected.model:
            return True
        prints = self.expected.system_fingerprints
        return bool(prints) and fingerprint is not None and fingerprint not in prints


@dataclass(frozen=True, slots=True)
class Rollout:
    """A change in flight: a canary (with its step and window), a shadow, or a paused canary."""

    release_id: str
    state: str
    target: Target
    scope: RolloutScope
    step: int = 0
    window: int = 0
    window_started_at: datetime | None = None
    failures: int = 0
    last_analysis: dict[str, Any] | None = None

    @property
    def percent(self) -> float:
        """The canary's share of traffic now: its step's percent; 0 unless in canary."""
        if self.state != State.CANARY or not self.scope.steps:
            return 0.0
        return float(self.scope.steps[min(self.step, len(self.scope.steps) - 1)])


@dataclass(frozen=True, slots=True)
class WorkflowState:
    workflow_id: str
    pin: PinRow | None = None
    stable: Target | None = None
    """Where requests go: the pinned identity (nothing to serve when ``None``)."""
    last_known_good: Target | None = None
    """The pin's previous identity, the target of ``fallback`` on the stable arm."""
    serving: ReleaseRow | None = None
    rollout: Rollout | None = None
    containment: Containment | None = None

    @property
    def contained(self) -> bool:
        return self.containment is not None

    @property
    def canary(self) -> Rollout | None:
        """The canary that takes a share of traffic now (none while contained)."""
        rollout = self.rollout
        if rollout is None or self.contained or rollout.state != State.CANARY:
            return None
        return rollout

    @property
    def shadow(self) -> Rollout | None:
        rollout = self.rollout
        if rollout is None or self.contained or rollout.state != State.SHADOW:
            return None
        return rollout


def drift_rule(row: ReleaseRow | None) -> DriftRule:
    rule = row.record.get("on_identity_drift") if row is not None else None
    if rule == "fallback":
        return "fallback"
    return "reject" if rule == "reject" else "flag"


def read_state(store: ServingStore, workflow_id: str) -> WorkflowState:
    """The workflow's state in ``store`` now (blocking: called on the store's thread)."""
    pins = store.pins(workflow_id)
    pin = pins[0] if pins else None
    slotted = {row.slot: row for row in store.slotted(workflow_id)}
    serving, change = slotted.get(SERVING_SLOT), slotted.get(CHANGE_SLOT)
    stable = last_known_good = None
    if pin is not None:
        identity = pin.identity
        stable = Target(identity.requested_model, identity, pin.release_id, drift_rule(serving))
        if pin.previous is not None:
            previous = pin.previous
            last_known_good = Target(previous.requested_model, previous, pin.previous_release_id)
    elif change is not None and change.evidence is not None:
        # A workflow's first release in canary or shadow: the stable arm is the previous model
        # as its gate saw it answer.
        seen = change.evidence.get("previous_identity")
        if isinstance(seen, dict):
            identity = PinnedIdentity.from_json(seen)
            stable = Target(identity.requested_model, identity, None)
    rollout = None
    live = (State.CANARY, State.SHADOW, State.PAUSED)
    if change is not None and change.state in live and change.pin is not None:
        rollout = _rollout(change)
    return WorkflowState(
        workflow_id=workflow_id,
        pin=pin,
        stable=stable,
        last_known_good=last_known_good,
        serving=serving,
        rollout=rollout,
        containment=store.containment(workflow_id),
    )


def _rollout(change: ReleaseRow) -> Rollout:
    assert change.pin is not None
    data = change.rollout
    scope = RolloutScope.model_validate({k: v for k, v in data.items() if k in _SCOPE_KEYS})
    identity = PinnedIdentity.from_json(change.pin)
    started = data.get("window_started_at")
    return Rollout(
        release_id=change.release_id,
        state=change.state,
        target=Target(identity.requested_model, identity, change.release_id, drift_rule(change)),
        scope=scope,
        step=int(data.get("step", 0)),
        window=int(data.get("window", 0)),
        window_started_at=datetime.fromisoformat(started) if started else None,
        failures=int(data.get("failures", 0)),
        last_analysis=data.get("last_analysis"),
    )


def state_json(state: WorkflowState) -> dict[str, Any]:
    """What ``GET /v1/workflows`` says of a workflow's release state."""
    pin = state.pin
    rollout = state.rollout
    return {
        "pinned": None if pin is None else {"release_id": pin.release_id, **pin.identity.to_json()},
        "last_known_good": None
        if pin is None or pin.previous is None
        else {"release_id": pin.previous_release_id, **pin.previous.to_json()},
        "serving_release": None
        if state.serving is None
        else {"release_id": state.serving.release_id, "state": state.serving.state},
        "rollout": None
        if rollout is None
        else {
            "release_id": rollout.release_id,
            "state": rollout.state,
            "kind": rollout.scope.kind,
            "candidate": rollout.target.expected.to_json() if rollout.target.expected else None,
            "percent": 0.0 if state.contained else rollout.percent,
            "step": rollout.step,
            "steps": list(rollout.scope.steps),
            "window": rollout.window,
            "failures": rollout.failures,
            "last_analysis": rollout.last_analysis,
        },
        "contained": state.containment.to_json() if state.containment else None,
    }
