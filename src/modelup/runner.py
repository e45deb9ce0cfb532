"""Replay a dataset against several models side by side.

Each model has its own client and its own bound on calls in flight; all models are replayed at
once. Results come back in case order whatever finishes first, and every case ends scored or
errored: a call that fails is evidence, not a gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from modelup.chat import ChatRequest
from modelup.clients.base import CallFailed, ModelClient
from modelup.dataset import Dataset, EvalCase
from modelup.scoring import CaseResult, Scorer

Role = Literal["baseline", "candidate"]


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """One model to replay: who it is in the comparison and how it is asked."""

    role: Role
    model: str
    endpoint: str
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


ProgressCallback = Callable[[int, CaseResult], None]
"""Called with (target index, result) as each case finishes."""


async def replay(
    dataset: Dataset,
    scorer: Scorer,
    targets: Sequence[tuple[ModelTarget, ModelClient]],
    *,
    concurrency: int = 4,
    epochs: int = 1,
    on_result: ProgressCallback | None = None,
) -> list[list[CaseResult]]:
    """Every case through every target ``epochs`` times; one result list per target, in case
    order and, within a case, in epoch order.

    Each target gets ``concurrency`` workers pulling cases from a shared iterator, so memory
    stays flat however many cases there are, and a slow model never starves a fast one.
    """
    trials = [(case, epoch) for case in dataset.cases for epoch in range(max(1, epochs))]
    results: list[list[CaseResult | None]] = [[None] * len(trials) for _ in targets]

    async def worker(
        index: int,
        target: ModelTarget,
        client: ModelClient,
        todo: Iterator[tuple[int, tuple[EvalCase, int]]],
    ) -> None:
        for position, (case, epoch) in todo:
            request = ChatRequest(
                model=target.model,
                messages=scorer.workflow.prompt.render(case.fields),
                temperature=target.temperature,
                max_tokens=target.max_tokens,
                seed=target.seed,
                extra=target.extra,
                epoch=epoch,
            )
            try:
                response = await client.complete(request)
            except CallFailed as exc:
                result = scorer.errored(case, str(exc), epoch=epoch)
            else:
                result = scorer.score(case, response, epoch=epoch)
            results[index][position] = result
            if on_result is not None:
                on_result(index, result)

    workers = []
    for index, (target, client) in enumerate(targets):
        todo = iter(enumerate(trials))
        workers += [worker(index, target, client, todo) for _ in range(max(1, concurrency))]
    await _gather_or_cancel(workers)
    return [[_done(result) for result in per_target] for per_target in results]


def _done(result: CaseResult | None) -> CaseResult:
    if result is None:
        raise AssertionError("a case finished without a result")
    return result


async def _gather_or_cancel(jobs: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Like ``gather``, but a fatal error (e.g. model not found) cancels the rest at once."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
