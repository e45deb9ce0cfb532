"""Simulated models: deterministic, recognise cases by their messages, profiles validated."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from modelup.errors import WorkflowError
from modelup.evaluate.dataset import load_dataset
from modelup.models.base import CallFailed
from modelup.models.chat import ChatRequest, Message
from modelup.models.simulated import SimulatedModelClient
from modelup.workflow.catalog import get_workflow

WORKFLOW = get_workflow("support-ops")


def ask(client: SimulatedModelClient, messages: tuple[Message, ...], epoch: int = 0) -> str:
    request = ChatRequest(model="m", messages=messages, epoch=epoch)
    return asyncio.run(client.complete(request)).content


def test_same_inputs_same_answer_and_perfect_profile_passes(support_ops_dataset: Path) -> None:
    dataset = load_dataset(support_ops_dataset, WORKFLOW)
    client = SimulatedModelClient(WORKFLOW, dataset.cases, {"latency_ms": 10.0})
    messages = WORKFLOW.prompt.render(dataset.cases[0].fields)
    assert ask(client, messages) == ask(client, messages)
    from modelup.evaluate.scoring import Scorer
    from modelup.models.chat import ChatResponse

    scorer = Scorer(WORKFLOW)
    for case in dataset.cases:
        text = ask(client, WORKFLOW.prompt.render(case.fields))
        result = scorer.score(case, ChatResponse(text, 10.0))
        assert result.passed, (case.id, result.notes)


def test_unknown_messages_get_an_unusable_answer(support_ops_dataset: Path) -> None:
    dataset = load_dataset(support_ops_dataset, WORKFLOW)
    client = SimulatedModelClient(WORKFLOW, dataset.cases, {})
    assert "not recognise" in ask(client, (Message("user", "something else"),))


def test_failure_rate_raises_call_failed(support_ops_dataset: Path) -> None:
    dataset = load_dataset(support_ops_dataset, WORKFLOW)
    client = SimulatedModelClient(WORKFLOW, dataset.cases, {"call_failure_rate": 1.0})
    with pytest.raises(CallFailed, match="simulated"):
        ask(client, WORKFLOW.prompt.render(dataset.cases[0].fields))


def test_bad_profile_names_the_key(support_ops_dataset: Path) -> None:
    dataset = load_dataset(support_ops_dataset, WORKFLOW)
    with pytest.raises(WorkflowError, match="wrong_priority"):
        SimulatedModelClient(WORKFLOW, dataset.cases, {"wrong_priority": 3})
    with pytest.raises(WorkflowError, match="nonsense"):
        SimulatedModelClient(WORKFLOW, dataset.cases, {"nonsense": 0.1})
