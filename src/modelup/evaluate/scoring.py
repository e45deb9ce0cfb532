"""Score one case: parse the raw answer into the contract, then run every check on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelup.evaluate.dataset import EvalCase
from modelup.models.chat import ChatResponse, Usage
from modelup.workflow.base import Workflow
from modelup.workflow.checks import CheckOutcome, get_check
from modelup.workflow.contract import Contract


@dataclass(frozen=True, slots=True)
class CaseResult:
    """Everything observed and decided about one case for one model."""

    case_id: str
    family: str
    subsets: tuple[str, ...]
    passed: bool
    strict_valid: bool
    valid: bool
    checks: tuple[CheckOutcome, ...]
    notes: tuple[str, ...]
    raw_output: str | None = None
    output: Mapping[str, Any] | None = None
    repairs: tuple[str, ...] = ()
    latency_ms: float | None = None
    usage: Usage = field(default_factory=Usage)
    resolved_model: str | None = None
    system_fingerprint: str | None = None
    error: str | None = None
    epoch: int = 0
    cached: bool = False
    response_id: str | None = None
    """The endpoint's id of the completion, when it gave one (for traces)."""
    finish_reason: str | None = None
    attempts: int = 1
    """Calls made for this answer, retries included."""

    def check(self, name: str) -> CheckOutcome | None:
        return next((outcome for outcome in self.checks if outcome.name == name), None)


class Scorer:
    """Scores answers for one workflow; built once per run so the contract compiles once."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._contract = Contract(workflow.contract, checked=True)  # checked on loading
        self._checks = tuple((spec, get_check(spec.kind)) for spec in workflow.checks)

    def score(self, case: EvalCase, response: ChatResponse, *, epoch: int = 0) -> CaseResult:
        parsed = self._contract.parse(response.content)
        notes = [f"Structured output invalid: {error}" for error in parsed.errors]
        notes += [f"Repaired: {repair}" for repair in parsed.repairs if parsed.valid]
        outcomes: list[CheckOutcome] = []
        for spec, function in self._checks:
            if parsed.output is None:
                outcomes.append(CheckOutcome(spec.name, False, 0.0, None))
                continue
            outcome = function(parsed.output, case.fields, spec.params)
            outcomes.append(CheckOutcome(spec.name, outcome.passed, outcome.score, outcome.note))
            if outcome.note:
                notes.append(outcome.note)
        return CaseResult(
            case_id=case.id,
            family=case.family,
            subsets=case.subsets,
            passed=parsed.valid and all(outcome.passed for outcome in outcomes),
            strict_valid=parsed.strict_valid,
            valid=parsed.valid,
            checks=tuple(outcomes),
            notes=tuple(notes),
            raw_output=response.content,
            output=parsed.output,
            repairs=parsed.repairs,
            latency_ms=response.latency_ms,
            usage=response.usage,
            resolved_model=response.resolved_model,
            system_fingerprint=response.system_fingerprint,
            epoch=epoch,
            cached=response.cached,
            response_id=response.response_id,
            finish_reason=response.finish_reason,
            attempts=response.attempts,
        )

    def errored(self, case: EvalCase, reason: str, *, epoch: int = 0) -> CaseResult:
        """A call that failed: kept as evidence, failing every check, never silently dropped."""
        return CaseResult(
            case_id=case.id,
            family=case.family,
            subsets=case.subsets,
            passed=False,
            strict_valid=False,
            valid=False,
            checks=tuple(CheckOutcome(spec.name, False, 0.0, None) for spec, _ in self._checks),
            notes=(f"Call failed: {reason}",),
            error=reason,
            epoch=epoch,
        )
