"""Repeated trials: what replaying every case K times (``--epochs K``) says about one model.

A model that passes a case once may not pass it every time. Per case, the pass probability is
the share of epochs passed; over the eval set, pass@k is the chance that at least one of k
attempts passes and pass^k the chance that all k do (both the unbiased estimators over the K
epochs observed, averaged over cases). A case that passed some epochs and failed others is
flaky: its outcome is a coin toss, not a property of the model.

Errored trials are evidence of nothing about the model's answers: they are left out, so a case
with an errored epoch has fewer scored trials, and pass@k is averaged over the cases with at
least k scored trials (the errors are counted and gated on their own, ``error_count``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from modelup.decide.stats import pass_at_k, pass_hat_k


class TrialLike(Protocol):
    @property
    def case_id(self) -> str: ...
    @property
    def passed(self) -> bool: ...
    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class CaseTrials:
    case_id: str
    trials: int
    passes: int

    @property
    def pass_probability(self) -> float:
        return self.passes / self.trials

    @property
    def flaky(self) -> bool:
        return 0 < self.passes < self.trials


@dataclass(frozen=True, slots=True)
class TrialsSummary:
    """One model's repeated-trial figures, with the generation settings that produced them."""

    epochs: int
    """Trials asked per case (the most any case had, errored ones included)."""
    temperature: float | None
    seed: int | None
    cases: tuple[CaseTrials, ...]
    """Scored trials and passes per case; a case with no scored trial is left out."""
    pass_at_k: dict[int, float]
    """k = 1..epochs: mean of the unbiased pass@k over the cases with at least k scored trials
    (k is left out when no case has)."""
    pass_hat_k: dict[int, float]
    """k = 1..epochs: mean of pass^k (every one of k attempts passes), over the same cases."""

    @property
    def flaky_cases(self) -> tuple[str, ...]:
        return tuple(case.case_id for case in self.cases if case.flaky)


def case_trials(results: Iterable[TrialLike]) -> tuple[CaseTrials, ...]:
    """Trials and passes per case, in the order cases first appear."""
    counts: dict[str, list[int]] = {}
    for result in results:
        entry = counts.setdefault(result.case_id, [0, 0])
        entry[0] += 1
        entry[1] += int(result.passed)
    return tuple(CaseTrials(case_id, n, c) for case_id, (n, c) in counts.items())


def summarize_trials(
    results: Sequence[TrialLike], *, temperature: float | None = None, seed: int | None = None
) -> TrialsSummary:
    """Repeated-trial figures of one model's results (one or more epochs per case), over its
    scored trials."""
    asked: dict[str, int] = {}
    for result in results:
        asked[result.case_id] = asked.get(result.case_id, 0) + 1
    epochs = max(asked.values(), default=0)
    cases = case_trials(result for result in results if result.error is None)
    counts = [(case.trials, case.passes) for case in cases]
    at_k: dict[int, float] = {}
    hat_k: dict[int, float] = {}
    for k in range(1, epochs + 1):
        at = _mean_over(counts, k, pass_at_k)
        hat = _mean_over(counts, k, pass_hat_k)
        if at is None or hat is None:
            break
        at_k[k], hat_k[k] = at, hat
    return TrialsSummary(epochs, temperature, seed, cases, at_k, hat_k)


def trial_figures(results: Iterable[TrialLike]) -> dict[str, float | None]:
    """The summary's repeated-trial figures: ``pass_at_k`` and ``pass_hat_k`` at K = the most
    trials any case was asked (``None`` when no case has K scored trials) and
    ``flaky_case_count``; the same values as ``summarize_trials``, without its per-case
    records (a summary is computed for every family and subset)."""
    asked: dict[str, int] = {}
    scored: dict[str, list[int]] = {}
    for result in results:
        case_id = result.case_id
        asked[case_id] = asked.get(case_id, 0) + 1
        if result.error is None:
            entry = scored.get(case_id)
            if entry is None:
                scored[case_id] = [1, int(result.passed)]
            else:
                entry[0] += 1
                entry[1] += int(result.passed)
    epochs = max(asked.values(), default=0)
    counts = [(n, c) for n, c in scored.values()]
    return {
        "pass_at_k": _mean_over(counts, epochs, pass_at_k) if epochs else None,
        "pass_hat_k": _mean_over(counts, epochs, pass_hat_k) if epochs else None,
        "flaky_case_count": sum(0 < c < n for n, c in counts),
    }


def _mean_over(
    counts: Sequence[tuple[int, int]], k: int, estimator: Callable[[int, int, int], float]
) -> float | None:
    """The mean of ``estimator(n, c, k)`` over the cases with at least ``k`` scored trials (in
    case order, summed exactly); each distinct (n, c) is computed once."""
    known: dict[tuple[int, int], float] = {}
    values = []
    for count in counts:
        if count[0] < k:
            continue
        value = known.get(count)
        if value is None:
            value = known[count] = estimator(count[0], count[1], k)
        values.append(value)
    return math.fsum(values) / len(values) if values else None
