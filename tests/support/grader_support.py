"""A scripted grader model for the loopback server, and responders that route by model.

``ScriptedGrader`` recognises modelup's grader requests (their user message is JSON data with
``answer_A``/``answer_B``, or ``answer`` and ``criteria``) and answers with what a test's
function says: a dict (sent as JSON), a string (sent as is) or a fault ``Reply``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from support.openai_server import ChatCall, Completion, Reply, Responder

Verdict = Callable[[dict[str, Any]], "dict[str, Any] | str | Reply"]


class ScriptedGrader:
    """A thread-safe grader responder; ``calls`` keeps every request's data in arrival order."""

    def __init__(self, pairwise: Verdict | None = None, rubric: Verdict | None = None) -> None:
        self._pairwise = pairwise or prefers("")
        self._rubric = rubric or (lambda data: scores(data, 3))
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []

    def __call__(self, call: ChatCall) -> Reply:
        data = json.loads(call.last_content)
        with self._lock:
            self.calls.append(data)
        answer = self._pairwise(data) if "answer_A" in data else self._rubric(data)
        if not isinstance(answer, dict | str):
            return answer
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return Completion(text, prompt_tokens=200, completion_tokens=30)

    def pairwise_calls(self) -> list[dict[str, Any]]:
        return [data for data in self.calls if "answer_A" in data]

    def rubric_calls(self) -> list[dict[str, Any]]:
        return [data for data in self.calls if "answer" in data]


def case_of(data: Mapping[str, Any]) -> str:
    """The request text a grader call is about (the case's user message)."""
    return str(data["request"][-1])


def prefers(tag: str, *, reason: str = "It says more.") -> Verdict:
    """A consistent grader: the answer containing ``tag`` wins in either order; else a tie."""

    def verdict(data: dict[str, Any]) -> dict[str, Any]:
        first, second = (tag in json.dumps(data[key]) for key in ("answer_A", "answer_B"))
        winner = "tie" if first == second or not tag else ("A" if first else "B")
        return {"winner": winner, "reason": reason}

    return verdict


def always_first(data: dict[str, Any]) -> dict[str, Any]:
    """A grader with pure position bias: whatever is shown first wins."""
    return {"winner": "A", "reason": "A comes first."}


def scores(data: dict[str, Any], value: int, *, reason: str = "Fine.") -> dict[str, Any]:
    return {"scores": dict.fromkeys(data["criteria"], value), "reason": reason}


def scores_by_tag(tag: str, high: int = 5, low: int = 2) -> Verdict:
    """Rubric scores: ``high`` for an answer containing ``tag``, ``low`` otherwise."""

    def verdict(data: dict[str, Any]) -> dict[str, Any]:
        return scores(data, high if tag in json.dumps(data["answer"]) else low)

    return verdict


def routed(routes: Mapping[str, Responder]) -> Responder:
    """Each call answered by the responder of its model."""

    def responder(call: ChatCall) -> Reply:
        return routes[call.model](call)

    return responder


def tagged(inner: Responder, tag: str) -> Responder:
    """``inner``'s answers with ``tag`` appended to their ``customer_reply``."""

    def responder(call: ChatCall) -> Reply:
        reply = inner(call)
        if not isinstance(reply, Completion):
            return reply
        decision = json.loads(reply.content)
        decision["customer_reply"] += tag
        return replace(reply, content=json.dumps(decision))

    return responder
