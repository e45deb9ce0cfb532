"""The simulated grader: a deterministic, offline stand-in for a grader model in mock runs.

It reads the grader's request as a real grader would (the JSON data of ``evaluate.grading``) and
prefers the answer with more to say: the count of distinct words of four letters or more in the
fields it is shown, with a little seeded jitter. Like real graders it is imperfect on purpose:
when two answers are close it prefers the one shown first (position bias, which the swap rule
turns into a tie), and it rewards length, so it can prefer an answer a deterministic check
failed; the report shows that disagreement. Same request and seed, same answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from modelup.models.chat import ChatRequest, ChatResponse, Usage
from modelup.workflow.base import RUBRIC_SCALE

_WORD = re.compile(r"[^\W\d_]{4,}")
_CLOSE = 1.0
"""Different answers whose content differs by less than this (a word, give or take the
jitter) are a close call: the one shown first wins."""


class SimulatedGrader:
    """A ``ModelClient`` that answers the grader's pairwise and rubric requests."""

    def __init__(self, *, seed: int = 0) -> None:
        self._seed = seed

    async def aclose(self) -> None:
        return None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        text = request.messages[-1].content if request.messages else ""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and "answer_A" in data and "answer_B" in data:
            answer = self._pairwise(text, data)
        elif isinstance(data, dict) and isinstance(data.get("criteria"), dict):
            answer = self._rubric(text, data)
        else:
            answer = "I can only grade modelup's grader requests."
        prompt_chars = sum(len(message.content) for message in request.messages)
        return ChatResponse(
            content=answer,
            latency_ms=5.0,
            resolved_model=request.model,
            usage=Usage(prompt_tokens=prompt_chars // 4, completion_tokens=len(answer) // 4),
        )

    def _jitter(self, text: str, salt: str) -> float:
        """A number in [0, 1) fixed by the request, the salt and the seed."""
        digest = hashlib.sha256(f"{self._seed}|{salt}|{text}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _pairwise(self, text: str, data: dict[str, Any]) -> str:
        if data["answer_A"] == data["answer_B"]:
            return json.dumps({"winner": "tie", "reason": "The answers say the same."})
        first = _content(data["answer_A"]) + self._jitter(text, "A") / 2
        second = _content(data["answer_B"]) + self._jitter(text, "B") / 2
        if abs(first - second) < _CLOSE:
            winner, why = "A", "The answers are close; A reads slightly more complete."
        elif first > second:
            winner, why = "A", "A covers more of the request than B."
        else:
            winner, why = "B", "B covers more of the request than A."
        return json.dumps({"winner": winner, "reason": why})

    def _rubric(self, text: str, data: dict[str, Any]) -> str:
        low, high = RUBRIC_SCALE
        base = low + min(high - low, _content(data.get("answer")) / 8.0)
        scores = {}
        for name in data["criteria"]:
            jitter = self._jitter(text, str(name)) * 2.0 - 1.0  # -1 to +1
            scores[str(name)] = max(low, min(high, round(base + jitter)))
        reason = "Scored on how much of the request the answer addresses."
        return json.dumps({"scores": scores, "reason": reason})


def _content(answer: Any) -> float:
    """How much an answer says: its distinct words of four letters or more."""
    return float(len({word.lower() for text in _strings(answer) for word in _WORD.findall(text)}))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
