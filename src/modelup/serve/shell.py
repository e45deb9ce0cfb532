"""One served request, from validated inputs to the answer the caller gets: the model call on
the request's arm, identity drift against the pin, the contract and the workflow's ``on_fail``
(``reask`` once, ``fallback`` to the last-known-good model, ``escalate`` to the safe default),
the shell's authority over policy-owned fields and next steps, and one trace of every call.

A contract failure is never passed on as valid and an upstream failure is never an answer: the
caller gets the policy-governed answer, or an error that says what went wrong (502, 504).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from modelup.errors import ClientError
from modelup.evaluate.dataset import EvalCase
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.base import CallFailed
from modelup.models.chat import ChatResponse
from modelup.observe.build import error_type, validation
from modelup.observe.recorder import TraceRecorder
from modelup.observe.serve_trace import record_served
from modelup.serve.authority import Override, apply_authority
from modelup.serve.clients import ModelPool
from modelup.serve.state import Arm, Target, WorkflowState
from modelup.workflow.authority import Authority
from modelup.workflow.base import Workflow
from modelup.workflow.prompt import Message

_MAX_REASK_ANSWER = 4000
REASK = (
    "Your answer did not satisfy the output contract: {errors}. Answer again with one JSON "
    "object that satisfies it, and nothing else."
)


@dataclass(frozen=True, slots=True)
class Call:
    """One model call of a request, scored."""

    target: Target
    result: CaseResult
    drift: bool = False

    @property
    def failed(self) -> bool:
        return self.result.error is not None


@dataclass(slots=True)
class Outcome:
    """What the request came to: the response (status and body) and what the figures count."""

    status: int
    body: dict[str, Any]
    arm: Arm
    first: Call
    validation: str
    answered_by: str = "model"
    overrides: list[Override] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    error: str | None = None
    """``upstream``, ``timeout``, ``identity_drift`` or ``contract``: why there is no answer."""

    @property
    def drift(self) -> bool:
        return self.first.drift


@dataclass(frozen=True, slots=True)
class WorkflowRuntime:
    """A served workflow, worked out once: its label-free view scores answers."""

    workflow_id: str
    workflow: Workflow
    served: Workflow
    scorer: Scorer
    authority: Authority
    inputs: type[BaseModel]
    """The strict model of a request body: the workflow's input fields only."""


