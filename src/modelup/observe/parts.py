"""A trace record's parts, and the one function that assembles the record from them.

A call's record is made in two steps. Where the call ran (the run's event loop, the shell), what
needs the workflow's code is worked out into plain parts (``modelup.observe.build``): the
workflow's and the case's facts, shared by many calls, and the call's own, a tuple. ``assemble``
makes the ``TraceRecord`` from them, wherever it runs: in the same process for an OpenTelemetry
exporter, in the trace writer (``modelup.observe.trace_writer``) for the store, so that a busy run
spends its own CPU on the tuple only (docs/benchmarks.md). This module imports nothing of the
run's code, and so neither does the writer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from modelup.observe.record import (
    CheckTrace,
    PolicyTrace,
    RequestParameters,
    Source,
    TraceRecord,
    UsageTrace,
    Validation,
)

_MAX_NOTE = 500
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_TIMEOUT = re.compile(r"time(d)? ?out", re.IGNORECASE)
CACHE_LIMIT = 100_000
"""Entries a cache of record parts holds before it starts again (here and in ``build``)."""


@dataclass(frozen=True, slots=True)
class Keep:
    """What of the content a record keeps, and which secrets it must never hold."""

    answers: bool = False
    inputs: bool = True
    secrets: tuple[str, ...] = ()

    def scrub(self, text: str | None) -> str | None:
        if text is None:
            return None
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


class CheckMeta(NamedTuple):
    """A check as every record of its workflow names it."""

    name: str
    kind: str
    figure: str
    label_free: bool


class PolicyMeta(NamedTuple):
    """A policy check: its name, its policy's and the answer's field the policy owns."""

    check: str
    policy: str
    output: str


@dataclass(frozen=True, slots=True)
class WorkflowFacts:
    """What every record of one workflow carries of it."""

    name: str
    version: str
    prompt_id: str
    prompt_sha256: str
    checks: tuple[CheckMeta, ...]
    policies: tuple[PolicyMeta, ...]


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What every call of one case (every model and epoch; or one served request) shares."""

    inputs: dict[str, Any]
    inputs_sha256: str
    source_ids: tuple[str, ...]
    decisions: tuple[tuple[bool, str | None, str], ...]
    """Each policy's decision (value, rule, reason), in ``WorkflowFacts.policies`` order."""


class CallParts(NamedTuple):
    """What is the call's own, as plain values."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    drift: bool
    finished_at: datetime | float
    """When the answer arrived: a UTC time, or seconds since the epoch."""
    source: Source
    provider: str
    run_id: str | None
    release_id: str | None
    arm: str | None
    fallback: str | None
    role: str | None
    requested_model: str
    endpoint: str
    """Without credentials (``public_endpoint``)."""
    request: RequestParameters
    case_id: str | None
    epoch: int
    validation: Validation
    passed: bool
    repairs: tuple[str, ...]
    outcomes: tuple[tuple[bool, float, str | None], ...]
    """Each check's (passed, score, note), in ``WorkflowFacts.checks`` order."""
    said: tuple[tuple[Any, bool], ...]
    """Each policy's (what the answer said, whether the policy overrode it)."""
    action_classes: tuple[str, ...]
    latency_ms: float | None
    """``None`` for an errored call."""
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    attempts: int
    cached: bool
    error: str | None
    resolved_model: str | None
    system_fingerprint: str | None
    response_id: str | None
    finish_reason: str | None
    answer: str | None
    """The answer's text, when the ``Keep`` keeps answers (else ``None``)."""
    output: Mapping[str, Any] | None
    """The parsed answer, when the ``Keep`` keeps answers (else ``None``)."""


class RecordParts(NamedTuple):
    """Everything a record is made of; ``assemble`` makes it."""

    keep: Keep
    workflow: WorkflowFacts
    case: CaseFacts
    call: CallParts


