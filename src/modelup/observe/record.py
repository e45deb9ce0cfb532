"""The trace record: what one model call was, who answered it and what was decided about it.

One versioned schema for ``modelup run`` and ``modelup serve``, written to the project store and
exported as OpenTelemetry spans (``modelup.observe.otel``). Following "the minimum useful trace":
the concrete resolved identity (not only the alias asked for), the prompt's id and hash, the
sources the request gave, the contract's verdict and every repair, every check and policy
outcome with the policy's overrides, the action class of the suggested next steps, latency,
tokens, cost, attempts, errors, and the release and arm the call was served under.

Answer text is kept only when asked for (``[traces] keep_answers``); credentials never: the
endpoint is kept without userinfo, and every text field is scrubbed of the run's secrets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from modelup import jsonbytes

if TYPE_CHECKING:
    from pydantic import TypeAdapter

TRACE_VERSION: Literal[1] = 1
"""Bumped on every change to the record's fields (documented in docs/traces.md)."""

Validation = Literal["strict", "repaired", "invalid", "error"]
Source = Literal["run", "serve"]


# A record and its parts are plain dataclasses: built for every call, they must be cheap to make
# and to encode (orjson writes dataclasses natively); pydantic checks them when a stored record is
# read back (``TraceRecord.from_json``). The parts shared between records (equal checks, usage,
# request parameters) are frozen; the record and its policy traces, made for every call, are
# not: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which
# costs the record's 47 fields more than twice as much. Nothing changes a record once it is made.


@dataclass(frozen=True, kw_only=True)
class CheckTrace:
    """One check of the answer (a validator), as the workflow declares it and as it went."""

    name: str
    kind: str
    figure: str
    passed: bool
    score: float
    note: str | None = None
    label_free: bool
    """The check reads input fields only, so it judges a production request too."""


@dataclass(kw_only=True)
class PolicyTrace:
    """A deterministic policy's decision on this request, and whether the model agreed."""

    check: str
    policy: str
    output: str
    """The answer's field the policy owns (``escalation_required``)."""
    decision: bool
    """What the policy decides from the request's inputs: the value that stands."""
    rule: str | None
    reason: str
    model_said: Any = None
    """What the answer said in that field (``None`` when it had no valid answer)."""
    overridden: bool
    """A valid answer disagreed (or gave no true/false), so the policy's decision overrides
    it. A call without a valid answer is failed, not overridden."""


@dataclass(frozen=True, kw_only=True)
class UsageTrace:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class RequestParameters:
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None


@dataclass(kw_only=True)
class TraceRecord:
    """One model call. Field order is the JSON's key order."""

    trace_version: Literal[1] = TRACE_VERSION
    trace_id: str
    """32 hex digits: one case (every model and epoch of it) in a run, one request in serve."""
    span_id: str
    """16 hex digits: this call; the id ``modelup traces show`` takes."""
    parent_span_id: str | None = None
    started_at: datetime
    finished_at: datetime
    source: Source
    run_id: str | None = None
    release_id: str | None = None
    arm: str | None = None
    """Canary or rollout arm the call was served under (``canary``, ``stable``...)."""
    fallback: str | None = None
    """A fallback or rollback action taken for this request, if any."""
    workflow: str
    workflow_version: str
    prompt_id: str
    prompt_sha256: str
    case_id: str | None = None
    """The dataset case (run), or the request's own id (serve)."""
    epoch: int = 0
    role: str | None = None
    """``baseline`` or ``candidate`` in a run."""
    source_ids: list[str] = field(default_factory=list)
    """The identifiers of the sources (retrieved documents) the request gave."""
    inputs: dict[str, Any] | None = None
    """The request's input fields (``[traces] keep_inputs``); what a replay sends again."""
    inputs_sha256: str
    """The hash of the input fields, kept even when they are not: equal requests, equal hash."""
    provider: str
    endpoint: str
    requested_model: str
    resolved_model: str | None = None
    system_fingerprint: str | None = None
    response_id: str | None = None
    finish_reason: str | None = None
    request: RequestParameters = field(default_factory=lambda: RequestParameters())
    validation: Validation
    """The contract's verdict: ``strict``, ``repaired``, ``invalid``, or ``error`` (no answer)."""
    repairs: list[str] = field(default_factory=list)
    checks: list[CheckTrace] = field(default_factory=list)
    policies: list[PolicyTrace] = field(default_factory=list)
    action_classes: list[str] = field(default_factory=list)
    """The classes of the suggested next steps (``read``, ``write``...), in order first seen."""
    passed: bool
    failed: bool
    """The call failed a check or errored."""
    overridden: bool
    """A policy overrode the answer."""
    drift: bool
    """The answering identity (model, fingerprint) differs from the first one seen for the
    requested model on this endpoint by this recorder."""
    latency_ms: float | None = None
    usage: UsageTrace = field(default_factory=lambda: UsageTrace())
    cost_usd: float | None = None
    attempts: int = 1
    cached: bool = False
    error: str | None = None
    error_type: str | None = None
    """A low-cardinality class of the error: an HTTP status (``500``), ``timeout`` or
    ``call_failed``."""
    answer: str | None = None
    """The answer's text (``[traces] keep_answers``)."""
    output: dict[str, Any] | None = None
    """The parsed answer (``[traces] keep_answers``)."""

    def to_json(self) -> bytes:
        """The record as compact JSON (modelup's one encoder)."""
        return jsonbytes.compact(self)

    @classmethod
    def from_json(cls, data: str | bytes) -> TraceRecord:
        """A stored record read back and checked; raises ``pydantic.ValidationError`` (and
        ``ValueError`` on text that is not JSON). Parsed by ``json.loads``, which reads back the
        ``\\udXXX`` escape of a lone surrogate from model text; pydantic's parser refuses it."""
        return _adapter().validate_python(json.loads(data))


# Checked strictly when read back: pydantic reads this attribute of a dataclass (what its
# ``with_config`` sets). pydantic itself is imported only to read a record back: the trace writer
# and a run that only records never import it.
for _part in (CheckTrace, PolicyTrace, UsageTrace, RequestParameters, TraceRecord):
    _part.__pydantic_config__ = {"extra": "forbid"}  # type: ignore[union-attr]


@cache
def _adapter() -> TypeAdapter[TraceRecord]:
    from pydantic import TypeAdapter

    return TypeAdapter(TraceRecord)


def inputs_sha256(inputs: Mapping[str, Any]) -> str:
    """The content hash of a request's input fields (key order does not matter)."""
    return hashlib.sha256(jsonbytes.compact(dict(inputs), sort_keys=True)).hexdigest()


__all__ = [
    "TRACE_VERSION",
    "CheckTrace",
    "PolicyTrace",
    "RequestParameters",
    "TraceRecord",
    "UsageTrace",
    "inputs_sha256",
]
