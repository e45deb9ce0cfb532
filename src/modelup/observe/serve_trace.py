"""The trace of a served request, for ``modelup serve``: the same record and the same sinks as a
run's calls, so production traces and eval traces are read, queried and replayed alike.

The shell scores each answer with the label-free view of its workflow (``label_free_workflow``)
and hands the facts here; each request is a trace of its own (a parent span per request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from modelup.config.settings import Settings
from modelup.evaluate.scoring import CaseResult
from modelup.models.pricing import Price
from modelup.observe.build import CallFacts, Keep, forget_case
from modelup.observe.otel import header_secrets, open_otel_sink
from modelup.observe.parts import RecordParts
from modelup.observe.record import RequestParameters
from modelup.observe.recorder import TraceRecorder, TraceSink
from modelup.observe.store_sink import StoreSink
from modelup.workflow.base import Workflow


def record_served(
    recorder: TraceRecorder,
    *,
    workflow: Workflow,
    request_id: str,
    fields: Mapping[str, Any],
    result: CaseResult,
    requested_model: str,
    endpoint: str,
    finished_at: datetime | None = None,
    release_id: str | None = None,
    arm: str | None = None,
    fallback: str | None = None,
    price: Price | None = None,
    request: RequestParameters | None = None,
    provider: str = "openai",
    calls: int = 1,
) -> RecordParts:
    """Record one served request: ``fields`` are the request's (inputs), ``result`` its scored
    answer (recorded under ``request_id``), ``release_id`` and ``arm`` the
    release state it was served under, ``fallback`` any fallback or rollback action taken.
    A request that made several model calls (a reask, a fallback) records each with the same
    ``request_id`` and ``calls``: they are spans of one trace. Returns the record's parts
    (``parts.call.trace_id`` is the trace's id; ``assemble(parts)`` is the record)."""
    facts = CallFacts(
        workflow=workflow,
        result=result if result.case_id == request_id else replace(result, case_id=request_id),
        fields=fields,
        requested_model=requested_model,
        endpoint=endpoint,
        source="serve",
        provider=provider,
        finished_at=finished_at,
        release_id=release_id,
        arm=arm,
        fallback=fallback,
        price=price,
        request=request or RequestParameters(),
    )
    parts = recorder.record(facts, group=request_id, size=calls)
    if not recorder.is_open(request_id):
        forget_case(workflow, fields)  # the request's last call: its fields are not seen again
    return parts


def open_serve_recorder(
    settings: Settings,
    *,
    service_version: str,
    secrets: Sequence[str] = (),
    store_sink: TraceSink | None = None,
) -> tuple[TraceRecorder, list[str]]:
    """The recorder of a serving process: always the project store (serve traces every
    request; ``store_sink``, else a ``StoreSink`` opened here), and an OpenTelemetry collector
    when one is configured; with warnings."""
    sinks: list[TraceSink] = [
        store_sink or StoreSink(settings.store_url, retention_days=settings.traces.retention_days)
    ]
    exporter, warning = open_otel_sink(settings, service_version=service_version)
    if exporter is not None:
        sinks.append(exporter)
    keep = Keep(
        answers=settings.traces.keep_answers,
        inputs=settings.traces.keep_inputs,
        secrets=tuple(s for s in (*secrets, *header_secrets(settings)) if s),
    )
    return TraceRecorder(sinks, keep=keep), [warning] if warning else []
