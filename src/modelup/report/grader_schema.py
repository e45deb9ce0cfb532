"""The report's ``grader`` section: the grader model beside the gate, its figures, every
judgement with its reason, and what grading cost. Present only when the run had a grader, so a
run without one writes exactly the report it wrote before (``report.schema``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Side = Literal["baseline", "candidate"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateRecord(_Record):
    """A rate over every trial and its seeded bootstrap interval over whole cases."""

    estimate: float
    low: float
    high: float


class ConflictRecord(_Record):
    """A trial where the grader preferred an answer that failed deterministic checks the other
    answer passed."""

    case_id: str
    epoch: int
    preferred: Side
    failed_checks: list[str]


class PairwiseRecord(_Record):
    """One candidate against the baseline, as the grader saw it."""

    candidate: str
    pairs: int
    wins: int
    losses: int
    ties: int
    errors: int
    decided_by_contract: int
    """Pairs decided without the grader: one answer or both were outside the contract."""
    disagreements: int
    """Pairs whose two orders the grader answered differently (counted as ties)."""
    win_rate: RateRecord
    loss_rate: RateRecord
    tie_rate: RateRecord
    net_win_rate: RateRecord
    """Wins minus losses, over every trial."""
    disagreement_rate: float | None
    error_rate: float


class RubricScoresRecord(_Record):
    """One model's rubric: each criterion's mean over its graded answers, and their mean."""

    model: str
    graded: int
    errored: int
    skipped: int
    criteria: dict[str, float | None]
    score: float | None


class RubricChangeRecord(_Record):
    """A candidate's rubric score minus the baseline's, paired by case."""

    candidate: str
    n: int
    delta: float
    low: float
    high: float


class OrderRecord(_Record):
    """One of a pair's two calls."""

    baseline_shown: Literal["first", "second"]
    preferred: Literal["baseline", "candidate", "tie"] | None
    """``null`` when the call errored."""
    reason: str | None
    error: str | None


class PairCaseRecord(_Record):
    candidate: str
    outcome: Literal["win", "loss", "tie", "error"]
    """For the candidate; ``tie`` too when the two orders disagreed."""
    orders: list[OrderRecord]
    """Empty when the pair was decided without the grader (``note`` says why)."""
    note: str | None


class RubricCaseRecord(_Record):
    model: str
    scores: dict[str, int] | None
    mean: float | None
    reason: str | None
    error: str | None
    skipped: str | None


class GradedCaseRecord(_Record):
    """Every judgement of one trial."""

    case_id: str
    epoch: int
    pairwise: list[PairCaseRecord]
    rubric: list[RubricCaseRecord]


class CriterionRecord(_Record):
    name: str
    description: str


class GraderUsageRecord(_Record):
    """Every grader call of the run, and what it cost."""

    calls: int
    failed: int
    """Calls that failed or answered outside the grader's contract."""
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    """At the grader's configured price; null without one."""


class GraderPriceRecord(_Record):
    input_per_million: float
    output_per_million: float


class GraderRecord(_Record):
    """The grader model, what it did, and what it found."""

    model: str
    endpoint: str
    price: GraderPriceRecord | None
    modes: list[Literal["pairwise", "rubric"]]
    fields: list[str]
    """The contract fields the grader read."""
    rubric: list[CriterionRecord]
    prompt_id: str
    prompt_sha256: str
    confidence: float
    resamples: int
    seed: int
    usage: GraderUsageRecord
    unavailable: str | None
    """Why the grader stopped being asked midway, if it did."""
    pairwise: list[PairwiseRecord]
    rubric_scores: list[RubricScoresRecord]
    rubric_changes: list[RubricChangeRecord]
    conflicts: dict[str, list[ConflictRecord]]
    """Per candidate: trials where the grader's preference and the checks disagree."""
    cases: list[GradedCaseRecord]
