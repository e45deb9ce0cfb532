"""Scored incident-triage calls for trace tests, without any model: an answer is written here,
scored by the workflow's own scorer, and turned into the facts a trace is built from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelup.evaluate.dataset import EvalCase, load_dataset
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.chat import ChatResponse, Usage
from modelup.models.pricing import Price
from modelup.observe.build import CallFacts
from modelup.workflow.base import Workflow
from modelup.workflow.catalog import get_workflow

INCIDENT_DATASET = Path(__file__).resolve().parents[2] / "examples/incident-triage/dataset.json"


def incident() -> tuple[Workflow, list[EvalCase]]:
    workflow = get_workflow("incident-triage")
    return workflow, list(load_dataset(INCIDENT_DATASET, workflow).cases)


def triage_answer(*, escalate: bool, steps: list[str], cite: str) -> str:
    return json.dumps(
        {
            "summary": "Checkout errors after a deploy.",
            "likely_cause": "deploy 4821 shortened a timeout",
            "evidence": [{"source": cite, "observation": "timeout changed"}],
            "unknowns": ["tracing is missing"],
            "recommended_next_steps": steps,
            "escalation_required": escalate,
        }
    )


def scored(
    workflow: Workflow,
    case: EvalCase,
    answer: str | None,
    *,
    error: str | None = None,
    **response: Any,
) -> CaseResult:
    scorer = Scorer(workflow)
    if answer is None:
        return scorer.errored(case, error or "HTTP 500: boom")
    options: dict[str, Any] = {
        "latency_ms": 120.0,
        "resolved_model": "m-2026-05-01",
        "usage": Usage(400, 100),
        "system_fingerprint": "fp_a",
        "response_id": "chatcmpl-1",
        "finish_reason": "stop",
        **response,
    }
    return scorer.score(case, ChatResponse(content=answer, **options))


def facts(workflow: Workflow, case: EvalCase, result: CaseResult, **options: Any) -> CallFacts:
    defaults: dict[str, Any] = {
        "requested_model": "m",
        "endpoint": "http://user:pw@127.0.0.1:8080/v1",
        "price": Price(1.0, 2.0),
    }
    return CallFacts(
        workflow=workflow, result=result, fields=case.fields, **{**defaults, **options}
    )
