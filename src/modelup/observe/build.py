"""Build a trace record from one call's facts: the same function for a run's case and a served
request, so both keep exactly the same record."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

from modelup.config.endpoints import public_endpoint
from modelup.evaluate.scoring import CaseResult
from modelup.models.pricing import Price, case_cost
from modelup.observe.record import (
    CheckTrace,
    PolicyTrace,
    RequestParameters,
    Source,
    TraceRecord,
    UsageTrace,
    Validation,
    inputs_sha256,
)
from modelup.workflow.base import CheckSpec, Workflow
from modelup.workflow.checks import CheckOutcome, values_at
from modelup.workflow.checks_semantic import classify
from modelup.workflow.policy import Policy, PolicyDecision

_MAX_NOTE = 500
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_TIMEOUT = re.compile(r"time(d)? ?out", re.IGNORECASE)


@dataclass(slots=True)
class CallFacts:
    """What the run or the shell knows of one finished call, scored. Made for every call and
    read once, so not frozen (a frozen dataclass costs three times as much to make)."""

    workflow: Workflow
    result: CaseResult
    fields: Mapping[str, Any]
    """The case's or the request's fields (expectations, if any, are not recorded)."""
    requested_model: str
    endpoint: str
    source: Source = "run"
    provider: str = "openai"
    finished_at: datetime | None = None
    """When the answer arrived (default: now)."""
    role: str | None = None
    run_id: str | None = None
    release_id: str | None = None
    arm: str | None = None
    fallback: str | None = None
    price: Price | None = None
    request: RequestParameters = field(default_factory=RequestParameters)


@dataclass(frozen=True, slots=True)
class _WorkflowView:
    """What every record of a workflow needs of it, worked out once."""

    inputs: tuple[str, ...]
    label_free: tuple[bool, ...]
    prompt_sha256: str
    policy_checks: tuple[CheckSpec, ...]
    lexicon_checks: tuple[CheckSpec, ...]
    source_fields: tuple[str, ...]


_VIEWS: dict[int, tuple[Workflow, _WorkflowView]] = {}


def _view(workflow: Workflow) -> _WorkflowView:
    found = _VIEWS.get(id(workflow))
    if found is not None and found[0] is workflow:
        return found[1]
    view = _WorkflowView(
        inputs=tuple(sorted(workflow.input_fields)),
        label_free=tuple(workflow.is_label_free(check) for check in workflow.checks),
        prompt_sha256=workflow.prompt.sha256,
        policy_checks=tuple(
            spec
            for spec in workflow.checks
            if spec.kind == "policy" and isinstance(spec.params.get("policy"), Policy)
        ),
        lexicon_checks=tuple(spec for spec in workflow.checks if spec.kind == "lexicon"),
        source_fields=tuple(_source_fields(workflow.checks)),
    )
    if len(_VIEWS) > 32:
        _VIEWS.clear()
    _VIEWS[id(workflow)] = (workflow, view)  # the workflow is kept, so its id is not reused
    return view


@dataclass(frozen=True, slots=True)
class _CaseView:
    """What every call of one case (every model, every epoch) shares: worked out once."""

    fields: Mapping[str, Any]
    """Kept, so that the id this view is cached under is not reused."""
    inputs: dict[str, Any]
    inputs_sha256: str
    source_ids: list[str]
    decisions: tuple[PolicyDecision, ...]
    """Each policy check's decision, in ``_WorkflowView.policy_checks`` order."""


_CASES: dict[tuple[int, int], _CaseView] = {}
_CHECKS: dict[tuple[int, str, bool, float, str | None, bool], CheckTrace] = {}
_CACHE_LIMIT = 100_000


def _case(workflow: Workflow, view: _WorkflowView, fields: Mapping[str, Any]) -> _CaseView:
    key = (id(workflow), id(fields))
    found = _CASES.get(key)
    if found is not None and found.fields is fields:
        return found
    inputs = {name: fields[name] for name in view.inputs if name in fields}
    case = _CaseView(
        fields=fields,
        inputs=inputs,
        inputs_sha256=inputs_sha256(inputs),
        source_ids=source_ids(workflow, fields),
        decisions=tuple(spec.params["policy"].decide(fields) for spec in view.policy_checks),
    )
    if len(_CASES) >= _CACHE_LIMIT:
        _CASES.clear()
    _CASES[key] = case
    return case


