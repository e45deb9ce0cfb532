"""Simulated support-ops models: deterministic answers with profile-driven flaws.

A simulated model knows the case's expectations and writes a correct decision, then spoils it
with the probabilities of its profile (wrong priority, missing keyword, forbidden tool, code
fence...). Everything is drawn from the ``rng`` it is handed, so the same model, case and seed
always give the same answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelup.workflow.base import SimulatedAnswer
from modelup.workflow.bundled._simulation import FormatFlaws, latency, render, validated
from modelup.workflow.policy import Policy

_CATEGORIES = ("incident", "access", "billing", "security", "feature")
_PRIORITIES = ("P1", "P2", "P3", "P4")


class Flaws(FormatFlaws):
    """Probabilities (0 to 1) of each way a simulated answer goes wrong."""

    wrong_category: float = Field(0.0, ge=0, le=1)
    wrong_priority: float = Field(0.0, ge=0, le=1)
    wrong_refusal: float = Field(0.0, ge=0, le=1)
    drop_action_keyword: float = Field(0.0, ge=0, le=1)
    drop_required_tool: float = Field(0.0, ge=0, le=1)
    forbidden_tool: float = Field(0.0, ge=0, le=1)
    forbidden_keyword: float = Field(0.0, ge=0, le=1)
    bad_tool_arguments: float = Field(0.0, ge=0, le=1)
    markup_in_reply: float = Field(0.0, ge=0, le=1)
    """The customer reply carries HTML and a script (what the ``plain_text`` check fails)."""


class Profile(Flaws):
    """A simulated model: its flaws, its latency, and per-family overrides of its flaws."""

    latency_ms: float = Field(1200.0, gt=0)
    latency_jitter_ms: float = Field(300.0, ge=0)
    families: dict[str, Flaws] = Field(default_factory=dict)


PROFILES: dict[str, dict[str, Any]] = {
    "perfect": {"latency_ms": 800.0, "latency_jitter_ms": 0.0},
    "steady": {
        "latency_ms": 1400.0,
        "latency_jitter_ms": 400.0,
        "wrong_priority": 0.08,
        "drop_action_keyword": 0.10,
        "drop_required_tool": 0.08,
        "code_fence": 0.03,
    },
    "drifting": {
        "latency_ms": 1650.0,
        "latency_jitter_ms": 500.0,
        "wrong_priority": 0.04,
        "drop_action_keyword": 0.04,
        "drop_required_tool": 0.03,
        "code_fence": 0.12,
        "prose_wrap": 0.05,
        "invalid_json": 0.03,
        "families": {
            "billing": {"forbidden_tool": 0.5, "forbidden_keyword": 0.3},
            "refusal": {"wrong_refusal": 0.35, "forbidden_tool": 0.35},
        },
    },
}


class SupportOpsSimulator:
    """The ``Simulator`` of the support-ops workflow."""

    profiles: Mapping[str, Mapping[str, Any]] = PROFILES

    def __init__(self, tool_names: Sequence[str]) -> None:
        self._tool_names = tuple(tool_names)

    def validate_profile(self, profile: Mapping[str, Any]) -> None:
        _profile(profile)

    def answer(
        self, fields: Mapping[str, Any], profile: Mapping[str, Any], rng: random.Random
    ) -> SimulatedAnswer:
        spec = _profile(profile)
        family = str(fields.get("family") or fields["expected_category"])
        override = spec.families.get(family)
        flaws: Flaws = spec
        if override is not None:
            flaws = spec.model_copy(update=override.model_dump(exclude_unset=True))
        decision = self._decide(fields, flaws, rng)
        text = render(decision, flaws, rng, "support decision")
        return SimulatedAnswer(text, latency(rng, spec.latency_ms, spec.latency_jitter_ms))

    def _decide(
        self, fields: Mapping[str, Any], flaws: Flaws, rng: random.Random
    ) -> dict[str, Any]:
        category = str(fields["expected_category"])
        priority = str(fields["expected_priority"])
        refuse = bool(fields["should_refuse"])
        keywords = list(fields.get("required_action_keywords") or [])
        tools = list(fields.get("required_tool_names") or [])
        if rng.random() < flaws.wrong_category:
            category = rng.choice([c for c in _CATEGORIES if c != category])
        if rng.random() < flaws.wrong_priority:
            index = _PRIORITIES.index(priority)
            priority = _PRIORITIES[index + 1 if index < len(_PRIORITIES) - 1 else index - 1]
        if rng.random() < flaws.wrong_refusal:
            refuse = not refuse
        if keywords and rng.random() < flaws.drop_action_keyword:
            keywords.pop(rng.randrange(len(keywords)))
        if tools and rng.random() < flaws.drop_required_tool:
            tools.pop(rng.randrange(len(tools)))
        forbidden_tools = list(fields.get("forbidden_tool_names") or [])
        if forbidden_tools and rng.random() < flaws.forbidden_tool:
            tools.append(rng.choice(forbidden_tools))
        reply = "Thanks for reaching out. We are on it and will update you shortly."
        forbidden_words = list(fields.get("forbidden_keywords") or [])
        if forbidden_words and rng.random() < flaws.forbidden_keyword:
            reply += f" Note: {rng.choice(forbidden_words)}."
        # Drawn only when the flaw is possible, so profiles without it answer as they always did.
        if flaws.markup_in_reply and rng.random() < flaws.markup_in_reply:
            reply = f"<p>{reply}</p><script>track('reply')</script>"
        calls = [_tool_call(name, fields) for name in tools]
        if calls and rng.random() < flaws.bad_tool_arguments:
            calls[0]["arguments"]["priority"] = 1
        message = str(fields["user_message"])
        return {
            "category": category,
            "priority": priority,
            "should_refuse": refuse,
            "summary": f"{category.title()} request: {message[:80]}",
            "actions": [f"{keyword}: follow the runbook step" for keyword in keywords]
            or ["acknowledge the request"],
            "customer_reply": reply,
            "tool_calls": calls,
        }


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tool_names: list[str] = Field(min_length=1)


def simulator(options: Mapping[str, Any], policies: Mapping[str, Policy]) -> SupportOpsSimulator:
    """The factory a workflow file names as ``[simulator] name = "support-ops"``."""
    parsed = validated(_Options, options, "")
    return SupportOpsSimulator(parsed.tool_names)


def _profile(profile: Mapping[str, Any]) -> Profile:
    return validated(Profile, profile, "simulated profile key ")


def _tool_call(name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = {key: None for key in ("query", "customerId", "incidentId")}
    arguments.update({"amountUsd": None, "replyIntent": None})
    if name == "KnowledgeBase.Search":
        arguments["query"] = str(fields["user_message"])[:60]
    elif name == "Notifications.DraftReply":
        arguments["replyIntent"] = "acknowledge"
    return {"tool_name": name, "arguments": arguments}
