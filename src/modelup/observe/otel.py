"""Trace records as OpenTelemetry spans, following the GenAI semantic conventions (pinned to
``SEMCONV_VERSION``), exported over OTLP/HTTP by the official SDK (the ``otel`` extra).

Spans are built from the records after the fact, with the calls' own timestamps and ids (a
record's ``span_id`` is its span's id), so a span in the collector and ``modelup traces show``
name the same call. Per call: a CLIENT span ``chat {gen_ai.request.model}``, child of a span per
case (run) or per request (serve); each check of the answer is a ``gen_ai.evaluation.result``
event on the call's span; each candidate's gate verdict is one on a ``modelup gate`` span.
modelup's own fields are ``modelup.*`` attributes. Spans are exported by the SDK's
``BatchSpanProcessor`` on its own thread; a collector that is down costs one warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from modelup.config.settings import Settings
from modelup.observe.parts import RecordParts, assemble
from modelup.observe.record import TraceRecord
from modelup.observe.recorder import GateOutcome
from modelup.observe.wanted import otel_destination

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

OTEL_EXTRA = "pip install 'modelup[otel]'"
SEMCONV_VERSION = "1.38.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
EVALUATION_EVENT = "gen_ai.evaluation.result"
_EXPORTER_LOGGERS = ("opentelemetry.exporter.otlp.proto.http", "opentelemetry.sdk.trace.export")


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


def server_attributes(endpoint: str) -> dict[str, Any]:
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return {}
    attributes: dict[str, Any] = {"server.address": parts.hostname}
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    if port is not None:
        attributes["server.port"] = port
    return attributes


def chat_attributes(record: TraceRecord) -> dict[str, Any]:
    """A call's span attributes: the GenAI conventions, then modelup's own (``modelup.*``)."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": record.provider,
        "gen_ai.request.model": record.requested_model,
        "gen_ai.output.type": "json",
        **server_attributes(record.endpoint),
    }
    optional: dict[str, Any] = {
        "gen_ai.request.temperature": record.request.temperature,
        "gen_ai.request.max_tokens": record.request.max_tokens,
        "gen_ai.request.seed": record.request.seed,
        "gen_ai.response.model": record.resolved_model,
        "gen_ai.response.id": record.response_id,
        "gen_ai.response.finish_reasons": [record.finish_reason] if record.finish_reason else None,
        "openai.response.system_fingerprint": record.system_fingerprint,
        "error.type": record.error_type,
    }
    if record.error is None:
        optional["gen_ai.usage.input_tokens"] = record.usage.input_tokens
        optional["gen_ai.usage.output_tokens"] = record.usage.output_tokens
    own: dict[str, Any] = {
        "modelup.trace.version": record.trace_version,
        "modelup.source": record.source,
        "modelup.run.id": record.run_id,
        "modelup.release.id": record.release_id,
        "modelup.release.arm": record.arm,
        "modelup.fallback": record.fallback,
        "modelup.workflow.name": record.workflow,
        "modelup.workflow.version": record.workflow_version,
        "modelup.prompt.id": record.prompt_id,
        "modelup.prompt.sha256": record.prompt_sha256,
        "modelup.case.id": record.case_id,
        "modelup.epoch": record.epoch,
        "modelup.role": record.role,
        "modelup.source_ids": record.source_ids or None,
        "modelup.validation": record.validation,
        "modelup.repairs": record.repairs or None,
        "modelup.policy.overridden": record.overridden,
        "modelup.policy.overrides": [p.policy for p in record.policies if p.overridden] or None,
        "modelup.action_classes": record.action_classes or None,
        "modelup.cost_usd": record.cost_usd,
        "modelup.attempts": record.attempts,
        "modelup.cached": record.cached,
        "modelup.passed": record.passed,
        "modelup.drift": record.drift,
    }
    attributes.update({k: v for k, v in {**optional, **own}.items() if v is not None})
    return attributes


