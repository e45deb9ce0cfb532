"""A planned run replayed with any clients: here scripted ones, no server and no simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from modelup.config.loading import load_settings
from modelup.decide.gate import Verdict
from modelup.models.base import CallFailed
from modelup.models.scripted import ScriptedClient
from modelup.session.execute import execute
from modelup.session.plan import RunPlan, plan_run
from support.live_support import SUPPORT_OPS_DATASET


def support_ops_plan(tmp_path: Path) -> RunPlan:
    settings = load_settings(
        None,
        {
            "experiment": {"dataset_path": SUPPORT_OPS_DATASET, "report_directory": tmp_path},
            "llm": {"baseline_model_id": "base", "candidate_model_id": "cand"},
        },
    )
    return plan_run(settings)


def test_a_candidate_that_never_answers_in_contract_rolls_back(tmp_path: Path) -> None:
    plan = support_ops_plan(tmp_path)
    cases = len(plan.dataset)
    # The baseline answers with valid but wrong JSON; the candidate with prose. Neither passes
    # a case, so only the contract figures tell them apart.
    wrong = json.dumps(
        {
            "category": "feature",
            "priority": "P4",
            "should_refuse": False,
            "summary": "s",
            "actions": [],
            "customer_reply": "r",
            "tool_calls": [],
        }
    )
    baseline = ScriptedClient(default=wrong)
    candidate = ScriptedClient(default="I think this is an incident.")
    report = asyncio.run(execute(plan, [baseline, candidate]))
    assert len(baseline.calls) == len(candidate.calls) == cases
    assert baseline.closed and candidate.closed
    base, cand = (model.summary for model in report.models)
    assert base["structured_output_rate"] == 1.0 and cand["structured_output_rate"] == 0.0
    assert report.decision.verdict == Verdict.ROLLBACK
    assert any("structured output" in reason.lower() for reason in report.decision.reasons)


def test_a_failed_call_is_an_errored_case_and_never_promotes(tmp_path: Path) -> None:
    plan = support_ops_plan(tmp_path)
    answers = ScriptedClient(default="not json")
    flaky = ScriptedClient(CallFailed("HTTP 503: overloaded"), default="not json")
    report = asyncio.run(execute(plan, [answers, flaky]))
    candidate = report.models[1]
    errored = [case for case in candidate.cases if case.error is not None]
    assert len(errored) == 1 and "HTTP 503" in (errored[0].error or "")
    assert report.decision.verdict != Verdict.PROMOTE
