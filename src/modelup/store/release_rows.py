"""The values the release store reads and writes: a release, its events, a workflow's pin, and
the change a transition makes. Plain data (JSON columns as dicts), so that the store never needs
``modelup.release``; that package gives them meaning."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from modelup.store.serve_rows import Containment

CHANGE_SLOT: Final = "change"
"""Held by the one approved change of a workflow in flight (approved, in canary or shadow)."""
SERVING_SLOT: Final = "serving"
"""Held by the promoted release the workflow's pin names."""
PIN_COLUMNS = (
    "workflow_id",
    "release_id",
    "requested_model",
    "model",
    "system_fingerprints",
    "pinned_at",
    "pinned_by",
    "previous_release_id",
    "previous_requested_model",
    "previous_model",
    "previous_system_fingerprints",
    "revision",
)


@dataclass(frozen=True, slots=True)
class PinnedIdentity:
    """Who actually answered: the resolved ``model`` and the ``system_fingerprint`` values an
    endpoint reported for a requested model id (never the alias alone)."""

    requested_model: str
    model: str
    system_fingerprints: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "requested_model": self.requested_model,
            "model": self.model,
            "system_fingerprints": list(self.system_fingerprints),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PinnedIdentity:
        return cls(
            str(data["requested_model"]),
            str(data["model"]),
            tuple(str(fp) for fp in data.get("system_fingerprints") or ()),
        )


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    release_id: str
    number: int
    workflow_id: str
    state: str
    revision: int
    """Counts the changes of this release; each transition adds one."""
    slot: str | None
    release_owner: str
    previous_model: str
    candidate_model: str
    verdict: str | None
    record: dict[str, Any]
    source: str
    source_sha256: str
    evidence: dict[str, Any] | None
    approval: dict[str, Any] | None
    rollout: dict[str, Any]
    pin: dict[str, Any] | None
    replaced_pin: dict[str, Any] | None
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    """One transition of a release, appended to its event log."""

    release_id: str
    number: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PinRow:
    """What a workflow serves: its pinned identity (and the release that pinned it, if any),
    and the previous last-known-good one, which a rollback restores."""

    workflow_id: str
    release_id: str | None
    identity: PinnedIdentity
    pinned_at: datetime
    pinned_by: str
    previous_release_id: str | None
    previous: PinnedIdentity | None
    revision: int


class Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()
"""``Update.slot``: leave the slot as it is."""


@dataclass(frozen=True, slots=True)
class Update:
    """A change of one release and the event it appends."""

    release_id: str
    to_state: str
    action: str
    actor: str
    at: datetime
    reason: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    columns: Mapping[str, Any] = field(default_factory=dict)
    """New values of ``verdict`` and the JSON columns (``evidence``, ``approval``, ``rollout``,
    ``pin``, ``replaced_pin``)."""
    slot: str | Keep | None = KEEP


@dataclass(frozen=True, slots=True)
class PinWrite:
    """The whole new pin of a workflow."""

    release_id: str | None
    identity: PinnedIdentity
    pinned_at: datetime
    pinned_by: str
    previous_release_id: str | None
    previous: PinnedIdentity | None


@dataclass(frozen=True, slots=True)
class Change:
    """What a transition writes: updates of the release and of any other release of its
    workflow (one it supersedes or restores), applied in order (a slot is freed before it is
    taken), and the workflow's new pin, if it changes."""

    updates: tuple[Update, ...]
    pin: PinWrite | None = None
    containment: Containment | Keep | None = KEEP
    """Contain the workflow, lift its containment (``None``), or leave it (``KEEP``)."""


@dataclass(frozen=True, slots=True)
class Locked:
    """What a transition decides on, read in its transaction: the release, the workflow's pin
    and the releases it names (locked), and which releases hold the workflow's slots."""

    release: ReleaseRow
    pin: PinRow | None
    serving: ReleaseRow | None
    """The release the pin names."""
    previous: ReleaseRow | None
    """The release the pin's previous identity came from."""
    holders: Mapping[str, ReleaseRow]
    """Slot name to the release holding it, for this workflow."""
    containment: Containment | None = None
    """The workflow's containment, if it is contained."""


def event_row(values: dict[str, Any]) -> EventRow:
    values["at"] = datetime.fromisoformat(values["at"])
    values["detail"] = json.loads(values["detail"])
    values["number"] = int(values["number"])
    return EventRow(**values)


def pin_row(row: Sequence[Any]) -> PinRow:
    v = dict(zip(PIN_COLUMNS, row, strict=True))
    previous = None
    if v["previous_model"] is not None:
        previous = PinnedIdentity(
            v["previous_requested_model"],
            v["previous_model"],
            tuple(json.loads(v["previous_system_fingerprints"] or "[]")),
        )
    return PinRow(
        workflow_id=v["workflow_id"],
        release_id=v["release_id"],
        identity=PinnedIdentity(
            v["requested_model"], v["model"], tuple(json.loads(v["system_fingerprints"]))
        ),
        pinned_at=datetime.fromisoformat(v["pinned_at"]),
        pinned_by=v["pinned_by"],
        previous_release_id=v["previous_release_id"],
        previous=previous,
        revision=int(v["revision"]),
    )