class Shell:
    """Serves requests of any workflow: the model pool, the trace recorder and the secrets that
    never leave."""

    def __init__(
        self, pool: ModelPool, recorder: TraceRecorder, *, secrets: tuple[str, ...] = ()
    ) -> None:
        self.pool = pool
        self.recorder = recorder
        self.secrets = tuple(s for s in secrets if s)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    async def call(
        self,
        runtime: WorkflowRuntime,
        target: Target,
        case: EvalCase,
        messages: tuple[Message, ...],
    ) -> Call:
        route = self.pool.route(target.requested_model)
        request = route.request(target.requested_model, messages)
        try:
            response: ChatResponse = await route.client.complete(request)
        except (CallFailed, ClientError) as exc:
            reason = self.scrub(str(exc))
            return Call(target, runtime.scorer.errored(case, reason))
        result = runtime.scorer.score(case, response)
        return Call(
            target, result, target.drifted(response.resolved_model, response.system_fingerprint)
        )

    async def serve(
        self,
        runtime: WorkflowRuntime,
        state: WorkflowState,
        arm: Arm,
        target: Target,
        fields: Mapping[str, Any],
        request_id: str,
    ) -> Outcome:
        case = EvalCase(request_id, "", (), fields)
        messages = runtime.workflow.prompt.render(fields)
        first = await self.call(runtime, target, case, messages)
        calls = [first]
        outcome = await self._answer(runtime, state, arm, case, messages, calls)
        body = outcome.body
        trace_id = self._trace(runtime, state, arm, fields, request_id, calls, outcome)
        if outcome.status == 200:
            body["shell"]["trace_id"] = trace_id
        else:
            body["error"]["trace_id"] = trace_id
        return outcome

    async def _answer(
        self,
        runtime: WorkflowRuntime,
        state: WorkflowState,
        arm: Arm,
        case: EvalCase,
        messages: tuple[Message, ...],
        calls: list[Call],
    ) -> Outcome:
        first = calls[0]
        target = first.target
        if first.failed:
            return self._failed(runtime, arm, first, first)
        outcome_validation = validation(first.result)
        actions: list[str] = []
        answer = first
        if first.drift:
            rule = target.drift_rule
            expected = target.expected.model if target.expected else "?"
            seen = f"{first.result.resolved_model} / {first.result.system_fingerprint}"
            if rule == "reject":
                message = (
                    f"identity drift: {target.requested_model} answered as {seen}, not the "
                    f"pinned {expected}; the release's on_identity_drift is reject"
                )
                return self._error(runtime, arm, first, 502, "identity_drift", message)
            back = _fallback_target(state, arm) if rule == "fallback" else None
            if back is not None:
                second = await self.call(runtime, back, case, messages)
                calls.append(second)
                if second.failed:
                    return self._failed(runtime, arm, first, second)
                actions.append(
                    f"identity drift ({seen}, pinned {expected}): answered by "
                    f"{back.requested_model} (fallback)"
                )
                answer = second
            else:
                actions.append(f"identity drift flagged ({seen}, pinned {expected})")
        authority = runtime.authority
        answered_by = "model" if answer is first else "fallback"
        if not answer.result.valid:
            errors = "; ".join(_contract_errors(answer.result)) or "not a JSON object"
            actions.append(f"contract failed ({errors}): on_fail {authority.on_fail}")
            retry: Call | None = None
            if authority.on_fail == "reask":
                raw = (answer.result.raw_output or "")[:_MAX_REASK_ANSWER]
                again = (
                    *messages,
                    Message("assistant", raw),
                    Message("user", REASK.format(errors=errors)),
                )
                retry = await self.call(runtime, answer.target, case, again)
                answered_by = "reask"
            elif authority.on_fail == "fallback":
                back = _fallback_target(state, arm)
                if back is not None:
                    retry = await self.call(runtime, back, case, messages)
                    answered_by = "fallback"
                else:
                    actions.append("no last-known-good model to fall back to")
            if retry is not None:
                calls.append(retry)
            if retry is not None and retry.result.valid:
                answer = retry
                actions.append(f"answered on {answered_by}")
            else:
                if retry is not None:
                    why = retry.result.error or "; ".join(_contract_errors(retry.result))
                    actions.append(f"{answered_by} failed too ({why})")
                if authority.safe_default is None:
                    message = (
                        f"the model's answer failed the {runtime.workflow.name} contract "
                        f"({errors}) and the workflow declares no safe default to escalate to"
                    )
                    outcome = self._error(runtime, arm, first, 502, "contract", message)
                    outcome.actions = actions
                    return outcome
                actions.append("escalated: the workflow's safe default")
                return self._respond(
                    runtime,
                    state,
                    arm,
                    first,
                    answer,
                    case.fields,
                    dict(authority.safe_default),
                    outcome_validation,
                    "safe_default",
                    actions,
                    policy=False,
                )
        assert answer.result.output is not None
        return self._respond(
            runtime,
            state,
            arm,
            first,
            answer,
            case.fields,
            dict(answer.result.output),
            outcome_validation,
            answered_by,
            actions,
        )

    def _respond(
        self,
        runtime: WorkflowRuntime,
        state: WorkflowState,
        arm: Arm,
        first: Call,
        answer: Call,
        fields: Mapping[str, Any],
        output: dict[str, Any],
        outcome_validation: str,
        answered_by: str,
        actions: list[str],
        *,
        policy: bool = True,
    ) -> Outcome:
        overrides: list[Override] = []
        if policy or state.contained:
            output, overrides = apply_authority(
                runtime.authority, output, fields, contained=state.contained
            )
        if state.contained:
            actions.append("contained: escalation forced, read-only next steps")
        result = answer.result
        shell = {
            "workflow_id": runtime.workflow_id,
            "workflow": runtime.workflow.name,
            "workflow_version": runtime.workflow.version,
            "release_id": first.target.release_id,
            "arm": arm,
            "requested_model": first.target.requested_model,
            "resolved_model": first.result.resolved_model,
            "system_fingerprint": first.result.system_fingerprint,
            "answered_by": answered_by,
            "answered_model": answer.target.requested_model
            if answered_by != "safe_default"
            else None,
            "validation": outcome_validation,
            "repairs": list(result.repairs) if answered_by != "safe_default" else [],
            "identity_drift": first.drift,
            "contained": state.contained,
            "overrides": [override.to_json() for override in overrides],
            "actions": actions,
            "trace_id": None,
        }
        return Outcome(
            200,
            {**output, "shell": shell},
            arm,
            first,
            outcome_validation,
            answered_by,
            overrides,
            actions,
        )

    def _failed(self, runtime: WorkflowRuntime, arm: Arm, first: Call, failed: Call) -> Outcome:
        reason = failed.result.error or "the call failed"
        timeout = error_type(reason) == "timeout"
        kind = "timeout" if timeout else "upstream"
        message = f"the model endpoint failed for {failed.target.requested_model}: {reason}"
        return self._error(runtime, arm, first, 504 if timeout else 502, kind, message)

    def _error(
        self, runtime: WorkflowRuntime, arm: Arm, first: Call, status: int, kind: str, message: str
    ) -> Outcome:
        body = {
            "error": {
                "type": kind,
                "message": self.scrub(message),
                "workflow_id": runtime.workflow_id,
                "release_id": first.target.release_id,
                "arm": arm,
                "trace_id": None,
            }
        }
        return Outcome(status, body, arm, first, validation(first.result), "none", error=kind)

    def _trace(
        self,
        runtime: WorkflowRuntime,
        state: WorkflowState,
        arm: Arm,
        fields: Mapping[str, Any],
        request_id: str,
        calls: list[Call],
        outcome: Outcome,
    ) -> str | None:
        note = "; ".join(outcome.actions) or None
        if outcome.overrides:
            changed = ", ".join(dict.fromkeys(o.field for o in outcome.overrides))
            note = f"{note}; overrode {changed}" if note else f"overrode {changed}"
        trace_id = None
        for call in calls:
            route = self.pool.route(call.target.requested_model)
            parts = record_served(
                self.recorder,
                workflow=runtime.served,
                request_id=request_id,
                fields=fields,
                result=call.result,
                requested_model=call.target.requested_model,
                endpoint=route.endpoint,
                release_id=call.target.release_id,
                arm=arm,
                fallback=note,
                price=route.price,
                request=route.parameters,
                calls=len(calls),
            )
            trace_id = parts.call.trace_id
        return trace_id


def _fallback_target(state: WorkflowState, arm: Arm) -> Target | None:
    """Where a request falls back to: the stable arm from the canary, the last-known-good
    identity from the stable arm; nowhere from the shadow (its answers are never returned)."""
    if arm == "shadow":
        return None
    return state.stable if arm == "canary" else state.last_known_good


def _contract_errors(result: CaseResult) -> list[str]:
    prefix = "Structured output invalid: "
    return [note[len(prefix) :] for note in result.notes if note.startswith(prefix)]
