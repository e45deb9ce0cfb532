"""The JSON report: the versioned, on-disk record of one run.

Other tools read this file, so every change to it bumps ``SCHEMA_VERSION`` and is documented in
the README. Field order is declaration order, so the JSON is written in a stable key order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1

Figures = dict[str, int | float | None]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckRecord(_Record):
    name: str
    passed: bool
    score: float
    note: str | None = None


class UsageRecord(_Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CaseRecord(_Record):
    """One case for one model: what it said, what was parsed, how each check went."""

    case_id: str
    family: str
    subsets: list[str]
    epoch: int = 0
    passed: bool
    strict_valid: bool
    valid: bool
    repairs: list[str]
    checks: list[CheckRecord]
    notes: list[str]
    raw_output: str | None
    output: dict[str, Any] | None
    latency_ms: float | None
    usage: UsageRecord
    resolved_model: str | None
    system_fingerprint: str | None
    error: str | None
    cached: bool = False


class ModelRecord(_Record):
    """One model's run: its identity as asked and as answered, its figures and its cases."""

    role: Literal["baseline", "candidate"]
    requested_model: str
    endpoint: str
    resolved_models: list[str]
    """Every distinct model name the endpoint reported answering with, in order first seen."""
    alias_resolved: bool
    """True when an answer came from a model other than the one requested (alias resolution)."""
    summary: Figures
    families: dict[str, Figures]
    subsets: dict[str, Figures]
    cases: list[CaseRecord]


class RuleRecord(_Record):
    name: str
    figure: str
    comparison: str
    threshold: float
    authority: Literal["block", "conditional", "signal"]
    baseline: float | None
    candidate: float | None
    limit: float | None
    passed: bool
    reason: str


class DecisionRecord(_Record):
    """The gate's verdict on one candidate against the baseline."""

    candidate: str
    verdict: Literal["Promote", "Hold", "Rollback"]
    reasons: list[str]
    authoritative_model: str
    """The model that serves traffic after this run: the candidate only on Promote in compare
    mode; in shadow mode the baseline stays authoritative whatever the verdict."""
    rules: list[RuleRecord]


class DatasetRecord(_Record):
    path: str
    sha256: str
    case_count: int


class PromptRecord(_Record):
    id: str
    sha256: str


class WorkflowRecord(_Record):
    name: str
    version: str


class Report(_Record):
    """A whole run. ``models`` lists the baseline first, then each candidate."""

    schema_version: int = SCHEMA_VERSION
    tool_version: str
    run_id: str
    started_at: datetime
    finished_at: datetime
    mode: Literal["compare", "shadow"]
    client: Literal["mock", "live"]
    workflow: WorkflowRecord
    dataset: DatasetRecord
    prompt: PromptRecord
    config: dict[str, Any]
    models: list[ModelRecord]
    decision: DecisionRecord
    """The decision on the recommended candidate (the only one when there is one)."""
    decisions: list[DecisionRecord]
    """One decision per candidate, in the order the candidates were given."""

    @property
    def baseline(self) -> ModelRecord:
        return next(record for record in self.models if record.role == "baseline")

    @property
    def candidates(self) -> list[ModelRecord]:
        return [record for record in self.models if record.role == "candidate"]

    def model(self, name: str) -> ModelRecord:
        return next(record for record in self.models if record.requested_model == name)
