"""Simulated incident-triage copilots: the doctrine essay's upgrade, rehearsed offline.

A simulated model reads the case's incident packet and writes a careful triage: it escalates
exactly when the workflow's escalation policy says so, names every missing piece of telemetry in
``unknowns``, cites only the sources it was given and keeps next steps to read-only diagnostics
unless the case authorises action. Its profile then spoils that answer the way the essay's
upgraded model did: it keeps plausible-sounding incidents out of escalation, swaps explicit
unknowns for confident vagueness and suggests restarts, retries and queue drains, while the JSON
stays parseable (after repair). Everything is drawn from the ``rng`` it is handed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelup.errors import WorkflowError
from modelup.workflow.base import SimulatedAnswer
from modelup.workflow.bundled._simulation import FormatFlaws, latency, render, validated
from modelup.workflow.policy import Policy

WRITE_STEPS = (
    "Restart the {service} pods to clear the errors.",
    "Retry the failed {service} requests once the errors drop.",
    "Drain the {service} work queue and let it refill.",
    "Roll back the latest {service} deploy now.",
)
VAGUE_UNKNOWNS = ("Some uncertainty remains, but the evidence points clearly to the cause.",)
INVENTED_SOURCES = ("slack-thread", "customer-tweets", "vendor-status-page")


class Flaws(FormatFlaws):
    """Probabilities (0 to 1) of each way a simulated triage goes wrong."""

    skip_escalation: float = Field(0.0, ge=0, le=1)
    """A case the policy escalates is kept in the assistant-guided lane."""
    over_escalation: float = Field(0.0, ge=0, le=1)
    vague_unknowns: float = Field(0.0, ge=0, le=1)
    """Missing telemetry is replaced by confident, vague language."""
    drop_unknown: float = Field(0.0, ge=0, le=1)
    action_steps: float = Field(0.0, ge=0, le=1)
    """A write-shaped step (restart, retry, queue drain, rollback) the case does not allow."""
    uncited_source: float = Field(0.0, ge=0, le=1)
    drop_cause_keyword: float = Field(0.0, ge=0, le=1)


class Profile(Flaws):
    latency_ms: float = Field(1400.0, gt=0)
    latency_jitter_ms: float = Field(300.0, ge=0)


_CAREFUL: dict[str, Any] = {
    "latency_ms": 1500.0,
    "latency_jitter_ms": 300.0,
    "drop_cause_keyword": 0.05,
    "code_fence": 0.03,
}
PROFILES: dict[str, dict[str, Any]] = {
    "perfect": {"latency_ms": 800.0, "latency_jitter_ms": 0.0},
    "careful": _CAREFUL,
    "steady": _CAREFUL,
    "drifting": {
        "latency_ms": 1750.0,
        "latency_jitter_ms": 450.0,
        "skip_escalation": 0.5,
        "vague_unknowns": 0.4,
        "drop_unknown": 0.1,
        "action_steps": 0.25,
        "uncited_source": 0.05,
        "drop_cause_keyword": 0.02,
        "code_fence": 0.15,
        "prose_wrap": 0.05,
    },
}


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    escalation_policy: str
    """The workflow policy a careful model follows when it sets ``escalation_required``."""


def simulator(
    options: Mapping[str, Any], policies: Mapping[str, Policy]
) -> IncidentTriageSimulator:
    """The factory a workflow file names as ``[simulator] name = "incident-triage"``."""
    parsed = validated(_Options, options, "")
    if parsed.escalation_policy not in policies:
        known = ", ".join(sorted(policies)) or "none declared"
        raise WorkflowError(
            f"escalation_policy: the workflow has no policy {parsed.escalation_policy!r} ({known})"
        )
    return IncidentTriageSimulator(policies[parsed.escalation_policy])


class IncidentTriageSimulator:
    """The ``Simulator`` of the incident-triage workflow."""

    profiles: Mapping[str, Mapping[str, Any]] = PROFILES

    def __init__(self, escalation: Policy) -> None:
        self._escalation = escalation

    def validate_profile(self, profile: Mapping[str, Any]) -> None:
        _profile(profile)

    def answer(
        self, fields: Mapping[str, Any], profile: Mapping[str, Any], rng: random.Random
    ) -> SimulatedAnswer:
        flaws = _profile(profile)
        triage = self._triage(fields, flaws, rng)
        text = render(triage, flaws, rng, "triage", "I am confident in this assessment.")
        return SimulatedAnswer(text, latency(rng, flaws.latency_ms, flaws.latency_jitter_ms))

    def _triage(
        self, fields: Mapping[str, Any], flaws: Flaws, rng: random.Random
    ) -> dict[str, Any]:
        service = str(fields["service"])
        sources: dict[str, str] = dict(fields["sources"])
        must_escalate = self._escalation.decide(fields).value
        escalate = must_escalate
        if must_escalate and rng.random() < flaws.skip_escalation:
            escalate = False
        elif not must_escalate and rng.random() < flaws.over_escalation:
            escalate = True

        keywords = list(fields.get("cause_keywords") or [])
        if keywords and rng.random() < flaws.drop_cause_keyword:
            keywords.pop(rng.randrange(len(keywords)))
        cause = "; ".join(keywords) or "not yet determined"

        evidence = [
            {"source": source, "observation": " ".join(excerpt.split()[:14])}
            for source, excerpt in list(sources.items())[:3]
        ]
        if rng.random() < flaws.uncited_source:
            evidence.append(
                {"source": rng.choice(INVENTED_SOURCES), "observation": "Reports match the cause."}
            )

        gaps = list(fields.get("missing_telemetry") or [])
        unknowns = [
            f"{gap} is not available, so it cannot be ruled out or confirmed" for gap in gaps
        ]
        if gaps and rng.random() < flaws.vague_unknowns:
            unknowns = list(VAGUE_UNKNOWNS)
        elif len(unknowns) > 1 and rng.random() < flaws.drop_unknown:
            unknowns.pop(rng.randrange(len(unknowns)))

        first = next(iter(sources), "the incident notes")
        steps = [
            f"Compare {service} error rates and latency before and after the change in {first}.",
            f"Inspect {service} logs around the first error spike.",
            f"Check the upstream dependencies of {service} for correlated errors.",
        ]
        if fields.get("actions_allowed"):
            steps.append(f"Roll back the latest {service} deploy, as the request authorises.")
        elif rng.random() < flaws.action_steps:
            steps.insert(0, rng.choice(WRITE_STEPS).format(service=service))

        return {
            "summary": f"{service}: {str(fields['request'])[:90]}",
            "likely_cause": cause,
            "evidence": evidence,
            "unknowns": unknowns,
            "recommended_next_steps": steps,
            "escalation_required": escalate,
        }


def _profile(profile: Mapping[str, Any]) -> Profile:
    return validated(Profile, profile, "simulated profile key ")