def evaluation_events(record: TraceRecord) -> list[tuple[str, dict[str, Any]]]:
    """The ``gen_ai.evaluation.result`` events of a call: the contract's verdict, then every
    check (a policy check with the policy's decision and whether it overrode the answer)."""
    common = {"gen_ai.response.id": record.response_id} if record.response_id else {}
    valid = record.validation in ("strict", "repaired")
    events = [
        (
            EVALUATION_EVENT,
            {
                "gen_ai.evaluation.name": "contract",
                "gen_ai.evaluation.score.value": 1.0 if valid else 0.0,
                "gen_ai.evaluation.score.label": record.validation,
                **({"error.type": record.error_type} if record.error_type else {}),
                **common,
            },
        )
    ]
    policies = {policy.check: policy for policy in record.policies}
    for check in record.checks:
        attributes: dict[str, Any] = {
            "gen_ai.evaluation.name": check.name,
            "gen_ai.evaluation.score.value": check.score,
            "gen_ai.evaluation.score.label": "pass" if check.passed else "fail",
            "modelup.check.kind": check.kind,
            "modelup.check.figure": check.figure,
            "modelup.check.label_free": check.label_free,
            **common,
        }
        if check.note:
            attributes["gen_ai.evaluation.explanation"] = check.note
        policy = policies.get(check.name)
        if policy is not None:
            attributes["modelup.policy.name"] = policy.policy
            attributes["modelup.policy.decision"] = policy.decision
            attributes["modelup.policy.overridden"] = policy.overridden
            if policy.rule is not None:
                attributes["modelup.policy.rule"] = policy.rule
            attributes.setdefault("gen_ai.evaluation.explanation", policy.reason)
        events.append((EVALUATION_EVENT, attributes))
    return events


class _Guarded:
    """Wraps the OTLP exporter: the first failed export marks the collector down, and every
    later batch is dropped at once instead of waiting for it again."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.error: str | None = None
        self.dropped = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from opentelemetry.sdk.trace.export import SpanExportResult

        if self.error is None:
            try:
                result = self.inner.export(spans)
            except Exception as exc:  # an exporter bug must not reach the run
                self.error = f"{type(exc).__name__}: {exc}"
                result = SpanExportResult.FAILURE
            else:
                if result is not SpanExportResult.SUCCESS:
                    self.error = "the collector did not accept the spans"
            if result is SpanExportResult.SUCCESS:
                return result
        self.dropped += len(spans)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class OtelSink:
    """A trace sink that exports each record as spans. Built with ``open_otel_sink``."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        destination: str,
        service_name: str = "modelup",
        service_version: str = "0",
        timeout_s: float = 5.0,
    ) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.destination = destination
        self._timeout_ms = int(timeout_s * 1000)
        self._guard = _Guarded(exporter)
        self._ids = _preset_ids()
        resource = Resource.create(
            {"service.name": service_name, "service.version": service_version}
        )
        self._provider = TracerProvider(resource=resource, id_generator=self._ids)
        self._provider.add_span_processor(
            BatchSpanProcessor(self._guard, export_timeout_millis=self._timeout_ms)  # type: ignore[arg-type]
        )
        self._tracer = self._provider.get_tracer("modelup", service_version, schema_url=SCHEMA_URL)
        self._pending: dict[str, list[TraceRecord]] = {}

    def add(self, parts: RecordParts, *, closes_trace: bool) -> None:
        record = assemble(parts)
        calls = self._pending.setdefault(record.trace_id, [])
        calls.append(record)
        if closes_trace:
            self._emit(self._pending.pop(record.trace_id))

    def finish(self) -> None:
        """Nothing to hand over: spans leave on the span processor's own thread."""

    def gate(self, workflow: str, run_id: str | None, outcomes: Sequence[GateOutcome]) -> None:
        from opentelemetry.trace import SpanKind

        attributes: dict[str, Any] = {"modelup.workflow.name": workflow}
        if run_id is not None:
            attributes["modelup.run.id"] = run_id
        span = self._tracer.start_span(
            f"modelup gate {workflow}", kind=SpanKind.INTERNAL, attributes=attributes
        )
        for outcome in outcomes:
            span.add_event(
                EVALUATION_EVENT,
                {
                    "gen_ai.evaluation.name": "gate",
                    "gen_ai.evaluation.score.label": outcome.verdict,
                    "gen_ai.evaluation.explanation": " ".join(outcome.reasons),
                    "modelup.candidate": outcome.candidate,
                },
            )
        span.end()

    def _emit(self, calls: list[TraceRecord]) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        first = calls[0]
        start = min(_ns(call.started_at) for call in calls)
        end = max(_ns(call.finished_at) for call in calls)
        kind = "request" if first.source == "serve" else "case"
        parent_attributes: dict[str, Any] = {
            "modelup.workflow.name": first.workflow,
            "modelup.workflow.version": first.workflow_version,
        }
        for key, value in (
            ("modelup.case.id", first.case_id),
            ("modelup.run.id", first.run_id),
            ("modelup.release.id", first.release_id),
            ("modelup.release.arm", first.arm),
        ):
            if value is not None:
                parent_attributes[key] = value
        self._ids.preset(int(first.trace_id, 16), int(first.parent_span_id or "0", 16) or None)
        parent = self._tracer.start_span(
            f"modelup {kind} {first.workflow}",
            kind=SpanKind.SERVER if first.source == "serve" else SpanKind.INTERNAL,
            attributes=parent_attributes,
            start_time=start,
        )
        context = trace.set_span_in_context(parent)
        for call in calls:
            self._ids.preset(None, int(call.span_id, 16))
            span = self._tracer.start_span(
                f"chat {call.requested_model}",
                context=context,
                kind=SpanKind.CLIENT,
                attributes=chat_attributes(call),
                start_time=_ns(call.started_at),
            )
            for name, attributes in evaluation_events(call):
                span.add_event(name, attributes, timestamp=_ns(call.finished_at))
            if call.error is not None:
                span.set_status(Status(StatusCode.ERROR, call.error_type or "call_failed"))
            span.end(end_time=_ns(call.finished_at))
        if any(call.error is not None for call in calls):
            parent.set_status(Status(StatusCode.ERROR))
        parent.end(end_time=end)

    def close(self) -> list[str]:
        for calls in list(self._pending.values()):  # a trace cut short (a stopped run)
            self._emit(calls)
        self._pending.clear()
        self._provider.force_flush(self._timeout_ms)
        self._provider.shutdown()
        if self._guard.error is None:
            return []
        return [
            f"traces not exported to {self.destination}: {self._guard.error} "
            f"({self._guard.dropped} span(s) dropped)"
        ]


