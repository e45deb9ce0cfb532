"""Trace records as OpenTelemetry GenAI spans, exported over OTLP/HTTP to a real receiver on
127.0.0.1 that decodes the protobuf payloads; a collector that is down costs one warning."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from modelup.config.settings import Settings
from modelup.observe import otel
from modelup.observe.build import Keep
from modelup.observe.otel import SEMCONV_VERSION, open_otel_sink
from modelup.observe.parts import assemble
from modelup.observe.recorder import GateOutcome, TraceRecorder
from modelup.observe.wanted import otel_destination
from support.otlp_receiver import OtlpReceiver
from support.traces import facts, incident, scored, triage_answer

CLIENT, INTERNAL = 3, 1  # the OTLP span kinds
ERROR = 2  # the OTLP status code


def settings(endpoint: str, **otel_options: Any) -> Settings:
    return Settings.model_validate({"otel": {"endpoint": endpoint, **otel_options}})


def record_case(recorder: TraceRecorder) -> list[Any]:
    """One case, three calls: an overridden answer, an agreeing one, a failed call."""
    workflow, cases = incident()
    case = cases[0]
    overridden = triage_answer(escalate=False, steps=["check the deploy"], cite="deploy-4821")
    agreeing = triage_answer(escalate=True, steps=["check the deploy"], cite="deploy-4821")
    results = [
        scored(workflow, case, overridden),
        scored(workflow, case, agreeing, resolved_model="m-2026-05-18", system_fingerprint="fp_b"),
        scored(workflow, case, None, error="HTTP 500: boom (gave up after 4 attempts)"),
    ]
    return [
        assemble(
            recorder.record(
                facts(workflow, case, result, run_id="R1", role="candidate"),
                group="IT-001",
                size=3,
            )
        )
        for result in results
    ]


def test_calls_become_genai_spans_with_evaluation_events() -> None:
    with OtlpReceiver() as receiver:
        sink, warning = open_otel_sink(
            settings(receiver.endpoint, headers={"x-api-key": "sekret-header"}),
            service_version="9.9",
        )
        assert sink is not None and warning is None
        recorder = TraceRecorder([sink], keep=Keep(secrets=("sekret-header",)))
        records = record_case(recorder)
        recorder.gate(
            "incident-triage", "R1", [GateOutcome("m", "Rollback", ("escalation regressed",))]
        )
        assert recorder.close() == []
        spans = receiver.wait_for(5)
    assert len(spans) == 5
    assert receiver.headers[0]["x-api-key"] == "sekret-header"
    by_id = {span.span_id: span for span in spans}
    chats = [by_id[record.span_id] for record in records]  # the record's ids are the span's
    parent = by_id[records[0].parent_span_id]
    assert parent.name == "modelup case incident-triage" and parent.kind == INTERNAL
    assert parent.attributes["modelup.case.id"] == "IT-001"
    assert parent.start_ns <= min(c.start_ns for c in chats) and parent.end_ns >= max(
        c.end_ns for c in chats
    )
    for chat, record in zip(chats, records, strict=True):
        assert chat.name == "chat m" and chat.kind == CLIENT
        assert chat.trace_id == record.trace_id == parent.trace_id
        assert chat.parent_span_id == parent.span_id
        assert chat.schema_url == f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
        assert chat.resource["service.name"] == "modelup"
        assert chat.resource["service.version"] == "9.9"
    first = chats[0].attributes
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.provider.name"] == "openai"
    assert first["gen_ai.request.model"] == "m"
    assert first["gen_ai.response.model"] == "m-2026-05-01"
    assert first["gen_ai.response.id"] == "chatcmpl-1"
    assert first["gen_ai.response.finish_reasons"] == ["stop"]
    assert first["gen_ai.usage.input_tokens"] == 400 and first["gen_ai.usage.output_tokens"] == 100
    assert first["openai.response.system_fingerprint"] == "fp_a"
    assert first["server.address"] == "127.0.0.1" and first["server.port"] == 8080
    assert first["modelup.workflow.version"] == "1"
    assert first["modelup.prompt.sha256"] == records[0].prompt_sha256
    assert first["modelup.policy.overridden"] is True
    assert first["modelup.policy.overrides"] == ["escalation"]
    assert first["modelup.action_classes"] == ["read"]
    assert first["modelup.cost_usd"] == pytest.approx(0.0006)
    assert first["modelup.run.id"] == "R1" and first["modelup.role"] == "candidate"
    assert "error.type" not in first
    events = {attrs["gen_ai.evaluation.name"]: attrs for name, attrs in chats[0].events}
    assert {name for name, _ in chats[0].events} == {"gen_ai.evaluation.result"}
    assert events["contract"]["gen_ai.evaluation.score.label"] == "strict"
    escalation = events["escalation"]
    assert escalation["gen_ai.evaluation.score.label"] == "fail"
    assert escalation["gen_ai.evaluation.score.value"] == 0.0
    assert escalation["modelup.policy.decision"] is True
    assert escalation["modelup.policy.overridden"] is True
    assert "disagrees with policy" in escalation["gen_ai.evaluation.explanation"]
    assert escalation["gen_ai.response.id"] == "chatcmpl-1"
    assert chats[1].attributes["modelup.drift"] is True  # another model answered
    failed = chats[2]
    assert failed.attributes["error.type"] == "500" and failed.status_code == ERROR
    assert "gen_ai.usage.input_tokens" not in failed.attributes
    gate = next(span for span in spans if span.name == "modelup gate incident-triage")
    ((_, verdict),) = gate.events
    assert verdict["gen_ai.evaluation.score.label"] == "Rollback"
    assert verdict["modelup.candidate"] == "m"
    for span in spans:  # the header's secret is in no attribute
        assert "sekret-header" not in repr(span.attributes) + repr(span.events)


def test_the_standard_environment_variable_names_the_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        assert otel_destination(Settings()) == receiver.endpoint
        sink, _ = open_otel_sink(Settings(), service_version="1")
        assert sink is not None
        recorder = TraceRecorder([sink])
        record_case(recorder)
        assert recorder.close() == []
        assert len(receiver.wait_for(4)) == 4


def test_nothing_is_exported_without_an_endpoint() -> None:
    assert otel_destination(Settings()) is None
    assert open_otel_sink(Settings(), service_version="1") == (None, None)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_collector_that_is_down_costs_one_warning() -> None:
    endpoint = f"http://127.0.0.1:{unused_port()}"
    sink, _ = open_otel_sink(settings(endpoint, timeout_s=2), service_version="1")
    assert sink is not None
    recorder = TraceRecorder([sink])
    started = time.monotonic()
    for _ in range(3):
        record_case(recorder)
    warnings = recorder.close()
    assert time.monotonic() - started < 10
    assert len(warnings) == 1
    assert warnings[0].startswith(f"traces not exported to {endpoint}")
    assert "span(s) dropped" in warnings[0]


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry.exporter"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    sink, warning = open_otel_sink(settings("http://127.0.0.1:4318"), service_version="1")
    assert sink is None and warning is not None
    assert otel.OTEL_EXTRA in warning and "pip install 'modelup[otel]'" in warning
