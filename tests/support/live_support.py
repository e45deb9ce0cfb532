"""Helpers for live-path tests: support-ops answers served by the loopback OpenAI server.

``SupportAnswers`` recognises a support-ops case from the messages it receives (the same fixed
prompt modelup renders) and answers as the workflow's simulator would under a profile, so a
live run against ``OpenAITestServer`` is scored on real, contract-shaped answers.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelup.evaluate.dataset import Dataset, EvalCase, load_dataset
from modelup.workflow.base import Workflow
from modelup.workflow.catalog import get_workflow
from support.openai_server import ChatCall, Completion, Reply

SUPPORT_OPS_DATASET = Path(__file__).resolve().parents[2] / "examples/support-ops/dataset.json"


def support_ops() -> tuple[Workflow, Dataset]:
    workflow = get_workflow("support-ops")
    return workflow, load_dataset(SUPPORT_OPS_DATASET, workflow)


class SupportAnswers:
    """A thread-safe responder: ``fault(call, case, attempt)`` may return a fault ``Reply``
    for the ``attempt``-th call (0-based) of that model on that case; otherwise the answer."""

    def __init__(
        self,
        workflow: Workflow,
        dataset: Dataset,
        *,
        profile: str = "steady",
        fault: Callable[[ChatCall, EvalCase, int], Reply | None] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        assert workflow.simulator is not None
        self._simulator = workflow.simulator
        self._profile = dict(workflow.simulator.profiles[profile])
        self._by_message = {
            workflow.prompt.render(case.fields)[-1].content: case for case in dataset.cases
        }
        self._fault = fault
        self._delay_s = delay_s
        self._lock = threading.Lock()
        self.attempts: Counter[tuple[str, str]] = Counter()
        """Calls received per (model, case id)."""

    def case_of(self, call: ChatCall) -> EvalCase:
        return self._by_message[call.last_content]

    def __call__(self, call: ChatCall) -> Reply:
        case = self.case_of(call)
        with self._lock:
            attempt = self.attempts[(call.model, case.id)]
            self.attempts[(call.model, case.id)] += 1
        if self._fault is not None:
            fault = self._fault(call, case, attempt)
            if fault is not None:
                return fault
        fields: dict[str, Any] = {**case.fields, "family": case.family}
        answer = self._simulator.answer(fields, self._profile, random.Random(case.id))
        return Completion(
            answer.text,
            prompt_tokens=100,
            completion_tokens=50,
            system_fingerprint="fp_test",
            delay_s=self._delay_s,
        )
