"""Simulated models: deterministic, offline stand-ins that answer through the same seam.

A simulated model receives exactly the messages a live model would. It recognises the case from
those messages (an answer key built from the dataset) and lets the workflow's simulator write the
answer under a behaviour profile. Two generic profile keys are handled here, for every workflow:
``call_failure_rate`` (the call fails, as a network call can) and ``resolved_model`` (the model
the endpoint claims answered, to rehearse alias resolution).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from modelup.errors import WorkflowError
from modelup.models.base import CallFailed
from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.workflow.base import Simulator, Workflow

_GENERIC_KEYS = ("call_failure_rate", "resolved_model")


class SimulatedCase(Protocol):
    """What a simulated model needs of a case (an ``EvalCase`` is one)."""

    @property
    def family(self) -> str: ...
    @property
    def fields(self) -> Mapping[str, Any]: ...


def _messages_key(messages: Iterable[Message]) -> str:
    canonical = json.dumps([m.to_json() for m in messages], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class SimulatedModelClient:
    """A ``ModelClient`` that answers from a workflow simulator; no network, no sleeping."""

    def __init__(
        self,
        workflow: Workflow,
        cases: Iterable[SimulatedCase],
        profile: Mapping[str, Any],
        *,
        seed: int = 0,
    ) -> None:
        if workflow.simulator is None:
            raise WorkflowError(f"workflow {workflow.name!r} has no simulated models")
        self._simulator: Simulator = workflow.simulator
        self._behaviour = {k: v for k, v in profile.items() if k not in _GENERIC_KEYS}
        self._simulator.validate_profile(self._behaviour)
        self._failure_rate = float(profile.get("call_failure_rate", 0.0))
        self._resolved = profile.get("resolved_model")
        self._seed = seed
        self._answer_key = {
            _messages_key(workflow.prompt.render(case.fields)): case for case in cases
        }

    async def aclose(self) -> None:
        return None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = _messages_key(request.messages)
        case = self._answer_key.get(key)
        rng = random.Random(f"{self._seed}|{request.model}|{key}|{request.seed}|{request.epoch}")
        if rng.random() < self._failure_rate:
            raise CallFailed("simulated endpoint failure (HTTP 503)")
        if case is None:
            text, latency = "I do not recognise this request.", 50.0
        else:
            answer = self._simulator.answer(
                {**case.fields, "family": case.family}, self._behaviour, rng
            )
            text, latency = answer.text, answer.latency_ms
        prompt_chars = sum(len(m.content) for m in request.messages)
        return ChatResponse(
            content=text,
            latency_ms=latency,
            resolved_model=str(self._resolved) if self._resolved else request.model,
            usage=Usage(prompt_tokens=prompt_chars // 4, completion_tokens=len(text) // 4),
        )
