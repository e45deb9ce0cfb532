"""The grader's calls with ``ScriptedClient``: the swap rule, ties, the contract, errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from modelup import ScriptedClient
from modelup.errors import ClientError, ModelNotFoundError
from modelup.evaluate.dataset import EvalCase
from modelup.evaluate.grading import (
    MAX_REASON,
    PAIRWISE_PROMPT,
    Grader,
    GraderPlan,
    GraderTarget,
    PairJudgement,
    RubricJudgement,
)
from modelup.models.base import CallFailed
from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.workflow.base import Criterion
from modelup.workflow.catalog import get_workflow

WORKFLOW = get_workflow("support-ops")
CASE = EvalCase(
    "UP-001",
    "incident",
    (),
    {
        "user_message": "Checkout is down.",
        "expected_category": "incident",
        "expected_priority": "P1",
        "should_refuse": False,
    },
)
BASE = {"summary": "Checkout outage", "customer_reply": "We are on it."}
CAND = {"summary": "Checkout outage after deploy", "customer_reply": "Rolling back now."}
RUBRIC = (Criterion("clarity", "Clear."), Criterion("grounding", "Grounded."))


def grader(*answers: Any, rubric: tuple[Criterion, ...] = RUBRIC) -> tuple[Grader, ScriptedClient]:
    client = ScriptedClient(*answers)
    plan = GraderPlan(
        GraderTarget("judge", "simulated", seed=7),
        pairwise=True,
        rubric=rubric,
        fields=("summary", "customer_reply"),
    )
    return Grader(plan, WORKFLOW, client), client


def pair(*answers: Any) -> tuple[PairJudgement, ScriptedClient]:
    judge, client = grader(*answers)
    return asyncio.run(judge.judge_pair(CASE, 0, BASE, CAND)), client


def verdict(winner: str, reason: str = "because") -> str:
    return json.dumps({"winner": winner, "reason": reason})


def data(request: ChatRequest) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(request.messages[-1].content)
    return loaded


def test_each_pair_is_asked_twice_with_the_order_swapped() -> None:
    judgement, client = pair(verdict("B"), verdict("A"))
    first, second = (data(call) for call in client.calls)
    assert (first["answer_A"], first["answer_B"]) == (BASE, CAND)
    assert (second["answer_A"], second["answer_B"]) == (CAND, BASE)
    # B then A is the candidate both times: a win.
    assert judgement.outcome == "win"
    assert [o.preferred for o in judgement.orders] == ["candidate", "candidate"]
    assert [o.baseline_first for o in judgement.orders] == [True, False]


def test_consistent_preference_of_the_baseline_is_a_loss() -> None:
    judgement, _ = pair(verdict("A"), verdict("B"))
    assert judgement.outcome == "loss"


@pytest.mark.parametrize(
    ("first", "second"),
    [("A", "A"), ("B", "B"), ("tie", "B"), ("A", "tie"), ("tie", "tie")],
)
def test_orders_that_disagree_or_tie_are_a_tie(first: str, second: str) -> None:
    judgement, _ = pair(verdict(first), verdict(second))
    assert judgement.outcome == "tie"
    assert judgement.disagreed == ((first, second) != ("tie", "tie"))


def test_the_request_carries_the_case_and_the_answers_as_data_only() -> None:
    _, client = pair(verdict("tie"), verdict("tie"))
    request = client.calls[0]
    assert request.model == "judge" and request.seed == 7 and request.temperature == 0.0
    assert request.messages[0] == Message("system", PAIRWISE_PROMPT)
    sent = data(request)
    assert sent["request"] == ["Checkout is down."]  # the workflow's system prompt is not sent
    assert sent["task"] == WORKFLOW.description
    assert set(sent) == {"task", "request", "answer_A", "answer_B"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (CallFailed("HTTP 500: busy"), "grader call failed: HTTP 500: busy"),
        ("B is better", "grader answer outside its contract"),
        (verdict("C"), "grader answer outside its contract: winner"),
        (json.dumps({"winner": "A"}), "'reason' is a required property"),
        (json.dumps({"winner": "A", "reason": "x", "extra": 1}), "Additional properties"),
    ],
)
def test_a_failed_or_off_contract_order_errors_the_pair(answer: Any, expected: str) -> None:
    judgement, _ = pair(verdict("B"), answer)
    assert judgement.outcome == "error"
    assert judgement.orders[0].preferred == "candidate"
    error = judgement.orders[1].error or ""
    assert expected in error, error


def test_a_fenced_answer_is_repaired_like_any_contract() -> None:
    judgement, _ = pair(f"```json\n{verdict('B')}\n```", verdict("A"))
    assert judgement.outcome == "win"


def test_a_long_reason_is_cut() -> None:
    judgement, _ = pair(verdict("B", "x" * 5000), verdict("A"))
    assert len(judgement.orders[0].reason or "") == MAX_REASON + 1


def test_an_answer_outside_the_contract_is_judged_without_the_grader() -> None:
    judge, client = grader()
    run = asyncio.run
    assert run(judge.judge_pair(CASE, 0, None, CAND)).outcome == "win"
    assert run(judge.judge_pair(CASE, 0, BASE, None)).outcome == "loss"
    both = run(judge.judge_pair(CASE, 0, None, None))
    assert both.outcome == "tie" and not both.by_grader and not both.disagreed
    assert client.calls == []


def test_a_grader_that_cannot_be_used_stops_being_asked() -> None:
    judge, client = grader(ModelNotFoundError("does not serve model 'judge'"))
    first = asyncio.run(judge.judge_pair(CASE, 0, BASE, CAND))
    later = asyncio.run(judge.score(CASE, 0, BASE))
    assert first.outcome == "error" and later.error is not None
    assert "does not serve" in (judge.unavailable or "")
    assert len(client.calls) == 1
    assert "grader unavailable" in (later.error or "")


def test_a_client_error_never_escapes() -> None:
    judge, _ = grader(ClientError("rejected the API key"))
    assert asyncio.run(judge.score(CASE, 0, BASE)).error is not None


def test_rubric_scores_every_criterion() -> None:
    scores = {"clarity": 4, "grounding": 2}
    judge, client = grader(json.dumps({"scores": scores, "reason": "ok"}))
    judged = asyncio.run(judge.score(CASE, 2, CAND))
    assert judged == RubricJudgement(scores=scores, reason="ok")
    assert judged.mean == 3.0
    sent = data(client.calls[0])
    assert sent["answer"] == CAND and sent["criteria"] == {
        "clarity": "Clear.",
        "grounding": "Grounded.",
    }
    assert client.calls[0].epoch == 2


@pytest.mark.parametrize(
    "scores",
    [
        {"clarity": 6, "grounding": 2},
        {"clarity": 0, "grounding": 2},
        {"clarity": 3},
        {"clarity": 3, "grounding": 2, "tone": 1},
        {"clarity": "4", "grounding": 2},
        {"clarity": True, "grounding": 2},
        {"clarity": 3.5, "grounding": 2},
    ],
)
def test_a_rubric_answer_off_the_scale_or_the_criteria_is_errored(scores: Any) -> None:
    judge, _ = grader(json.dumps({"scores": scores, "reason": "ok"}))
    judged = asyncio.run(judge.score(CASE, 0, CAND))
    assert judged.scores is None and "outside its contract" in (judged.error or "")


def test_an_unanswered_case_is_not_graded() -> None:
    judge, client = grader()
    judged = asyncio.run(judge.score(CASE, 0, None))
    assert judged.skipped is not None and judged.mean is None and client.calls == []


def test_the_tallies_count_calls_failures_and_tokens() -> None:
    answer = ChatResponse(verdict("B"), 1.0, usage=Usage(100, 10))
    judge, _ = grader(answer, CallFailed("x"), ChatResponse("nope", 1.0, usage=Usage(50, 5)))
    asyncio.run(judge.judge_pair(CASE, 0, BASE, CAND))
    asyncio.run(judge.score(CASE, 0, BASE))
    pairwise, rubric = judge.tallies["pairwise"], judge.tallies["rubric"]
    assert (pairwise.calls, pairwise.failed, pairwise.prompt_tokens) == (2, 1, 100)
    assert (rubric.calls, rubric.failed, rubric.prompt_tokens, rubric.completion_tokens) == (
        1,
        1,
        50,
        5,
    )


def test_answer_fields_keeps_only_what_the_grader_reads() -> None:
    judge, _ = grader()
    assert judge.answer_fields({"summary": "s", "priority": "P1"}) == {"summary": "s"}
    assert judge.answer_fields(None) is None
