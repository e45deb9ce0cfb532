"""Grade a replay as its answers arrive.

The replay hands every scored answer to ``GradingRun.add`` as it finishes; only the fields the
grader reads are kept, and only until the trial's other answers are in. A rubric judgement is
queued as soon as its answer arrives, a pairwise one when the baseline's and that candidate's
answers to the trial both are. ``concurrency`` workers call the grader meanwhile, so grading
overlaps the replay; ``finish`` waits for the rest. Judgements are kept by trial position, so
they come back in case order whatever finishes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from modelup.evaluate.dataset import Dataset
from modelup.evaluate.grading import (
    Grader,
    GraderPlan,
    Mode,
    PairJudgement,
    RubricJudgement,
    Tally,
)
from modelup.evaluate.scoring import CaseResult

_T = TypeVar("_T")
_Answer = dict[str, Any] | None
_Job = tuple[str, int, int]
"""(kind, model index, trial position): ``pair`` jobs name the candidate."""


@dataclass(frozen=True, slots=True)
class Grading:
    """Every judgement of a run, by trial position (case index * epochs + epoch)."""

    plan: GraderPlan
    pairs: tuple[tuple[PairJudgement, ...], ...]
    """Per candidate (in target order, the baseline excluded); empty when pairwise is off."""
    rubric: tuple[tuple[RubricJudgement, ...], ...]
    """Per model (the baseline first); empty when the rubric is off."""
    tallies: Mapping[Mode, Tally]
    """Calls, failures and tokens per mode (``pairwise``, ``rubric``)."""
    unavailable: str | None = None
    """Why the grader stopped being asked midway, if it did."""


class GradingRun:
    """Judgements of one replay with ``grader``, queued as answers arrive (``add``)."""

    def __init__(
        self, grader: Grader, dataset: Dataset, models: int, *, epochs: int, concurrency: int
    ) -> None:
        self.grader = grader
        self._dataset = dataset
        self._models = models
        self._epochs = max(1, epochs)
        self._concurrency = max(1, concurrency)
        trials = len(dataset.cases) * self._epochs
        plan = grader.plan
        self._pairs: list[list[PairJudgement | None]] = (
            [[None] * trials for _ in range(models - 1)] if plan.pairwise else []
        )
        self._rubric: list[list[RubricJudgement | None]] = (
            [[None] * trials for _ in range(models)] if plan.rubric else []
        )
        self._waiting: dict[int, list[_Answer]] = {}
        self._arrived: dict[int, int] = {}
        self._answers: dict[tuple[int, int], _Answer] = {}
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the workers; call from inside the event loop that runs the replay."""
        self._workers = [asyncio.ensure_future(self._work()) for _ in range(self._concurrency)]

    def add(self, index: int, position: int, result: CaseResult) -> None:
        """Model ``index``'s scored answer to trial ``position`` (a replay's result sink)."""
        answer = self.grader.answer_fields(result.output)
        if self._rubric:
            self._answers[(index, position)] = answer
            self._queue.put_nowait(("rubric", index, position))
        if not self._pairs:
            return
        waiting = self._waiting.setdefault(position, [None] * self._models)
        waiting[index] = answer
        self._arrived[position] = self._arrived.get(position, 0) + 1
        if self._arrived[position] == self._models:
            del self._arrived[position]
            for candidate in range(1, self._models):
                self._queue.put_nowait(("pair", candidate, position))

    async def finish(self) -> Grading:
        """Wait for every queued judgement; the run's judgements in trial order."""
        for _ in self._workers:
            self._queue.put_nowait(None)
        try:
            await asyncio.gather(*self._workers)
        finally:
            await self.stop()
        return Grading(
            plan=self.grader.plan,
            pairs=tuple(tuple(_done(j) for j in per) for per in self._pairs),
            rubric=tuple(tuple(_done(j) for j in per) for per in self._rubric),
            tallies=dict(self.grader.tallies),
            unavailable=self.grader.unavailable,
        )

    async def stop(self) -> None:
        """Cancel whatever is still running (a replay that failed) and wait for it to end."""
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _work(self) -> None:
        while (job := await self._queue.get()) is not None:
            kind, index, position = job
            case = self._dataset.cases[position // self._epochs]
            epoch = position % self._epochs
            if kind == "rubric":
                answer = self._answers.pop((index, position))
                self._rubric[index][position] = await self.grader.score(case, epoch, answer)
                continue
            answers = self._waiting[position]
            judgement = await self.grader.judge_pair(case, epoch, answers[0], answers[index])
            self._pairs[index - 1][position] = judgement
            self._release(position)

    def _release(self, position: int) -> None:
        """Forget a trial's answers once every candidate's pair has been judged."""
        done = all(per[position] is not None for per in self._pairs)
        if done:
            self._waiting.pop(position, None)


def _done(judgement: _T | None) -> _T:
    if judgement is None:
        raise AssertionError("a trial finished without a judgement")
    return judgement