def forget_case(workflow: Workflow, fields: Mapping[str, Any]) -> None:
    """Drop what was worked out for ``fields`` (a served request, never seen again)."""
    key = (id(workflow), id(fields))
    found = _CASES.get(key)
    if found is not None and found.fields is fields:
        del _CASES[key]


def _check(spec: CheckSpec, index: int, label_free: bool, outcome: Any, keep: Keep) -> CheckTrace:
    """A check's trace; equal outcomes share one (a run has few distinct ones)."""
    note = _clip(keep.scrub(outcome.note))
    key = (index, spec.name, bool(outcome.passed), float(outcome.score), note, label_free)
    found = _CHECKS.get(key)
    if found is None:
        found = CheckTrace(
            name=spec.name,
            kind=spec.kind,
            figure=spec.figure,
            passed=bool(outcome.passed),
            score=float(outcome.score),
            note=note,
            label_free=label_free,
        )
        if len(_CHECKS) >= _CACHE_LIMIT:
            _CHECKS.clear()
        _CHECKS[key] = found
    return found


_CHECK_LISTS: dict[
    tuple[int, int, tuple[tuple[bool, float, str | None], ...]],
    tuple[_WorkflowView, Keep, tuple[CheckTrace, ...]],
] = {}
_OUTCOME = attrgetter("passed", "score", "note")
"""What of a check's outcome its trace holds (its name is the spec's): a plain tuple, hashed and
compared in C, where the outcomes' own dataclass ``__hash__`` and ``__eq__`` are Python."""


def _checks(
    workflow: Workflow, view: _WorkflowView, outcomes: tuple[CheckOutcome, ...], keep: Keep
) -> list[CheckTrace]:
    """The checks' traces of one answer; answers with equal outcomes share them (a run has few
    distinct combinations, and a dictionary lookup costs less than one check's trace). The view
    and the ``Keep`` are kept with them and found again by identity, so neither id is reused and
    a note is always scrubbed of the right secrets."""
    key = (id(view), id(keep), tuple(map(_OUTCOME, outcomes)))
    found = _CHECK_LISTS.get(key)
    if found is None or found[0] is not view or found[1] is not keep:
        traces = tuple(
            _check(spec, index, label_free, outcome, keep)
            for index, (spec, label_free, outcome) in enumerate(
                zip(workflow.checks, view.label_free, outcomes, strict=False)
            )
        )
        if len(_CHECK_LISTS) >= _CACHE_LIMIT:
            _CHECK_LISTS.clear()
        found = _CHECK_LISTS[key] = (view, keep, traces)
    return list(found[2])


@lru_cache(maxsize=256)
def _public(endpoint: str) -> str:
    """The endpoint as a record keeps it (without credentials)."""
    return public_endpoint(endpoint) if "://" in endpoint else endpoint


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


def build_record(
    facts: CallFacts,
    *,
    trace_id: str,
    span_id: str,
    parent_span_id: str | None = None,
    drift: bool = False,
    keep: Keep | None = None,
) -> TraceRecord:
    """The trace record of ``facts``, under the given ids."""
    keep = keep or Keep()
    workflow, result = facts.workflow, facts.result
    finished = facts.finished_at or datetime.now(UTC)
    if finished.tzinfo is not UTC:
        finished = finished.astimezone(UTC)
    latency = result.latency_ms if result.error is None else None
    started = finished - timedelta(milliseconds=latency or 0.0)
    view = _view(workflow)
    case = _case(workflow, view, facts.fields)
    checks = _checks(workflow, view, result.checks, keep)
    policies = _policies(view, case, result.output)
    return TraceRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_span_id,
        started_at=started,
        finished_at=finished,
        source=facts.source,
        run_id=facts.run_id,
        release_id=facts.release_id,
        arm=facts.arm,
        fallback=facts.fallback,
        workflow=workflow.name,
        workflow_version=workflow.version,
        prompt_id=workflow.prompt.id,
        prompt_sha256=view.prompt_sha256,
        case_id=result.case_id,
        epoch=result.epoch,
        role=facts.role,
        source_ids=case.source_ids,
        inputs=case.inputs if keep.inputs else None,
        inputs_sha256=case.inputs_sha256,
        provider=facts.provider,
        endpoint=_public(facts.endpoint),
        requested_model=facts.requested_model,
        resolved_model=result.resolved_model,
        system_fingerprint=result.system_fingerprint,
        response_id=result.response_id,
        finish_reason=result.finish_reason,
        request=facts.request,
        validation=validation(result),
        repairs=list(result.repairs),
        checks=checks,
        policies=policies,
        action_classes=_action_classes(view, result.output),
        passed=result.passed,
        failed=not result.passed,
        overridden=any(policy.overridden for policy in policies),
        drift=drift,
        latency_ms=latency,
        usage=_usage(result.usage.prompt_tokens, result.usage.completion_tokens),
        cost_usd=case_cost(facts.price, result.usage) if result.error is None else None,
        attempts=result.attempts,
        cached=result.cached,
        error=keep.scrub(result.error),
        error_type=error_type(result.error),
        answer=keep.scrub(result.raw_output) if keep.answers else None,
        output=dict(result.output) if keep.answers and result.output is not None else None,
    )


