"""Build a trace record from one call's facts: the same function for a run's case and a served
request, so both keep exactly the same record.

``record_parts`` works out, where the call ran, what needs the workflow's code (the policies'
decisions, the action classes of the suggested steps) into the plain parts of
``modelup.observe.parts``; ``assemble`` makes the record from them, here or in the trace writer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from modelup.config.endpoints import public_endpoint
from modelup.evaluate.scoring import CaseResult
from modelup.models.pricing import Price, case_cost
from modelup.observe.parts import (
    CACHE_LIMIT,
    CallParts,
    CaseFacts,
    CheckMeta,
    Keep,
    PolicyMeta,
    RecordParts,
    WorkflowFacts,
    error_type,
)
from modelup.observe.record import RequestParameters, Source, Validation, inputs_sha256
from modelup.workflow.base import CheckSpec, Workflow
from modelup.workflow.checks import values_at
from modelup.workflow.checks_semantic import classify
from modelup.workflow.policy import Policy

_OUTCOME = attrgetter("passed", "score", "note")
"""What of a check's outcome its trace holds (its name is the spec's): a plain tuple, hashed and
compared in C, where the outcomes' own dataclass ``__hash__`` and ``__eq__`` are Python."""


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
    finished_at: datetime | float | None = None
    """When the answer arrived, as a time or in seconds since the epoch (default: now)."""
    role: str | None = None
    run_id: str | None = None
    release_id: str | None = None
    arm: str | None = None
    fallback: str | None = None
    price: Price | None = None
    request: RequestParameters = field(default_factory=RequestParameters)


@dataclass(frozen=True, slots=True)
class _WorkflowView:
    """What every record of a workflow needs of it, worked out once: its plain facts, and
    what the calls' parts are worked out from."""

    facts: WorkflowFacts
    inputs: tuple[str, ...]
    policy_checks: tuple[CheckSpec, ...]
    lexicon_checks: tuple[CheckSpec, ...]


_VIEWS: dict[int, tuple[Workflow, _WorkflowView]] = {}


def _view(workflow: Workflow) -> _WorkflowView:
    found = _VIEWS.get(id(workflow))
    if found is not None and found[0] is workflow:
        return found[1]
    policy_checks = tuple(
        spec
        for spec in workflow.checks
        if spec.kind == "policy" and isinstance(spec.params.get("policy"), Policy)
    )
    view = _WorkflowView(
        facts=WorkflowFacts(
            name=workflow.name,
            version=workflow.version,
            prompt_id=workflow.prompt.id,
            prompt_sha256=workflow.prompt.sha256,
            checks=tuple(
                CheckMeta(spec.name, spec.kind, spec.figure, workflow.is_label_free(spec))
                for spec in workflow.checks
            ),
            policies=tuple(
                PolicyMeta(spec.name, spec.params["policy"].name, str(spec.params["output"]))
                for spec in policy_checks
            ),
        ),
        inputs=tuple(sorted(workflow.input_fields)),
        policy_checks=policy_checks,
        lexicon_checks=tuple(spec for spec in workflow.checks if spec.kind == "lexicon"),
    )
    if len(_VIEWS) > 32:
        _VIEWS.clear()
    _VIEWS[id(workflow)] = (workflow, view)  # the workflow is kept, so its id is not reused
    return view


_CASES: dict[tuple[int, int], tuple[Mapping[str, Any], CaseFacts]] = {}


def _case(workflow: Workflow, view: _WorkflowView, fields: Mapping[str, Any]) -> CaseFacts:
    key = (id(workflow), id(fields))
    found = _CASES.get(key)
    if found is not None and found[0] is fields:
        return found[1]
    inputs = {name: fields[name] for name in view.inputs if name in fields}
    decisions = (spec.params["policy"].decide(fields) for spec in view.policy_checks)
    case = CaseFacts(
        inputs=inputs,
        inputs_sha256=inputs_sha256(inputs),
        source_ids=tuple(source_ids(workflow, fields)),
        decisions=tuple((d.value, d.rule, d.reason) for d in decisions),
    )
    if len(_CASES) >= CACHE_LIMIT:
        _CASES.clear()
    _CASES[key] = (fields, case)  # the fields are kept, so their id is not reused
    return case


