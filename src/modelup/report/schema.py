"""The JSON report: the versioned, on-disk record of one run.

Other tools read this file, so every change to it bumps ``SCHEMA_VERSION`` and is documented in
``docs/report-schema.md``. Field order is declaration order, so the JSON is written in a stable
key order. Every version in ``READABLE_VERSIONS`` is read: fields added since have defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from modelup.config.rules import GateRule
from modelup.report.grader_schema import GraderRecord

SCHEMA_VERSION = 2
"""2: rates over scored cases; ``error_rate``, ``pass_at_k``, ``pass_hat_k``,
``flaky_case_count``, ``identity_drift`` and ``identity_changes`` figures; each model's
``expect_resolved`` and ``identities``; the ranking's tie-break figures and ``decided_by``; the
``rollback_trigger`` authority; a passing rule's reason reads as a pass."""
READABLE_VERSIONS = (1, 2)

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
    cost_usd: float | None = None
    """Estimated cost of the call at the model's configured price; null without a price."""
    resolved_model: str | None
    system_fingerprint: str | None
    error: str | None
    cached: bool = False
    """Answered from the response cache (``latency_ms`` is the original call's)."""


class TrialCaseRecord(_Record):
    case_id: str
    trials: int
    passes: int
    pass_probability: float


class TrialsRecord(_Record):
    """Repeated trials of one model: per-case pass probability, pass@k and pass^k."""

    epochs: int
    temperature: float | None
    seed: int | None
    pass_at_k: dict[str, float]
    """k (1..epochs) → mean over cases of the unbiased pass@k."""
    pass_hat_k: dict[str, float]
    """k (1..epochs) → mean over cases of pass^k (all k attempts pass)."""
    flaky_cases: list[str]
    """Cases passed in some epochs and failed in others."""
    cases: list[TrialCaseRecord]


class IdentityRecord(_Record):
    """One identity the endpoint reported, and how many calls it answered."""

    model: str | None
    system_fingerprint: str | None
    calls: int


class PriceRecord(_Record):
    input_per_million: float
    output_per_million: float


class ModelRecord(_Record):
    """One model's run: its identity as asked and as answered, its figures and its cases."""

    role: Literal["baseline", "candidate"]
    requested_model: str
    endpoint: str
    resolved_models: list[str]
    """Every distinct model name the endpoint reported answering with, in order first seen."""
    alias_resolved: bool
    """True when an answer came from a model other than the one requested (alias resolution)."""
    system_fingerprints: list[str] = []
    """Every distinct ``system_fingerprint`` the endpoint reported, in order first seen."""
    identity_changed: bool = False
    """True when the answering model's name or fingerprint changed during the run."""
    expect_resolved: str | None = None
    """What the requested id was declared to resolve to (``[models."id"] expect_resolved``: a
    name or a glob pattern); null: the requested id itself."""
    identities: list[IdentityRecord] = []
    """Every distinct (resolved model, fingerprint) reported, in order first seen, with the
    calls it answered (schema 2)."""
    price: PriceRecord | None = None
    """The configured price the cost figures were computed at; null when none is known."""
    summary: Figures
    families: dict[str, Figures]
    subsets: dict[str, Figures]
    cases: list[CaseRecord]
    trials: TrialsRecord | None = None


class RuleStatisticsRecord(_Record):
    """The paired statistics a rule that requires significance was judged on."""

    n: int
    """Paired cases in the rule's scope."""
    estimate: float
    """The change (candidate - baseline), or the candidate's figure for floor/ceiling."""
    low: float
    high: float
    confidence: float
    regressions: int
    fixes: int
    p_regression: float
    p_improvement: float
    p_regression_adjusted: float
    """Holm-adjusted across the challengers."""
    p_improvement_adjusted: float
    cases_to_settle: int | None
    """When inconclusive: about how many cases would settle it (None: not estimable)."""


class RuleRecord(GateRule):
    """A gate rule (its declared keys, ``name`` always filled in) and how it fared."""

    baseline: float | None
    candidate: float | None
    limit: float | None
    passed: bool
    reason: str
    status: Literal["passed", "failed", "inconclusive", "missing"] = "passed"
    statistics: RuleStatisticsRecord | None = None


