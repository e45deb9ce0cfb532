"""One request through the shell, with scripted models (no HTTP): on_fail (reask, fallback,
escalate), identity drift (flag, fallback, reject), upstream failures, containment and the trace
of every call."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from modelup.config.settings import Settings
from modelup.models.base import CallFailed
from modelup.models.chat import ChatResponse
from modelup.models.scripted import ScriptedClient
from modelup.observe.parts import RecordParts, assemble
from modelup.observe.record import TraceRecord
from modelup.observe.recorder import TraceRecorder
from modelup.serve.clients import ModelPool
from modelup.serve.runtime import workflow_runtime
from modelup.serve.shell import Outcome, Shell
from modelup.serve.state import Target, WorkflowState
from modelup.store.release_rows import PinnedIdentity
from modelup.store.serve_rows import Containment
from modelup.workflow.catalog import get_workflow
from support.serving import CALM_LOW, THIN_HIGH, triage


class Sink:
    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def add(self, parts: RecordParts, *, closes_trace: bool) -> None:
        self.records.append(assemble(parts))

    def gate(self, *args: Any) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> list[str]:
        return []


STABLE = Target("m-stable", PinnedIdentity("m-stable", "m-stable", ("fp_1",)), "rel-2")
OLD = Target("m-old", PinnedIdentity("m-old", "m-old"), "rel-1")
STATE = WorkflowState("incident-triage", stable=STABLE, last_known_good=OLD)


def run(
    clients: dict[str, ScriptedClient],
    fields: dict[str, Any],
    *,
    state: WorkflowState = STATE,
    target: Target = STABLE,
    on_fail: str | None = None,
    secrets: tuple[str, ...] = (),
) -> tuple[Outcome, list[TraceRecord]]:
    workflow = get_workflow("incident-triage")
    if on_fail is not None:
        authority = dataclasses.replace(workflow.authority, on_fail=on_fail)
        workflow = dataclasses.replace(workflow, authority=authority)
    runtime = workflow_runtime("incident-triage", workflow)
    pool = ModelPool(Settings(), make_client=lambda url, settings, model: clients[model])
    sink = Sink()
    shell = Shell(pool, TraceRecorder([sink]), secrets=secrets)
    inputs = runtime.inputs.model_validate(fields).model_dump()
    outcome = asyncio.run(shell.serve(runtime, state, "stable", target, inputs, "req-1"))
    return outcome, sink.records


def said(content: str, model: str = "m-stable", fp: str | None = "fp_1") -> ChatResponse:
    return ChatResponse(content, 12.0, resolved_model=model, system_fingerprint=fp)


def test_the_policy_decides_escalation_and_the_override_is_recorded() -> None:
    clients = {"m-stable": ScriptedClient(said(triage(escalate=False)))}
    outcome, records = run(clients, THIN_HIGH)
    assert outcome.status == 200
    assert outcome.body["escalation_required"] is True
    (override,) = outcome.body["shell"]["overrides"]
    assert override["field"] == "escalation_required"
    assert (override["model_value"], override["policy_value"]) == (False, True)
    assert "thin evidence on high impact" in override["why"]
    (record,) = records
    assert record.overridden and record.policies[0].model_said is False
    assert outcome.body["shell"]["trace_id"] == record.trace_id
    assert record.arm == "stable" and record.release_id == "rel-2"


def test_a_model_that_agrees_is_not_overridden() -> None:
    clients = {"m-stable": ScriptedClient(said(triage(escalate=False)))}
    outcome, _ = run(clients, CALM_LOW)
    assert outcome.body["escalation_required"] is False
    assert outcome.body["shell"]["overrides"] == []


def test_write_shaped_steps_are_removed_unless_the_request_authorises_them() -> None:
    steps = ["restart the checkout pods", "inspect the error logs"]
    outcome, _ = run({"m-stable": ScriptedClient(said(triage(steps=steps)))}, THIN_HIGH)
    assert outcome.body["recommended_next_steps"] == ["inspect the error logs"]
    removed = outcome.body["shell"]["overrides"][-1]
    assert removed["model_value"] == ["restart the checkout pods"]
    authorised = {**THIN_HIGH, "actions_allowed": True}
    outcome, _ = run({"m-stable": ScriptedClient(said(triage(steps=steps)))}, authorised)
    assert outcome.body["recommended_next_steps"] == steps


def test_under_containment_escalation_is_forced_and_steps_are_read_only() -> None:
    contained = dataclasses.replace(
        STATE, containment=Containment("rel-2", STATE_TIME, "oncall", "rolled back")
    )
    steps = ["roll back deploy 4821", "collect the traces", "page the owner"]
    clients = {"m-stable": ScriptedClient(said(triage(escalate=False, steps=steps)))}
    outcome, _ = run(clients, {**CALM_LOW, "actions_allowed": True}, state=contained)
    body = outcome.body
    assert body["escalation_required"] is True  # no rule fires, but containment forces it
    assert body["recommended_next_steps"] == ["collect the traces"]  # read-only only
    assert body["shell"]["contained"] is True
    assert {o["field"] for o in body["shell"]["overrides"]} == {
        "escalation_required",
        "recommended_next_steps",
    }


def test_reask_once_then_the_valid_answer_is_served() -> None:
    client = ScriptedClient(said("not json at all"), said(triage()))
    outcome, records = run({"m-stable": client}, THIN_HIGH)
    assert outcome.status == 200
    shell = outcome.body["shell"]
    assert shell["validation"] == "invalid" and shell["answered_by"] == "reask"
    assert len(client.calls) == 2
    reask = client.calls[1].messages
    assert reask[-2].role == "assistant" and reask[-2].content == "not json at all"
    assert "did not satisfy the output contract" in reask[-1].content
    assert len(records) == 2 and len({r.trace_id for r in records}) == 1
    assert records[0].validation == "invalid" and records[1].validation == "strict"


def test_a_contract_failure_is_never_passed_on_it_escalates_to_the_safe_default() -> None:
    bad = json.dumps({"summary": "x", "escalation_required": "no"})
    client = ScriptedClient(said(bad), said(bad))
    outcome, _ = run({"m-stable": client}, CALM_LOW)
    body = outcome.body
    assert outcome.status == 200 and body["shell"]["answered_by"] == "safe_default"
    assert body["escalation_required"] is True
    assert body["summary"].startswith("The triage copilot could not produce")
    assert any("escalated" in action for action in body["shell"]["actions"])


def test_on_fail_fallback_asks_the_last_known_good_model() -> None:
    clients = {
        "m-stable": ScriptedClient(said("{}")),
        "m-old": ScriptedClient(said(triage(), model="m-old", fp=None)),
    }
    outcome, records = run(clients, THIN_HIGH, on_fail="fallback")
    assert outcome.body["shell"]["answered_by"] == "fallback"
    assert outcome.body["shell"]["answered_model"] == "m-old"
    assert [r.requested_model for r in records] == ["m-stable", "m-old"]


def test_on_fail_escalate_does_not_call_again() -> None:
    client = ScriptedClient(said("{}"))
    outcome, _ = run({"m-stable": client}, THIN_HIGH, on_fail="escalate")
    assert outcome.body["shell"]["answered_by"] == "safe_default" and len(client.calls) == 1


def test_an_upstream_failure_is_a_502_and_a_timeout_a_504_never_an_answer() -> None:
    failing = ScriptedClient(CallFailed("HTTP 500: boom sk-secret-1 (gave up after 1 attempts)"))
    outcome, records = run({"m-stable": failing}, THIN_HIGH, secrets=("sk-secret-1",))
    assert outcome.status == 502 and "summary" not in outcome.body
    error = outcome.body["error"]
    assert error["type"] == "upstream" and "HTTP 500" in error["message"]
    assert "sk-secret-1" not in json.dumps(outcome.body) and "***" in error["message"]
    assert error["trace_id"] == records[0].trace_id and records[0].error_type == "500"
    slow = ScriptedClient(CallFailed("timed out (TimeoutError) (gave up after 1 attempts)"))
    outcome, _ = run({"m-stable": slow}, THIN_HIGH)
    assert outcome.status == 504 and outcome.body["error"]["type"] == "timeout"


@pytest.mark.parametrize("rule", ["flag", "fallback", "reject"])
def test_identity_drift_is_detected_and_the_release_rule_applies(rule: str) -> None:
    target = dataclasses.replace(STABLE, drift_rule=rule)
    state = dataclasses.replace(STATE, stable=target)
    clients = {
        "m-stable": ScriptedClient(said(triage(), model="m-stable-2026-06")),
        "m-old": ScriptedClient(said(triage(), model="m-old", fp=None)),
    }
    outcome, records = run(clients, THIN_HIGH, state=state, target=target)
    assert outcome.drift and records[0].drift is False  # the recorder's own drift is per run
    if rule == "reject":
        assert outcome.status == 502 and outcome.body["error"]["type"] == "identity_drift"
        assert "m-stable-2026-06" in outcome.body["error"]["message"]
        return
    shell = outcome.body["shell"]
    assert shell["identity_drift"] is True and shell["resolved_model"] == "m-stable-2026-06"
    if rule == "fallback":
        assert shell["answered_model"] == "m-old" and len(clients["m-old"].calls) == 1
    else:
        assert shell["answered_model"] == "m-stable" and not clients["m-old"].calls
        assert any("identity drift flagged" in action for action in shell["actions"])


def test_a_new_fingerprint_is_drift_too() -> None:
    clients = {"m-stable": ScriptedClient(said(triage(), fp="fp_2"))}
    outcome, _ = run(clients, THIN_HIGH)
    assert outcome.body["shell"]["identity_drift"] is True


STATE_TIME = __import__("datetime").datetime(2026, 5, 18, tzinfo=__import__("datetime").UTC)