def forget_case(workflow: Workflow, fields: Mapping[str, Any]) -> None:
    """Drop what was worked out for ``fields`` (a served request, never seen again)."""
    key = (id(workflow), id(fields))
    found = _CASES.get(key)
    if found is not None and found[0] is fields:
        del _CASES[key]


@lru_cache(maxsize=256)
def _public(endpoint: str) -> str:
    """The endpoint as a record keeps it (without credentials)."""
    return public_endpoint(endpoint) if "://" in endpoint else endpoint


def record_parts(
    facts: CallFacts,
    *,
    trace_id: str,
    span_id: str,
    parent_span_id: str | None = None,
    drift: bool = False,
    keep: Keep | None = None,
) -> RecordParts:
    """The parts of ``facts``' record, under the given ids: everything that needs the
    workflow's code, worked out here."""
    keep = keep or Keep()
    workflow, result = facts.workflow, facts.result
    view = _view(workflow)
    case = _case(workflow, view, facts.fields)
    output = result.output
    errored = result.error is not None
    said = tuple(
        _said(spec, decision, output)
        for spec, decision in zip(view.policy_checks, case.decisions, strict=True)
    )
    usage = result.usage
    call = CallParts(
        trace_id,
        span_id,
        parent_span_id,
        drift,
        facts.finished_at if facts.finished_at is not None else time.time(),
        facts.source,
        facts.provider,
        facts.run_id,
        facts.release_id,
        facts.arm,
        facts.fallback,
        facts.role,
        facts.requested_model,
        _public(facts.endpoint),
        facts.request,
        result.case_id,
        result.epoch,
        validation(result),
        result.passed,
        tuple(result.repairs),
        tuple(map(_OUTCOME, result.checks)),
        said,
        _action_classes(view, output),
        None if errored else result.latency_ms,
        usage.prompt_tokens,
        usage.completion_tokens,
        None if errored else case_cost(facts.price, usage),
        result.attempts,
        result.cached,
        result.error,
        result.resolved_model,
        result.system_fingerprint,
        result.response_id,
        result.finish_reason,
        result.raw_output if keep.answers else None,
        output if keep.answers else None,
    )
    return RecordParts(keep, view.facts, case, call)


def validation(result: CaseResult) -> Validation:
    if result.error is not None:
        return "error"
    if result.strict_valid:
        return "strict"
    return "repaired" if result.valid else "invalid"


def _said(
    spec: CheckSpec, decision: tuple[bool, str | None, str], output: Mapping[str, Any] | None
) -> tuple[Any, bool]:
    """What the answer said in the field the policy owns, and whether the policy overrides it:
    a valid answer that disagrees (or gives no true/false). A call without a valid answer is
    failed, not overridden."""
    found = values_at(output, str(spec.params["output"])) if output is not None else []
    said = found[0] if found else None
    return (
        said if isinstance(said, bool | int | float | str) else None,
        output is not None and said is not decision[0],
    )


def _action_classes(view: _WorkflowView, output: Mapping[str, Any] | None) -> tuple[str, ...]:
    if output is None or not view.lexicon_checks:
        return ()
    found: dict[str, None] = {}
    for spec in view.lexicon_checks:
        for item in _items(output, str(spec.params["output"])):
            found[_classify(id(spec), spec, str(item))] = None
    return tuple(found)


_CLASSES: dict[tuple[int, str], str] = {}


def _classify(key: int, spec: CheckSpec, item: str) -> str:
    found = _CLASSES.get((key, item))
    if found is None:
        found, _ = classify(
            item, spec.params["classes"], spec.params.get("default", "unclassified")
        )
        if len(_CLASSES) >= CACHE_LIMIT:
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


__all__ = [
    "CallFacts",
    "Keep",
    "error_type",
    "forget_case",
    "record_parts",
    "source_ids",
    "validation",
]