class DecisionRecord(_Record):
    """The gate's verdict on one candidate against the baseline."""

    candidate: str
    verdict: Literal["Promote", "Hold", "Rollback"]
    reasons: list[str]
    authoritative_model: str
    """The model that serves traffic after this run: the candidate only on Promote in compare
    mode; in shadow mode the baseline stays authoritative whatever the verdict."""
    rules: list[RuleRecord]


class ChangeRecord(_Record):
    """Candidate - baseline on one figure, paired by case."""

    delta: float
    low: float
    high: float
    """The seeded paired percentile bootstrap interval."""
    confidence: float
    resamples: int
    seed: int
    p_value: float
    """Two-sided exact test on the per-case changes (McNemar's for the pass rate)."""


class TransitionRecord(_Record):
    case_id: str
    family: str
    subsets: list[str]
    change: Literal["regression", "fix"]
    baseline: float
    """Pass probability (0 or 1 with one epoch)."""
    candidate: float


class ComparisonRecord(_Record):
    """One candidate against the baseline, case by case."""

    candidate: str
    case_count: int
    regressions: int
    """Cases the baseline passed and the candidate failed (with epochs: passed less often)."""
    fixes: int
    unchanged_passed: int
    unchanged_failed: int
    mcnemar_p_value: float
    mcnemar_p_value_holm: float
    """Holm-adjusted across the challengers."""
    pass_rate: ChangeRecord
    quality_score: ChangeRecord | None
    transitions: list[TransitionRecord]


class RankingRecord(_Record):
    rank: int
    candidate: str
    verdict: Literal["Promote", "Hold", "Rollback"]
    quality_score: float | None
    pass_rate: float | None
    pass_rate_delta: float | None
    regressions: int
    fixes: int
    mcnemar_p_value_holm: float
    strict_structured_output_rate: float | None = None
    repair_rate: float | None = None
    decided_by: str | None = None
    """What put this candidate above the next one: ``verdict``, ``quality_score``,
    ``strict_structured_output_rate``, ``repair_rate`` or ``order given``; null for the last."""


class RecommendationRecord(_Record):
    candidate: str
    verdict: Literal["Promote", "Hold", "Rollback"]
    reason: str


class DatasetRecord(_Record):
    path: str
    sha256: str
    case_count: int


class PromptRecord(_Record):
    id: str
    sha256: str


class LabelFreeRecord(_Record):
    """A replay of recorded production requests, which carry no expectations: only figures
    that need none (label-free) are computed and judged."""

    source: str
    """Where the cases came from (``traces:failed``)."""
    figures: list[str]
    """The figures of this run: every one of them label-free."""
    skipped_checks: list[str]
    """The workflow's checks that need expectations: not run, so never counted as failures."""
    skipped_rules: list[str]
    """Gate rules on figures that need expectations (or on subsets and families): not judged."""
    agreement_fields: list[str] = []
    """The answer's fields ``baseline_agreement_rate`` compares with the baseline's answer."""


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
    comparisons: list[ComparisonRecord] = []
    """Paired statistics per candidate, in the order the candidates were given."""
    ranking: list[RankingRecord] = []
    """The candidates best first: verdict, quality score, strict structured output rate, repair
    rate, then the order given."""
    recommended: RecommendationRecord | None = None
    label_free: LabelFreeRecord | None = None
    """Set when the run replayed recorded traces (``--dataset traces:...``)."""
    grader: GraderRecord | None = None
    """The grader model beside the gate (``report.grader_schema``); only when there was one."""

    @model_serializer(mode="wrap")
    def _without_absent_grader(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A run without a grader writes exactly the report it wrote before there were graders.
        data = handler(self)
        if isinstance(data, dict) and data.get("grader", True) is None:
            del data["grader"]
        return data

    @property
    def baseline(self) -> ModelRecord:
        return next(record for record in self.models if record.role == "baseline")

    @property
    def candidates(self) -> list[ModelRecord]:
        return [record for record in self.models if record.role == "candidate"]

    def model(self, name: str) -> ModelRecord:
        return next(record for record in self.models if record.requested_model == name)
