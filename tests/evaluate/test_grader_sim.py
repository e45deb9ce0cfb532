"""The simulated grader: deterministic, answers within the grader's contract, and imperfect
the way graders are (position bias on close calls, a taste for length)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from modelup.evaluate.grader_sim import SimulatedGrader
from modelup.evaluate.grading import PAIRWISE_CONTRACT, rubric_contract
from modelup.models.chat import ChatRequest, Message
from modelup.workflow.base import Criterion
from modelup.workflow.contract import Contract

SHORT = {"customer_reply": "We are looking into it."}
LONG = {"customer_reply": "We rolled back deploy 4821, restored checkout and updated status."}
CRITERIA = {"clarity": "Clear.", "grounding": "Grounded."}


def ask(data: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    request = ChatRequest("judge", (Message("system", "grade"), Message("user", json.dumps(data))))
    response = asyncio.run(SimulatedGrader(seed=seed).complete(request))
    answer: dict[str, Any] = json.loads(response.content)
    assert response.usage.prompt_tokens > 0
    return answer


def pairwise(first: Any, second: Any, seed: int = 0) -> dict[str, Any]:
    answer = ask({"request": ["help"], "answer_A": first, "answer_B": second}, seed)
    assert Contract(PAIRWISE_CONTRACT).parse(json.dumps(answer)).valid
    return answer


def test_equal_answers_tie() -> None:
    assert pairwise(SHORT, SHORT)["winner"] == "tie"


def test_the_answer_with_more_to_say_wins_in_either_order() -> None:
    assert pairwise(SHORT, LONG)["winner"] == "B"
    assert pairwise(LONG, SHORT)["winner"] == "A"


def test_a_close_call_goes_to_the_answer_shown_first() -> None:
    a, b = {"customer_reply": "We restarted checkout."}, {"customer_reply": "We restarted billing."}
    assert pairwise(a, b)["winner"] == "A" and pairwise(b, a)["winner"] == "A"


def test_rubric_scores_every_criterion_on_the_scale_deterministically() -> None:
    data = {"request": ["help"], "criteria": CRITERIA, "answer": LONG}
    first = ask(data)
    assert first == ask(data)
    contract = Contract(rubric_contract((Criterion("clarity", ""), Criterion("grounding", ""))))
    assert contract.parse(json.dumps(first)).valid
    assert ask(data, seed=0) != ask(data, seed=1) or ask(data, seed=2) != ask(data, seed=3)
    short = ask({"request": ["help"], "criteria": CRITERIA, "answer": SHORT})
    assert sum(short["scores"].values()) < sum(first["scores"].values())


def test_anything_else_is_answered_outside_the_contract() -> None:
    request = ChatRequest("judge", (Message("user", "hello"),))
    response = asyncio.run(SimulatedGrader().complete(request))
    assert not Contract(PAIRWISE_CONTRACT).parse(response.content).valid
