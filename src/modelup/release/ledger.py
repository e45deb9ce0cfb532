"""A release as it is read back from the store: its record, state, evidence, sign-off, pinned
identity and event log, typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from modelup.release.evidence import Evidence, IdentityRecord
from modelup.release.record import ReleaseRecord, parse_record
from modelup.store.releases import EventRow, PinRow, ReleaseRow


class Approval(BaseModel):
    """The owner's sign-off: who, when, on which evidence, and the override it needed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str
    at: datetime
    verdict: Literal["Promote", "Hold", "Rollback"]
    """The verdict approved."""
    report_sha256: str
    """The evidence signed: the gate report's sha256."""
    note: str | None = None
    override: str | None = None
    """Why a Hold was approved anyway; shown wherever the release is shown."""


@dataclass(frozen=True, slots=True)
class Release:
    """One release with everything recorded about it."""

    row: ReleaseRow
    record: ReleaseRecord
    evidence: Evidence | None
    approval: Approval | None
    pin: IdentityRecord | None
    """The identity this release pinned (or will pin, in a canary or shadow)."""
    events: tuple[EventRow, ...]

    @property
    def release_id(self) -> str:
        return self.row.release_id

    @property
    def state(self) -> str:
        return self.row.state

    @property
    def verdict(self) -> str | None:
        return self.row.verdict

    @property
    def override(self) -> str | None:
        return self.approval.override if self.approval is not None else None

    @classmethod
    def from_rows(cls, row: ReleaseRow, events: list[EventRow]) -> Release:
        return cls(
            row=row,
            record=parse_record(dict(row.record), f"release {row.release_id}"),
            evidence=Evidence.model_validate(row.evidence) if row.evidence else None,
            approval=Approval.model_validate(row.approval) if row.approval else None,
            pin=IdentityRecord.model_validate(row.pin) if row.pin else None,
            events=tuple(events),
        )

    def to_json(self) -> dict[str, Any]:
        """Everything about the release, for ``--json`` and ``export --format json``."""
        row = self.row
        return {
            "release_id": row.release_id,
            "workflow_id": row.workflow_id,
            "state": row.state,
            "verdict": row.verdict,
            "override": self.override,
            "release_owner": row.release_owner,
            "previous_model": row.previous_model,
            "candidate_model": row.candidate_model,
            "created_at": row.created_at.isoformat(),
            "created_by": row.created_by,
            "updated_at": row.updated_at.isoformat(),
            "source": row.source,
            "source_sha256": row.source_sha256,
            "record": self.record.model_dump(mode="json"),
            "evidence": self.evidence.to_json() if self.evidence else None,
            "approval": self.approval.model_dump(mode="json") if self.approval else None,
            "rollout": row.rollout,
            "pinned_identity": self.pin.model_dump(mode="json") if self.pin else None,
            "events": [event_json(event) for event in self.events],
        }


def event_json(event: EventRow) -> dict[str, Any]:
    return {
        "number": event.number,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "reason": event.reason,
        "detail": event.detail,
    }


def pin_json(pin: PinRow) -> dict[str, Any]:
    previous = pin.previous
    return {
        "workflow_id": pin.workflow_id,
        "release_id": pin.release_id,
        "requested_model": pin.identity.requested_model,
        "model": pin.identity.model,
        "system_fingerprints": list(pin.identity.system_fingerprints),
        "pinned_at": pin.pinned_at.isoformat(),
        "pinned_by": pin.pinned_by,
        "previous": None
        if previous is None
        else {
            "release_id": pin.previous_release_id,
            "requested_model": previous.requested_model,
            "model": previous.model,
            "system_fingerprints": list(previous.system_fingerprints),
        },
    }