def validation(result: CaseResult) -> Validation:
    if result.error is not None:
        return "error"
    if result.strict_valid:
        return "strict"
    return "repaired" if result.valid else "invalid"


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


def _policies(
    view: _WorkflowView, case: _CaseView, output: Mapping[str, Any] | None
) -> list[PolicyTrace]:
    outcomes = []
    for spec, decision in zip(view.policy_checks, case.decisions, strict=True):
        outcomes.append(_policy_trace(spec, decision, output))
    return outcomes


def _policy_trace(
    spec: CheckSpec, decision: PolicyDecision, output: Mapping[str, Any] | None
) -> PolicyTrace:
    path = str(spec.params["output"])
    found = values_at(output, path) if output is not None else []
    said = found[0] if found else None
    return PolicyTrace(
        check=spec.name,
        policy=spec.params["policy"].name,
        output=path,
        decision=decision.value,
        rule=decision.rule,
        reason=decision.reason,
        model_said=said if isinstance(said, bool | int | float | str) else None,
        overridden=output is not None and said is not decision.value,
    )


@lru_cache(maxsize=4096)
def _usage(input_tokens: int, output_tokens: int) -> UsageTrace:
    return UsageTrace(input_tokens=input_tokens, output_tokens=output_tokens)


def _action_classes(view: _WorkflowView, output: Mapping[str, Any] | None) -> list[str]:
    if output is None or not view.lexicon_checks:
        return []
    found: dict[str, None] = {}
    for spec in view.lexicon_checks:
        for item in _items(output, str(spec.params["output"])):
            found[_classify(id(spec), spec, str(item))] = None
    return list(found)


_CLASSES: dict[tuple[int, str], str] = {}


def _classify(key: int, spec: CheckSpec, item: str) -> str:
    found = _CLASSES.get((key, item))
    if found is None:
        found, _ = classify(
            item, spec.params["classes"], spec.params.get("default", "unclassified")
        )
        if len(_CLASSES) >= _CACHE_LIMIT:
            _CLASSES.clear()
        _CLASSES[(key, item)] = found
    return found


def source_ids(workflow: Workflow, fields: Mapping[str, Any]) -> list[str]:
    """The ids of the sources a request gave: the keys (or items) of the case fields that
    ``sources_cited`` checks cite from."""
    ids: dict[str, None] = {}
    for field_name in _source_fields(workflow.checks):
        value = fields.get(field_name)
        items: Iterable[Any] = value if isinstance(value, Mapping | list) else ()
        for item in items:
            ids[str(item)] = None
    return list(ids)


def _source_fields(checks: Iterable[CheckSpec]) -> list[str]:
    return [str(c.params["case"]) for c in checks if c.kind == "sources_cited"]


def _items(output: Mapping[str, Any], path: str) -> list[Any]:
    found: list[Any] = []
    for value in values_at(output, path):
        found.extend(value if isinstance(value, list) else [value])
    return found


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _MAX_NOTE:
        return text
    return text[: _MAX_NOTE - 1] + "…"
