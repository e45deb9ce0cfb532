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
from collections.abc import Iterable, Sequence
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
    at_k: dict[int, float] = {}
    hat_k: dict[int, float] = {}
    for k in range(1, epochs + 1):
        judged = [case for case in cases if case.trials >= k]
        if not judged:
            break
        at_k[k] = math.fsum(pass_at_k(c.trials, c.passes, k) for c in judged) / len(judged)
        hat_k[k] = math.fsum(pass_hat_k(c.trials, c.passes, k) for c in judged) / len(judged)
    return TrialsSummary(epochs, temperature, seed, cases, at_k, hat_k)
