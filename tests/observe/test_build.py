"""The trace record of one call: identity, contract, checks, policy overrides, action classes,
sources, cost, errors; content kept only on request; secrets never."""

from __future__ import annotations

import json
from typing import Any

from modelup.observe.build import CallFacts, Keep, error_type, record_parts
from modelup.observe.parts import assemble
from modelup.observe.record import TRACE_VERSION, TraceRecord, inputs_sha256
from support.traces import facts, incident, scored, triage_answer

IDS = {"trace_id": "a" * 32, "span_id": "b" * 16, "parent_span_id": "c" * 16}


def build_record(facts: CallFacts, **options: Any) -> TraceRecord:
    """The record as a sink gets it: worked out where the call ran, assembled from its parts."""
    return assemble(record_parts(facts, **options))


def test_an_overridden_call_says_who_answered_and_what_the_policy_decided() -> None:
    workflow, cases = incident()
    case = cases[0]  # high impact, two sources: the policy escalates
    answer = triage_answer(
        escalate=False, steps=["check the deploy", "restart pods"], cite="deploy-4821"
    )
    record = build_record(facts(workflow, case, scored(workflow, case, answer)), **IDS)
    assert record.trace_version == TRACE_VERSION == 1
    assert (record.trace_id, record.span_id, record.parent_span_id) == (
        "a" * 32,
        "b" * 16,
        "c" * 16,
    )
    assert record.workflow == "incident-triage" and record.workflow_version == "1"
    assert record.prompt_id == "incident-triage-v1"
    assert record.prompt_sha256 == workflow.prompt.sha256
    assert (record.requested_model, record.resolved_model) == ("m", "m-2026-05-01")
    assert (record.system_fingerprint, record.response_id) == ("fp_a", "chatcmpl-1")
    assert record.finish_reason == "stop"
    assert record.endpoint == "http://127.0.0.1:8080/v1"  # userinfo never kept
    assert record.validation == "strict" and record.repairs == []
    assert record.source_ids == ["deploy-4821", "alert-checkout-5xx"]
    (policy,) = record.policies
    assert (policy.policy, policy.decision, policy.model_said) == ("escalation", True, False)
    assert policy.rule == "thin evidence on high impact" and policy.overridden
    assert record.overridden and record.failed and not record.passed
    assert record.action_classes == ["read", "write"]
    checks = {check.name: check for check in record.checks}
    assert not checks["escalation"].passed and checks["escalation"].label_free
    assert not checks["action_posture"].passed and "restart pods" in (
        checks["action_posture"].note or ""
    )
    assert not checks["cause_named"].label_free  # it reads cause_keywords, an expectation
    assert record.usage.input_tokens == 400 and record.usage.output_tokens == 100
    assert record.cost_usd == (400 * 1.0 + 100 * 2.0) / 1_000_000
    assert record.latency_ms == 120.0
    assert (record.finished_at - record.started_at).total_seconds() == 0.12


def test_inputs_only_and_no_answer_unless_asked() -> None:
    workflow, cases = incident()
    case = cases[0]
    answer = triage_answer(escalate=True, steps=["check the deploy"], cite="deploy-4821")
    record = build_record(facts(workflow, case, scored(workflow, case, answer)), **IDS)
    assert record.inputs is not None
    assert set(record.inputs) == {"request", "service", "impact", "sources", "actions_allowed"}
    assert b"cause_keywords" not in record.to_json()  # expectations are not kept
    assert record.inputs_sha256 == inputs_sha256(record.inputs)
    assert record.answer is None and record.output is None
    assert not record.overridden and record.passed
    kept = build_record(
        facts(workflow, case, scored(workflow, case, answer)), **IDS, keep=Keep(answers=True)
    )
    assert kept.answer == answer and kept.output is not None
    bare = build_record(
        facts(workflow, case, scored(workflow, case, answer)), **IDS, keep=Keep(inputs=False)
    )
    assert bare.inputs is None and bare.inputs_sha256 == record.inputs_sha256


