"""Repeated trials: what replaying every case K times (``--epochs K``) says about one model.

A model that passes a case once may not pass it every time. Per case, the pass probability is
the share of epochs passed; over the eval set, pass@k is the chance that at least one of k
attempts passes and pass^k the chance that all k do (both the unbiased estimators over the K
epochs observed, averaged over cases). A case that passed some epochs and failed others is
flaky: its outcome is a coin toss, not a property of the model.
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
    temperature: float | None
    seed: int | None
    cases: tuple[CaseTrials, ...]
    pass_at_k: dict[int, float]
    """k = 1..epochs: mean over cases of the unbiased pass@k."""
    pass_hat_k: dict[int, float]
    """k = 1..epochs: mean over cases of pass^k (every one of k attempts passes)."""

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
    """Repeated-trial figures of one model's results (one or more epochs per case)."""
    cases = case_trials(results)
    epochs = min((case.trials for case in cases), default=0)
    at_k: dict[int, float] = {}
    hat_k: dict[int, float] = {}
    for k in range(1, epochs + 1):
        at_k[k] = math.fsum(pass_at_k(c.trials, c.passes, k) for c in cases) / len(cases)
        hat_k[k] = math.fsum(pass_hat_k(c.trials, c.passes, k) for c in cases) / len(cases)
    return TrialsSummary(epochs, temperature, seed, cases, at_k, hat_k)
