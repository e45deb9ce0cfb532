"""Grading a replay as its answers arrive: pairs wait for every model's answer to a trial, and
judgements come back by trial position whatever order the answers and the calls finish in."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from modelup import ScriptedClient
from modelup.evaluate.dataset import Dataset, EvalCase
from modelup.evaluate.grading import Grader, GraderPlan, GraderTarget
from modelup.evaluate.grading_run import Grading, GradingRun
from modelup.evaluate.scoring import CaseResult
from modelup.models.chat import ChatRequest
from modelup.workflow.base import Criterion
from modelup.workflow.catalog import get_workflow

WORKFLOW = get_workflow("support-ops")
FIELDS = {
    "expected_category": "incident",
    "expected_priority": "P1",
    "should_refuse": False,
}
DATASET = Dataset(
    Path("cases.json"),
    "0" * 64,
    tuple(
        EvalCase(f"C{n}", "incident", (), {"user_message": f"case {n}", **FIELDS}) for n in range(3)
    ),
)
EPOCHS = 2
MODELS = 3  # the baseline and two candidates


def result(index: int, position: int, *, answered: bool = True) -> CaseResult:
    case = DATASET.cases[position // EPOCHS]
    return CaseResult(
        case_id=case.id,
        family=case.family,
        subsets=(),
        passed=answered,
        strict_valid=answered,
        valid=answered,
        checks=(),
        notes=(),
        output={"summary": f"m{index}p{position}", "priority": "P1"} if answered else None,
        epoch=position % EPOCHS,
    )


def answer(request: ChatRequest) -> str:
    sent: dict[str, Any] = json.loads(request.messages[-1].content)
    if "answer" in sent:
        score = int(sent["answer"]["summary"][1]) + 1  # model index + 1
        return json.dumps({"scores": {"clarity": score}, "reason": sent["answer"]["summary"]})
    first, second = sent["answer_A"]["summary"], sent["answer_B"]["summary"]
    # The higher model index wins, and the reason names both answers.
    return json.dumps({"winner": "A" if first > second else "B", "reason": f"{first}|{second}"})


def grading_run(client: ScriptedClient, *, rubric: bool = True) -> GradingRun:
    plan = GraderPlan(
        GraderTarget("judge", "simulated"),
        pairwise=True,
        rubric=(Criterion("clarity", "Clear."),) if rubric else (),
        fields=("summary",),
    )
    grader = Grader(plan, WORKFLOW, client)
    return GradingRun(grader, DATASET, MODELS, epochs=EPOCHS, concurrency=3)


def test_judgements_come_back_in_trial_order_whatever_the_arrival_order() -> None:
    client = ScriptedClient(default=answer)
    arrivals = [(index, position) for position in range(6) for index in range(MODELS)]
    random.Random(1).shuffle(arrivals)

    async def drive() -> Grading:
        run = grading_run(client)
        run.start()
        for index, position in arrivals:
            run.add(index, position, result(index, position))
            await asyncio.sleep(0)
        return await run.finish()

    graded = asyncio.run(drive())
    assert len(graded.pairs) == MODELS - 1 and len(graded.rubric) == MODELS
    for candidate, pairs in enumerate(graded.pairs, start=1):
        for position, judgement in enumerate(pairs):
            assert judgement.outcome == "win"
            reasons = [order.reason for order in judgement.orders]
            base, cand = f"m0p{position}", f"m{candidate}p{position}"
            assert reasons == [f"{base}|{cand}", f"{cand}|{base}"]
    for index, judged in enumerate(graded.rubric):
        assert [j.reason for j in judged] == [f"m{index}p{p}" for p in range(6)]
        assert all(j.scores == {"clarity": index + 1} for j in judged)
    # 6 trials x 2 candidates x 2 orders, and 6 trials x 3 models for the rubric.
    assert len(client.calls) == 24 + 18
    assert graded.tallies["pairwise"].calls == 24 and graded.tallies["rubric"].calls == 18


def test_a_pair_waits_for_every_model_of_its_trial() -> None:
    client = ScriptedClient(default=answer)

    async def drive() -> tuple[int, int]:
        run = grading_run(client, rubric=False)
        run.start()
        run.add(0, 0, result(0, 0))
        run.add(1, 0, result(1, 0))
        await asyncio.sleep(0.01)
        before = len(client.calls)
        run.add(2, 0, result(2, 0, answered=False))
        for position in range(1, 6):
            for index in range(MODELS):
                run.add(index, position, result(index, position))
        graded = await run.finish()
        assert graded.pairs[1][0].outcome == "loss" and not graded.pairs[1][0].by_grader
        return before, len(client.calls)

    before, after = asyncio.run(drive())
    assert before == 0
    assert after == 2 * 6 * 2 - 2  # the unanswered pair is decided without a call


def test_stop_cancels_what_is_still_waiting() -> None:
    started = asyncio.Event()

    async def drive() -> None:
        class Slow(ScriptedClient):
            async def complete(self, request: ChatRequest) -> Any:
                started.set()
                await asyncio.sleep(60)

        run = grading_run(Slow(), rubric=True)
        run.start()
        run.add(0, 0, result(0, 0))
        await started.wait()
        await asyncio.wait_for(run.stop(), timeout=5)

    asyncio.run(drive())