def assemble(parts: RecordParts) -> TraceRecord:
    """The trace record of ``parts``."""
    keep, workflow, case, call = parts
    finished = call.finished_at
    if isinstance(finished, float | int):
        finished = datetime.fromtimestamp(finished, UTC)
    elif finished.tzinfo is not UTC:
        finished = finished.astimezone(UTC)
    policies = [
        PolicyTrace(
            check=meta.check,
            policy=meta.policy,
            output=meta.output,
            decision=value,
            rule=rule,
            reason=reason,
            model_said=said,
            overridden=overridden,
        )
        for meta, (value, rule, reason), (said, overridden) in zip(
            workflow.policies, case.decisions, call.said, strict=True
        )
    ]
    return TraceRecord(
        trace_id=call.trace_id,
        span_id=call.span_id,
        parent_span_id=call.parent_span_id,
        started_at=finished - timedelta(milliseconds=call.latency_ms or 0.0),
        finished_at=finished,
        source=call.source,
        run_id=call.run_id,
        release_id=call.release_id,
        arm=call.arm,
        fallback=call.fallback,
        workflow=workflow.name,
        workflow_version=workflow.version,
        prompt_id=workflow.prompt_id,
        prompt_sha256=workflow.prompt_sha256,
        case_id=call.case_id,
        epoch=call.epoch,
        role=call.role,
        source_ids=list(case.source_ids),
        inputs=case.inputs if keep.inputs else None,
        inputs_sha256=case.inputs_sha256,
        provider=call.provider,
        endpoint=call.endpoint,
        requested_model=call.requested_model,
        resolved_model=call.resolved_model,
        system_fingerprint=call.system_fingerprint,
        response_id=call.response_id,
        finish_reason=call.finish_reason,
        request=call.request,
        validation=call.validation,
        repairs=list(call.repairs),
        checks=_checks(workflow, call.outcomes, keep),
        policies=policies,
        action_classes=list(call.action_classes),
        passed=call.passed,
        failed=not call.passed,
        overridden=any(overridden for _, overridden in call.said),
        drift=call.drift,
        latency_ms=call.latency_ms,
        usage=_usage(call.input_tokens, call.output_tokens),
        cost_usd=call.cost_usd,
        attempts=call.attempts,
        cached=call.cached,
        error=keep.scrub(call.error),
        error_type=error_type(call.error),
        answer=keep.scrub(call.answer) if keep.answers else None,
        output=dict(call.output) if keep.answers and call.output is not None else None,
    )


def error_type(error: str | None) -> str | None:
    """A low-cardinality class of a failed call's reason (OpenTelemetry's ``error.type``)."""
    if error is None:
        return None
    status = _HTTP_STATUS.search(error)
    if status is not None:
        return status.group(1)
    if _TIMEOUT.search(error):
        return "timeout"
    return "call_failed"


_CHECK_LISTS: dict[
    tuple[int, int, tuple[tuple[bool, float, str | None], ...]],
    tuple[WorkflowFacts, Keep, tuple[CheckTrace, ...]],
] = {}


def _checks(
    workflow: WorkflowFacts, outcomes: tuple[tuple[bool, float, str | None], ...], keep: Keep
) -> list[CheckTrace]:
    """The checks' traces of one answer; answers with equal outcomes share them (a run has few
    distinct combinations, and a dictionary lookup costs less than one check's trace). The
    workflow's facts and the ``Keep`` are kept with them and found again by identity, so
    neither id is reused and a note is always scrubbed of the right secrets."""
    key = (id(workflow), id(keep), outcomes)
    found = _CHECK_LISTS.get(key)
    if found is None or found[0] is not workflow or found[1] is not keep:
        traces = tuple(
            CheckTrace(
                name=meta.name,
                kind=meta.kind,
                figure=meta.figure,
                passed=bool(passed),
                score=float(score),
                note=_clip(keep.scrub(note)),
                label_free=meta.label_free,
            )
            for meta, (passed, score, note) in zip(workflow.checks, outcomes, strict=False)
        )
        if len(_CHECK_LISTS) >= CACHE_LIMIT:
            _CHECK_LISTS.clear()
        found = _CHECK_LISTS[key] = (workflow, keep, traces)
    return list(found[2])


@lru_cache(maxsize=4096)
def _usage(input_tokens: int, output_tokens: int) -> UsageTrace:
    return UsageTrace(input_tokens=input_tokens, output_tokens=output_tokens)


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _MAX_NOTE:
        return text
    return text[: _MAX_NOTE - 1] + "…"