def _preset_ids() -> Any:
    """An id generator that hands out the ids a record already has (preset just before a span
    starts; spans start on one thread), and random ones otherwise."""
    from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

    class PresetIds(IdGenerator):
        def __init__(self) -> None:
            self._random = RandomIdGenerator()
            self._trace: int | None = None
            self._span: int | None = None

        def preset(self, trace_id: int | None, span_id: int | None) -> None:
            self._trace, self._span = trace_id, span_id

        def generate_trace_id(self) -> int:
            value, self._trace = self._trace, None
            return value if value is not None else self._random.generate_trace_id()

        def generate_span_id(self) -> int:
            value, self._span = self._span, None
            return value if value is not None else self._random.generate_span_id()

    return PresetIds()


def open_otel_sink(
    settings: Settings, *, service_version: str
) -> tuple[OtelSink | None, str | None]:
    """The exporting sink the settings ask for, or none; with a warning when one is asked for
    but cannot be built (the extra is not installed)."""
    destination = otel_destination(settings)
    if destination is None:
        return None, None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        return None, (
            f"traces not exported to {destination}: the OpenTelemetry exporter is not "
            f"installed ({OTEL_EXTRA})"
        )
    for name in _EXPORTER_LOGGERS:
        # The SDK logs each failed export with a traceback; modelup says it once, as a warning.
        logging.getLogger(name).addHandler(logging.NullHandler())
    options: dict[str, Any] = {"timeout": settings.otel.timeout_s}
    if settings.otel.endpoint:
        options["endpoint"] = settings.otel.endpoint.rstrip("/") + "/v1/traces"
    if settings.otel.headers:
        options["headers"] = {k: v.get_secret_value() for k, v in settings.otel.headers.items()}
    exporter = OTLPSpanExporter(**options)
    sink = OtelSink(
        exporter,
        destination=_public(destination),
        service_name=settings.otel.service_name,
        service_version=service_version,
        timeout_s=settings.otel.timeout_s,
    )
    return sink, None


def _public(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2], query="").geturl()


def header_secrets(settings: Settings) -> tuple[str, ...]:
    return tuple(value.get_secret_value() for value in settings.otel.headers.values())


__all__ = [
    "EVALUATION_EVENT",
    "OTEL_EXTRA",
    "SEMCONV_VERSION",
    "OtelSink",
    "chat_attributes",
    "evaluation_events",
    "header_secrets",
    "open_otel_sink",
]
