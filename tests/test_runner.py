"""The replay engine: case order, concurrency per endpoint, errors kept, cache and resume."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from live_support import support_ops
from modelup.errors import ModelNotFoundError
from modelup.evaluate.replay import ModelTarget, Recording, Role, replay
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.base import CallFailed
from modelup.models.chat import ChatRequest, ChatResponse, Usage
from modelup.models.journal import CallOutcome, Journal, load_run
from modelup.store.cache import ResponseCache


class FakeClient:
    """Answers after a random short delay; counts calls and the peak of calls in flight,
    shared with other fakes through ``meter`` when they stand for one endpoint."""

    def __init__(
        self,
        meter: dict[str, int] | None = None,
        *,
        fail: set[str] | None = None,
        fatal_after: int | None = None,
        seed: int = 0,
    ) -> None:
        self.meter = meter if meter is not None else {"now": 0, "peak": 0}
        self.calls: list[ChatRequest] = []
        self.fail = fail or set()
        self.fatal_after = fatal_after
        self.rng = random.Random(seed)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls.append(request)
        if self.fatal_after is not None and len(self.calls) > self.fatal_after:
            raise ModelNotFoundError("gone")
        self.meter["now"] += 1
        self.meter["peak"] = max(self.meter["peak"], self.meter["now"])
        try:
            await asyncio.sleep(self.rng.uniform(0, 0.004))
        finally:
            self.meter["now"] -= 1
        text = request.messages[-1].content
        if any(marker in text for marker in self.fail):
            raise CallFailed("HTTP 503: overloaded (gave up after 4 attempts)")
        return ChatResponse(
            content="not json",
            latency_ms=float(len(self.calls)),
            resolved_model=request.model,
            usage=Usage(10, 5),
        )

    async def aclose(self) -> None:
        return None


def target(model: str, endpoint: str = "http://one/v1", role: Role = "candidate") -> ModelTarget:
    return ModelTarget(role=role, model=model, endpoint=endpoint)


def ids(results: list[CaseResult]) -> list[str]:
    return [result.case_id for result in results]


def test_results_come_back_in_case_order_whatever_finishes_first() -> None:
    workflow, dataset = support_ops()
    clients = [FakeClient(seed=1), FakeClient(seed=2)]
    results = asyncio.run(
        replay(
            dataset,
            Scorer(workflow),
            [(target("a", role="baseline"), clients[0]), (target("b"), clients[1])],
            concurrency=8,
        )
    )
    expected = [case.id for case in dataset.cases]
    assert [ids(per_model) for per_model in results] == [expected, expected]
    assert len(clients[0].calls) == len(clients[1].calls) == len(dataset)


def test_epochs_replay_each_case_in_epoch_order() -> None:
    workflow, dataset = support_ops()
    results = asyncio.run(
        replay(dataset, Scorer(workflow), [(target("a"), FakeClient())], epochs=3)
    )[0]
    assert len(results) == 3 * len(dataset)
    assert [r.epoch for r in results[:3]] == [0, 1, 2]
    assert ids(results[:3]) == [dataset.cases[0].id] * 3


def test_concurrency_bounds_calls_in_flight_per_endpoint() -> None:
    workflow, dataset = support_ops()
    shared = {"now": 0, "peak": 0}
    other = {"now": 0, "peak": 0}
    a, b, c = FakeClient(shared), FakeClient(shared), FakeClient(other)
    pairs = [(target("a"), a), (target("b"), b), (target("c", "http://two/v1"), c)]
    asyncio.run(replay(dataset, Scorer(workflow), pairs, concurrency=3))
    assert shared["peak"] == 3  # models a and b share one endpoint, hence one bound
    assert other["peak"] == 3  # another endpoint has its own


def test_models_on_one_endpoint_are_replayed_side_by_side() -> None:
    workflow, dataset = support_ops()
    order: list[str] = []

    class Recorder(FakeClient):
        async def complete(self, request: ChatRequest) -> ChatResponse:
            order.append(request.model)
            return await super().complete(request)

    pairs = [(target("a"), Recorder()), (target("b"), Recorder())]
    asyncio.run(replay(dataset, Scorer(workflow), pairs, concurrency=1))
    assert order[:6] == ["a", "b", "a", "b", "a", "b"]


def test_a_failed_call_is_an_errored_case_never_a_dropped_one() -> None:
    workflow, dataset = support_ops()
    broken = dataset.cases[4]
    marker = str(broken.fields["user_message"])
    results = asyncio.run(
        replay(dataset, Scorer(workflow), [(target("a"), FakeClient(fail={marker}))])
    )[0]
    assert ids(results) == [case.id for case in dataset.cases]
    errored = [r for r in results if r.error is not None]
    assert [r.case_id for r in errored] == [broken.id]
    assert "HTTP 503" in (errored[0].error or "")
    assert not errored[0].passed


def test_a_fatal_error_stops_every_worker() -> None:
    workflow, dataset = support_ops()
    stopping = FakeClient(fatal_after=5)
    healthy = FakeClient()
    pairs = [(target("a"), stopping), (target("b", "http://two/v1"), healthy)]
    with pytest.raises(ModelNotFoundError):
        asyncio.run(replay(dataset, Scorer(workflow), pairs, concurrency=2))
    assert len(healthy.calls) < len(dataset)


def test_a_cached_rerun_makes_no_calls_and_keeps_the_original_latency(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    first_client, second_client = FakeClient(), FakeClient()
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        first = asyncio.run(
            replay(
                dataset,
                Scorer(workflow),
                [(target("a"), first_client)],
                recording=Recording(cache=cache),
            )
        )[0]
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        second = asyncio.run(
            replay(
                dataset,
                Scorer(workflow),
                [(target("a"), second_client)],
                recording=Recording(cache=cache),
            )
        )[0]
    assert len(first_client.calls) == len(dataset)
    assert second_client.calls == []
    assert all(r.cached for r in second) and not any(r.cached for r in first)
    assert [r.latency_ms for r in second] == [r.latency_ms for r in first]


def test_refresh_calls_again_and_errors_are_never_cached(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    marker = str(dataset.cases[0].fields["user_message"])
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        asyncio.run(
            replay(
                dataset,
                Scorer(workflow),
                [(target("a"), FakeClient(fail={marker}))],
                recording=Recording(cache=cache),
            )
        )
        assert len(cache) == len(dataset) - 1
    again = FakeClient()
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        asyncio.run(
            replay(
                dataset, Scorer(workflow), [(target("a"), again)], recording=Recording(cache=cache)
            )
        )
    assert len(again.calls) == 1  # only the case that errored
    fresh = FakeClient()
    with ResponseCache(tmp_path / "c.sqlite", refresh=True) as cache:
        results = asyncio.run(
            replay(
                dataset, Scorer(workflow), [(target("a"), fresh)], recording=Recording(cache=cache)
            )
        )[0]
    assert len(fresh.calls) == len(dataset)
    assert not any(r.cached for r in results)


def test_every_outcome_is_journaled_and_resumed_outcomes_are_not_called_again(
    tmp_path: Path,
) -> None:
    workflow, dataset = support_ops()
    journal = Journal.create(
        tmp_path,
        run_id="r1",
        started_at=_now(),
        settings={},
        dataset_sha256=dataset.sha256,
        models=("a",),
    )
    done = {
        (0, 1): CallOutcome(ChatResponse("saved answer", 123.0, "a")),
        (0, 2): CallOutcome(None, error="HTTP 500: saved failure"),
    }
    client = FakeClient()
    results = asyncio.run(
        replay(
            dataset,
            Scorer(workflow),
            [(target("a"), client)],
            recording=Recording(journal=journal, resumed=done),
        )
    )[0]
    journal.close()
    assert len(client.calls) == len(dataset) - 2
    assert results[1].raw_output == "saved answer" and results[1].latency_ms == 123.0
    assert results[2].error == "HTTP 500: saved failure"
    journaled = load_run(tmp_path, "r1").outcomes
    assert set(journaled) == {(0, i) for i in range(len(dataset))} - set(done)
    lines = (tmp_path / "r1" / "journal.jsonl").read_text().splitlines()
    assert all(json.loads(line)["t"] == 0 for line in lines)


def _now() -> datetime:
    return datetime.now(UTC)