def test_a_failed_call_keeps_its_error_class_and_never_a_secret() -> None:
    workflow, cases = incident()
    case = cases[1]
    secret = "sk-live-123456"
    result = scored(
        workflow, case, None, error=f"HTTP 503: upstream said key {secret} is over quota"
    )
    record = build_record(
        facts(workflow, case, result), **IDS, keep=Keep(answers=True, secrets=(secret,))
    )
    assert record.validation == "error" and record.error_type == "503"
    assert record.error is not None and secret not in record.error and "***" in record.error
    assert secret not in record.to_json().decode()
    assert record.failed and not record.overridden  # no answer: failed, not overridden
    assert record.cost_usd is None and record.latency_ms is None


def test_error_types_are_low_cardinality() -> None:
    assert error_type(None) is None
    assert error_type("HTTP 429: slow down (gave up after 4 attempts)") == "429"
    assert error_type("read timed out (gave up after 4 attempts)") == "timeout"
    assert error_type("connection reset") == "call_failed"


def test_the_record_reads_back_from_its_json() -> None:
    workflow, cases = incident()
    case = cases[2]
    answer = "```json\n" + triage_answer(escalate=True, steps=["inspect"], cite="x") + "\n```"
    record = build_record(facts(workflow, case, scored(workflow, case, answer)), **IDS)
    assert record.validation == "repaired" and record.repairs
    again = TraceRecord.from_json(record.to_json())
    assert again == record
    assert list(json.loads(record.to_json()))[:3] == ["trace_version", "trace_id", "span_id"]


def test_a_stored_record_with_an_unknown_key_or_a_wrong_type_is_refused() -> None:
    import pydantic
    import pytest

    workflow, cases = incident()
    case = cases[0]
    answer = triage_answer(escalate=True, steps=["inspect"], cite="deploy-4821")
    data = json.loads(
        build_record(facts(workflow, case, scored(workflow, case, answer)), **IDS).to_json()
    )
    with pytest.raises(pydantic.ValidationError, match="smuggled"):
        TraceRecord.from_json(json.dumps({**data, "smuggled": 1}))
    with pytest.raises(pydantic.ValidationError, match="validation"):
        TraceRecord.from_json(json.dumps({**data, "validation": "maybe"}))
    checks = [{**data["checks"][0], "smuggled": 1}]
    with pytest.raises(pydantic.ValidationError, match=r"checks\.0\.smuggled"):
        TraceRecord.from_json(json.dumps({**data, "checks": checks}))


def test_a_lone_surrogate_in_model_text_is_written_and_read_back() -> None:
    workflow, cases = incident()
    case = cases[1]
    result = scored(workflow, case, None, error="HTTP 500: hostile \ud800 text")
    record = build_record(facts(workflow, case, result), **IDS)
    data = record.to_json()
    data.decode("utf-8")
    assert TraceRecord.from_json(data).error == "HTTP 500: hostile \ud800 text"


def test_equal_outcomes_share_check_traces_but_each_keep_scrubs_its_own_secrets() -> None:
    workflow, cases = incident()
    case = cases[0]
    answer = triage_answer(escalate=False, steps=["restart pods"], cite="deploy-4821")
    result = scored(workflow, case, answer)
    keep = Keep()  # a recorder's: its records share their equal check traces
    plain = build_record(facts(workflow, case, result), **IDS, keep=keep)
    again = build_record(facts(workflow, case, result), **IDS, keep=keep)
    assert [a is b for a, b in zip(plain.checks, again.checks, strict=True)] == [True] * len(
        plain.checks
    )
    note = next(c.note for c in plain.checks if c.name == "action_posture")
    assert note is not None and "restart pods" in note
    # The same outcomes under a Keep whose secret is in the note: scrubbed, not the cached one.
    scrubbed = build_record(facts(workflow, case, result), **IDS, keep=Keep(secrets=("restart",)))
    posture = next(c for c in scrubbed.checks if c.name == "action_posture")
    assert posture.note is not None and "restart" not in posture.note and "***" in posture.note
    assert "restart" not in json.dumps([c.note for c in scrubbed.checks])
