"""What the grader's judgements show: figures beside the deterministic ones.

Pairwise, per candidate: the win, loss and tie rates (and the net win rate, wins minus losses)
over every trial, each with a seeded bootstrap interval that resamples whole cases; the share of
pairs whose two orders disagreed (a tie, by the swap rule); the error rate. An errored judgement
is neither a win, a loss nor a tie: it lowers all three. Rubric, per model: the mean of each
criterion over the answers graded and the mean of those, and each candidate's change from the
baseline paired by case. Where the grader prefers an answer that failed deterministic checks the
other answer passed, the conflict is listed.

How these figures enter the gate is ``decide.grader_rules``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from modelup.decide.bootstrap import paired_bootstrap_ci
from modelup.decide.paired import StatisticsSettings, mean_interval
from modelup.evaluate.grading import GraderPlan, Outcome, PairJudgement, RubricJudgement, Tally
from modelup.evaluate.grading_run import Grading
from modelup.evaluate.scoring import CaseResult
from modelup.models.chat import Usage

PAIRWISE_FIGURES = (
    "grader_win_rate",
    "grader_loss_rate",
    "grader_tie_rate",
    "grader_net_win_rate",
    "grader_disagreement_rate",
    "grader_error_rate",
)
RUBRIC_SCORE = "rubric_score"


def rubric_figure(criterion: str) -> str:
    return f"rubric_{criterion}_score"


def grader_figure_names(plan: GraderPlan) -> tuple[str, ...]:
    """The figures a grader adds to every summary, in report order."""
    names: tuple[str, ...] = PAIRWISE_FIGURES if plan.pairwise else ()
    if plan.rubric:
        names += (RUBRIC_SCORE, *(rubric_figure(c.name) for c in plan.rubric))
    return names


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate over the trials, and its bootstrap interval over whole cases."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Conflict:
    """A trial where the grader preferred an answer that failed deterministic checks the other
    answer passed."""

    case_id: str
    epoch: int
    preferred: Literal["baseline", "candidate"]
    failed_checks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairwiseFigures:
    """One candidate against the baseline, as the grader saw it."""

    candidate: str
    pairs: int
    wins: int
    losses: int
    ties: int
    errors: int
    by_contract: int
    """Pairs decided without the grader: one answer or both were not in the contract."""
    disagreements: int
    win_rate: Rate
    loss_rate: Rate
    tie_rate: Rate
    net_win_rate: Rate
    disagreement_rate: float | None
    """Disagreements over the pairs the grader answered in both orders."""
    error_rate: float


@dataclass(frozen=True, slots=True)
class RubricFigures:
    """One model's rubric scores: each criterion's mean over the graded answers, and theirs."""

    model: str
    graded: int
    errored: int
    skipped: int
    criteria: Mapping[str, float | None]
    score: float | None


@dataclass(frozen=True, slots=True)
class RubricChange:
    """A candidate's rubric score minus the baseline's, paired by case, with its interval."""

    candidate: str
    n: int
    """Cases both answers of which were graded."""
    delta: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class GraderEvidence:
    """Everything the grader's judgements show about a run."""

    grading: Grading
    trials: tuple[tuple[str, int], ...]
    """(case id, epoch) of every trial position."""
    models: tuple[str, ...]
    """Every model of the run, the baseline first."""
    pairwise: tuple[PairwiseFigures, ...]
    rubric: tuple[RubricFigures, ...]
    rubric_changes: tuple[RubricChange, ...]
    conflicts: tuple[tuple[Conflict, ...], ...]
    """Per candidate: trials where the grader's preference and the checks disagree."""
    statistics: StatisticsSettings
    total: Tally
    """Every grader call of the run."""
    cost_usd: float | None
    """What grading cost at the grader's price; ``None`` without one."""


def grader_evidence(
    grading: Grading,
    results: Sequence[Sequence[CaseResult]],
    models: Sequence[str],
    settings: StatisticsSettings,
) -> GraderEvidence:
    """The figures of ``grading``; ``results`` (full or slim) are every model's scored trials in
    position order, the baseline first, and ``models`` their ids."""
    trials = tuple((result.case_id, result.epoch) for result in results[0])
    cases = _cases(trials)
    pairwise = tuple(
        _pairwise(models[index + 1], pairs, cases, settings)
        for index, pairs in enumerate(grading.pairs)
    )
    rubric = tuple(
        _rubric(model, judged, grading.plan)
        for model, judged in zip(models, grading.rubric, strict=False)
    )
    changes = []
    for index in range(1, len(grading.rubric)):
        change = _rubric_change(models[index], grading.rubric, index, cases, settings)
        if change is not None:
            changes.append(change)
    conflicts = tuple(_conflicts(grading, results, index) for index in range(1, len(results)))
    total = sum_tallies(grading.tallies.values())
    price = grading.plan.target.price
    cost = (
        price.cost_usd(Usage(total.prompt_tokens, total.completion_tokens))
        if price is not None
        else None
    )
    return GraderEvidence(
        grading=grading,
        trials=trials,
        models=tuple(models),
        pairwise=pairwise,
        rubric=rubric,
        rubric_changes=tuple(changes),
        conflicts=conflicts,
        statistics=settings,
        total=total,
        cost_usd=cost,
    )


