"""What a release's gate recorded: the evaluation it ran (or the report it attached, by sha256),
the release's own verdict with every reason, each rule as the release judged it, the expected
deltas, the required subsets, and the identities the endpoints reported.

Stored as JSON on the release (``evidence_version``) and exported as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from modelup.config.rules import Authority
from modelup.store.releases import PinnedIdentity

EVIDENCE_VERSION = 1
VerdictName = Literal["Promote", "Hold", "Rollback"]
Status = Literal["passed", "failed", "inconclusive", "missing"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleEvidence(_Record):
    """A gate rule as the release judged it: the evaluation's own, with the authority the
    release's ``gate_classes`` give it, or one the release added for a classed subset."""

    name: str
    figure: str
    scope: str
    origin: Literal["evaluation", "gate_classes"]
    declared_authority: str | None
    """The evaluation's authority for the rule; None for a rule the release added."""
    gate_class: str | None
    """The release's class for the rule's subset or figure, when it has one."""
    authority: Authority
    """What the rule counted with: the class's authority, else the declared one."""
    status: Status
    baseline: float | None
    candidate: float | None
    limit: float | None
    reason: str


class DeltaEvidence(_Record):
    """One expected delta: the figures it read and whether the claim held."""

    figure: str
    scope: str
    greater_is_better: bool
    baseline: float | None
    candidate: float | None
    improvement: float | None
    """candidate - baseline, signed so that positive is better."""
    relative_improvement: float | None
    met: bool
    reason: str


class SubsetEvidence(_Record):
    subset: str
    baseline_cases: int
    candidate_cases: int
    met: bool


class IdentityEvidence(_Record):
    """Who answered for one model, and whether ``alias_resolution`` declared it."""

    role: Literal["previous", "candidate"]
    requested_model: str
    resolved_models: list[str]
    system_fingerprints: list[str]
    expected_model: str
    expected_fingerprint: str | None
    declared: bool
    reasons: list[str]


class IdentityRecord(_Record):
    requested_model: str
    model: str
    system_fingerprints: list[str] = []

    def pinned(self) -> PinnedIdentity:
        return PinnedIdentity(self.requested_model, self.model, tuple(self.system_fingerprints))

    def describe(self) -> str:
        prints = ", ".join(self.system_fingerprints)
        return f"{self.model} ({prints})" if prints else self.model


class Evidence(_Record):
    """The evidence a gate recorded on a release."""

    evidence_version: int = EVIDENCE_VERSION
    gated_at: datetime
    gated_by: str
    source: Literal["run", "report"]
    """``run``: the release's evaluation ran; ``report``: an existing report was attached."""
    run_id: str
    report_path: str
    report_sha256: str
    """Of the report file as it was when the gate read it."""
    workflow: str
    workflow_version: str
    dataset_path: str
    dataset_sha256: str
    case_count: int
    prompt_id: str
    prompt_sha256: str
    mode: str
    client: str
    evaluation_verdict: VerdictName
    """The evaluation's own verdict on the candidate, before the release's checks."""
    verdict: VerdictName
    """The release's verdict: the evaluation's, reclassified by ``gate_classes``, and held by
    every release check that fails closed."""
    reasons: list[str]
    rules: list[RuleEvidence]
    expected_deltas: list[DeltaEvidence]
    required_subsets: list[SubsetEvidence]
    identities: list[IdentityEvidence]
    errored_calls: dict[str, int]
    """Requested model id → calls that errored in the evaluation."""
    candidate_identity: IdentityRecord | None
    """The single identity the candidate answered as: what promotion pins. None when there was
    none to pin (the gate then holds)."""
    previous_identity: IdentityRecord | None
    """The single identity the previous model answered as, when it had one."""

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
