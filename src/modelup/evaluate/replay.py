"""Replay a dataset against several models side by side.

Targets on the same endpoint share one pool of ``concurrency`` workers, which bounds the calls in
flight per endpoint and interleaves the models case by case, so baseline and candidate are
replayed side by side. Results come back in case order whatever finishes first, and every case
ends scored or errored: a call that fails is evidence, not a gap.

Before calling, a trial is looked up in the outcomes of a resumed run, then in the response
cache; every outcome is journaled as it arrives, so a run stopped midway loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from modelup.evaluate.dataset import Dataset, EvalCase
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.base import CallFailed, ModelClient
from modelup.models.cache import cache_key
from modelup.models.chat import ChatRequest, Message
from modelup.models.journal import CallOutcome, Journal
from modelup.models.pricing import Price
from modelup.store.cache import ResponseCache

Role = Literal["baseline", "candidate"]


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """One model to replay: who it is in the comparison, how it is asked, what it costs."""

    role: Role
    model: str
    endpoint: str
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    price: Price | None = None
    """USD per million tokens, when the configuration knows it."""


ProgressCallback = Callable[[int, CaseResult], None]
"""Called with (target index, result) as each case finishes."""

ResultSink = Callable[[int, int, CaseResult], None]
"""Receives (target index, trial position, result) as each case finishes; the position is
the case's index times the epochs plus its epoch, so case order is position order."""

Trial = tuple[EvalCase, int]
"""A case and its epoch."""


@dataclass(frozen=True, slots=True)
class Recording:
    """Where outcomes are remembered: the response cache (live answers by request), the
    journal of this run, and the outcomes of the run being resumed, if any."""

    cache: ResponseCache | None = None
    journal: Journal | None = None
    resumed: Mapping[tuple[int, int], CallOutcome] = field(default_factory=dict)


async def replay(
    dataset: Dataset,
    scorer: Scorer,
    targets: Sequence[tuple[ModelTarget, ModelClient]],
    *,
    concurrency: int = 4,
    epochs: int = 1,
    on_result: ProgressCallback | None = None,
    recording: Recording | None = None,
) -> list[list[CaseResult]]:
    """Every case through every target ``epochs`` times; one result list per target, in case
    order and, within a case, in epoch order."""
    epochs = max(1, epochs)
    trials = len(dataset.cases) * epochs
    results: list[list[CaseResult | None]] = [[None] * trials for _ in targets]

    def keep(index: int, position: int, result: CaseResult) -> None:
        results[index][position] = result

    await replay_to(
        dataset,
        scorer,
        targets,
        keep,
        concurrency=concurrency,
        epochs=epochs,
        on_result=on_result,
        recording=recording,
    )
    return [[_done(result) for result in per_target] for per_target in results]


async def replay_to(
    dataset: Dataset,
    scorer: Scorer,
    targets: Sequence[tuple[ModelTarget, ModelClient]],
    sink: ResultSink,
    *,
    concurrency: int = 4,
    epochs: int = 1,
    on_result: ProgressCallback | None = None,
    recording: Recording | None = None,
) -> None:
    """``replay``, handing each result to ``sink`` as it finishes instead of keeping it, so a
    caller can keep as little of it as it needs.

    Each endpoint gets ``concurrency`` workers pulling (case, model) pairs from one shared
    iterator, so the replay itself holds nothing per case.
    """
    record = recording or Recording()
    epochs = max(1, epochs)
    trials: list[Trial] = [(case, epoch) for case in dataset.cases for epoch in range(epochs)]

    async def outcome_of(index: int, position: int, request: ChatRequest) -> CallOutcome:
        saved = record.resumed.get((index, position))
        if saved is not None:
            return saved
        target, client = targets[index]
        key = cache_key(target.endpoint, request) if record.cache is not None else None
        if record.cache is not None and key is not None:
            hit = record.cache.get(key)
            if hit is not None:
                outcome = CallOutcome(hit, cached=True)
                if record.journal is not None:
                    record.journal.record(index, position, outcome)
                return outcome
        try:
            response = await client.complete(request)
        except CallFailed as exc:
            outcome = CallOutcome(None, error=str(exc))
        else:
            outcome = CallOutcome(response)
            if record.cache is not None and key is not None:
                record.cache.put(key, target.model, response)
        if record.journal is not None:
            record.journal.record(index, position, outcome)
        return outcome

    @lru_cache(maxsize=4 * max(1, concurrency) * max(1, len(targets)))
    def messages(case: int) -> tuple[Message, ...]:
        # Every model and epoch of a case asks for its prompt right after the others: one render.
        return scorer.workflow.prompt.render(dataset.cases[case].fields)

    async def worker(todo: Iterator[tuple[int, int]]) -> None:
        for index, position in todo:
            target = targets[index][0]
            case, epoch = trials[position]
            request = ChatRequest(
                model=target.model,
                messages=messages(position // epochs),
                temperature=target.temperature,
                max_tokens=target.max_tokens,
                seed=target.seed,
                extra=target.extra,
                epoch=epoch,
            )
            outcome = await outcome_of(index, position, request)
            if outcome.response is None:
                result = scorer.errored(case, outcome.error or "unknown error", epoch=epoch)
            else:
                result = scorer.score(case, outcome.response, epoch=epoch)
                if outcome.cached:
                    result = replace(result, cached=True)
            sink(index, position, result)
            if on_result is not None:
                on_result(index, result)

    workers = []
    for group in _by_endpoint(target for target, _ in targets).values():
        todo = _interleaved(group, len(trials))
        workers += [worker(todo) for _ in range(max(1, concurrency))]
    await _gather_or_cancel(workers)


def _interleaved(group: list[int], trials: int) -> Iterator[tuple[int, int]]:
    """(target, trial) pairs case by case: each model of the group gets trial 0, then 1..."""
    for position in range(trials):
        for index in group:
            yield index, position


def _by_endpoint(targets: Iterator[ModelTarget]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, target in enumerate(targets):
        groups.setdefault(target.endpoint, []).append(index)
    return groups


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