def sum_tallies(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.calls += tally.calls
        total.failed += tally.failed
        total.cached += tally.cached
        total.prompt_tokens += tally.prompt_tokens
        total.completion_tokens += tally.completion_tokens
    return total


def _cases(trials: Sequence[tuple[str, int]]) -> list[list[int]]:
    """Trial positions grouped by case, in case order."""
    groups: dict[str, list[int]] = {}
    for position, (case_id, _) in enumerate(trials):
        groups.setdefault(case_id, []).append(position)
    return list(groups.values())


def _interval(values: Sequence[float], settings: StatisticsSettings) -> tuple[float, float, float]:
    """The mean of per-case ``values`` and its bootstrap interval."""
    boot = mean_interval(values, settings)
    return boot.delta, boot.low, boot.high


def _rate(
    pairs: Sequence[PairJudgement],
    cases: Sequence[Sequence[int]],
    value: Mapping[Outcome, float],
    settings: StatisticsSettings,
) -> Rate:
    """The mean of ``value[outcome]`` (0 for any other outcome) over every trial."""
    per_case = [
        math.fsum(value.get(pairs[position].outcome, 0.0) for position in group) / len(group)
        for group in cases
    ]
    return Rate(*_interval(per_case, settings))


def _pairwise(
    candidate: str,
    pairs: Sequence[PairJudgement],
    cases: Sequence[Sequence[int]],
    settings: StatisticsSettings,
) -> PairwiseFigures:
    def count(outcome: Outcome) -> int:
        return sum(pair.outcome == outcome for pair in pairs)

    answered = [pair for pair in pairs if pair.by_grader and pair.outcome != "error"]
    disagreements = sum(pair.disagreed for pair in answered)
    return PairwiseFigures(
        candidate=candidate,
        pairs=len(pairs),
        wins=count("win"),
        losses=count("loss"),
        ties=count("tie"),
        errors=count("error"),
        by_contract=sum(not pair.by_grader for pair in pairs),
        disagreements=disagreements,
        win_rate=_rate(pairs, cases, {"win": 1.0}, settings),
        loss_rate=_rate(pairs, cases, {"loss": 1.0}, settings),
        tie_rate=_rate(pairs, cases, {"tie": 1.0}, settings),
        net_win_rate=_rate(pairs, cases, {"win": 1.0, "loss": -1.0}, settings),
        disagreement_rate=disagreements / len(answered) if answered else None,
        error_rate=count("error") / len(pairs),
    )


def _rubric(model: str, judged: Sequence[RubricJudgement], plan: GraderPlan) -> RubricFigures:
    graded = [(judgement, judgement.scores) for judgement in judged if judgement.scores]
    criteria = {
        criterion.name: (
            math.fsum(scores[criterion.name] for _, scores in graded) / len(graded)
            if graded
            else None
        )
        for criterion in plan.rubric
    }
    means = [mean for judgement, _ in graded if (mean := judgement.mean) is not None]
    return RubricFigures(
        model=model,
        graded=len(graded),
        errored=sum(judgement.error is not None for judgement in judged),
        skipped=sum(judgement.skipped is not None for judgement in judged),
        criteria=criteria,
        score=math.fsum(means) / len(means) if means else None,
    )


def _case_means(judged: Sequence[RubricJudgement], group: Sequence[int]) -> float | None:
    means = [mean for position in group if (mean := judged[position].mean) is not None]
    return math.fsum(means) / len(means) if means else None


def _rubric_change(
    candidate: str,
    rubric: Sequence[Sequence[RubricJudgement]],
    index: int,
    cases: Sequence[Sequence[int]],
    settings: StatisticsSettings,
) -> RubricChange | None:
    """Over the cases where both the baseline's and the candidate's answers were graded."""
    base, cand = [], []
    for group in cases:
        b, c = _case_means(rubric[0], group), _case_means(rubric[index], group)
        if b is not None and c is not None:
            base.append(b)
            cand.append(c)
    if not base:
        return None
    boot = paired_bootstrap_ci(
        base,
        cand,
        confidence=settings.confidence,
        resamples=settings.resamples,
        seed=settings.seed,
    )
    return RubricChange(candidate, len(base), boot.delta, boot.low, boot.high)


def _preferences(grading: Grading, index: int) -> list[Literal["baseline", "candidate"] | None]:
    """Which answer of each trial the grader preferred: from the pairwise verdicts when there
    are any, else from the rubric means; ``None`` for neither."""
    preferred: list[Literal["baseline", "candidate"] | None] = []
    if grading.pairs:
        for pair in grading.pairs[index - 1]:
            won = {"win": "candidate", "loss": "baseline"}.get(pair.outcome)
            preferred.append("candidate" if won == "candidate" else "baseline" if won else None)
        return preferred
    for base, cand in zip(grading.rubric[0], grading.rubric[index], strict=True):
        b, c = base.mean, cand.mean
        if b is None or c is None or b == c:
            preferred.append(None)
        else:
            preferred.append("candidate" if c > b else "baseline")
    return preferred


def _conflicts(
    grading: Grading, results: Sequence[Sequence[CaseResult]], index: int
) -> tuple[Conflict, ...]:
    """Trials where the grader preferred the answer that failed checks the other passed. Pairs
    decided without the grader (an answer outside the contract) cannot conflict."""
    if not grading.pairs and not grading.rubric:
        return ()
    found = []
    by_grader = (
        [pair.by_grader for pair in grading.pairs[index - 1]]
        if grading.pairs
        else [True] * len(results[0])
    )
    for position, preferred in enumerate(_preferences(grading, index)):
        if preferred is None or not by_grader[position]:
            continue
        base, cand = results[0][position], results[index][position]
        winner, loser = (cand, base) if preferred == "candidate" else (base, cand)
        passed = {check.name for check in loser.checks if check.passed}
        failed = tuple(
            check.name for check in winner.checks if not check.passed and check.name in passed
        )
        if failed:
            found.append(Conflict(winner.case_id, winner.epoch, preferred, failed))
    return tuple(found)
