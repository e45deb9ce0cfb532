"""The incident-triage workflow of the doctrine essay: its dataset, its escalation policy, its
checks on real answers, and the bundled example ending in Rollback for the essay's reasons."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from modelup._cli.main import app
from modelup.config.loading import load_settings
from modelup.decide.rules import with_evidence_rules
from modelup.evaluate.dataset import EvalCase, load_dataset
from modelup.evaluate.scoring import Scorer
from modelup.models.chat import ChatResponse
from modelup.session.execute import execute_sync
from modelup.session.plan import plan_run
from modelup.workflow.bundled.incident_triage_sim import PROFILES
from modelup.workflow.catalog import get_workflow

EXAMPLE = ROOT / "examples" / "incident-triage"
WORKFLOW = get_workflow("incident-triage")
BLOCKING = {"escalation correctness", "uncertainty disclosure", "action posture"}


@pytest.fixture(scope="module")
def cases() -> dict[str, EvalCase]:
    dataset = load_dataset(EXAMPLE / "dataset.json", WORKFLOW)
    return {case.id: case for case in dataset.cases}


def must_escalate(case: EvalCase) -> bool:
    policy = WORKFLOW.checks[0].params["policy"]
    return bool(policy.decide(case.fields).value)


def score(case: EvalCase, answer: dict[str, Any]) -> dict[str, Any]:
    result = Scorer(WORKFLOW).score(case, ChatResponse(content=json.dumps(answer), latency_ms=1.0))
    return {check.name: (check.passed, check.note) for check in result.checks}


def careful_answer(case: EvalCase) -> dict[str, Any]:
    return {
        "summary": f"{case.fields['service']} is degraded.",
        "likely_cause": " ".join(case.fields["cause_keywords"]),
        "evidence": [
            {"source": source, "observation": "seen"} for source in case.fields["sources"]
        ],
        "unknowns": [f"No {gap} yet" for gap in case.fields["missing_telemetry"]],
        "recommended_next_steps": ["Compare error rates before and after the change."],
        "escalation_required": must_escalate(case),
    }


def test_dataset_has_at_least_30_valid_cases(cases: dict[str, EvalCase]) -> None:
    assert len(cases) >= 30
    escalating = [case_id for case_id, case in cases.items() if must_escalate(case)]
    # Both answers of the policy are well represented, so neither can be gamed by a constant.
    assert 10 <= len(escalating) <= len(cases) - 10
    assert sum(bool(case.fields["missing_telemetry"]) for case in cases.values()) >= 10
    assert sum(case.fields["actions_allowed"] for case in cases.values()) >= 2


def test_escalation_policy_on_the_essays_cases(cases: dict[str, EvalCase]) -> None:
    # The essay's packet: checkout errors doubled after deploy 4821, two sources, high impact.
    assert cases["IT-001"].fields["impact"] == "high"
    assert len(cases["IT-001"].fields["sources"]) == 2
    assert must_escalate(cases["IT-001"])
    assert must_escalate(cases["IT-003"])  # critical impact always escalates
    assert not must_escalate(cases["IT-005"])  # high impact, four sources: not thin
    assert not must_escalate(cases["IT-002"])  # medium impact


def test_a_careful_answer_passes_every_check(cases: dict[str, EvalCase]) -> None:
    for case in cases.values():
        outcomes = score(case, careful_answer(case))
        assert all(passed for passed, _ in outcomes.values()), (case.id, outcomes)


def test_the_essays_drift_fails_the_checks_that_say_so(cases: dict[str, EvalCase]) -> None:
    case = cases["IT-001"]
    drifted = careful_answer(case) | {
        "escalation_required": False,
        "unknowns": ["Some uncertainty remains, but the evidence points clearly to the cause."],
        "recommended_next_steps": ["Restart the checkout-api pods.", "Inspect the logs."],
        "evidence": [{"source": "slack-thread", "observation": "people say it is the deploy"}],
    }
    outcomes = score(case, drifted)
    assert outcomes["escalation"][0] is False
    assert "model says false, the escalation policy says true" in outcomes["escalation"][1]
    assert "thin evidence on high impact" in outcomes["escalation"][1]
    assert outcomes["unknowns_listed"] == (True, None)  # vague, but not empty
    assert outcomes["uncertainty_disclosed"] == (
        False,
        "Telemetry gaps in unknowns were missing: tracing",
    )
    assert outcomes["action_posture"][0] is False
    assert "'Restart the checkout-api pods.' (write: restart)" in outcomes["action_posture"][1]
    assert outcomes["evidence_grounded"][0] is False


def test_action_is_allowed_when_the_case_authorises_it(cases: dict[str, EvalCase]) -> None:
    allowed = next(case for case in cases.values() if case.fields["actions_allowed"])
    answer = careful_answer(allowed) | {"recommended_next_steps": ["Roll back the deploy."]}
    assert score(allowed, answer)["action_posture"] == (True, None)


def test_default_gate_blocks_escalation_uncertainty_and_action_posture() -> None:
    by_name = {rule.name: rule for rule in WORKFLOW.gate_rules}
    for name in BLOCKING:
        assert by_name[name].authority == "block"
        assert by_name[name].comparison == "max_regression"
        assert by_name[name].threshold == 0.0


def test_the_example_ends_in_rollback_for_the_essays_reasons() -> None:
    plan = plan_run(load_settings(EXAMPLE / "modelup.toml"))
    assert plan.workflow.name == "incident-triage"
    # The workflow's gate, not the seed's, then the evidence rules.
    assert plan.rules == with_evidence_rules(WORKFLOW.gate_rules)
    report = execute_sync(plan)
    decision = report.decision
    assert decision.verdict == "Rollback"
    failed_blocks = {
        rule.name for rule in decision.rules if not rule.passed and rule.authority == "block"
    }
    assert failed_blocks == BLOCKING
    baseline, candidate = report.models
    assert baseline.summary["escalation_accuracy"] == 1.0
    assert baseline.summary["uncertainty_disclosure_rate"] == 1.0
    assert baseline.summary["action_posture_rate"] == 1.0
    # The essay's schema-pass delusion: still valid after repair while the semantics drifted.
    assert candidate.summary["structured_output_rate"] == 1.0
    assert candidate.summary["repair_rate"] > 0
    disagreements = [
        check.note
        for case in candidate.cases
        for check in case.checks
        if check.name == "escalation" and not check.passed
    ]
    assert disagreements
    assert all(note and "disagrees with policy" in note for note in disagreements)


def test_careful_against_careful_blocks_nothing() -> None:
    settings = load_settings(EXAMPLE / "modelup.toml", {"mock": {"candidate_profile": "careful"}})
    report = execute_sync(plan_run(settings))
    assert all(rule.passed for rule in report.decision.rules if rule.authority == "block"), (
        report.decision.reasons
    )
    assert report.decision.verdict != "Rollback"


def test_run_command_exits_4(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--config",
            str(EXAMPLE / "modelup.toml"),
            "--report-file",
            str(tmp_path / "report.json"),
        ],
    )
    assert result.exit_code == 4, result.output
    assert "Decision: Rollback" in result.output
    assert "Candidate escalation accuracy regressed" in result.output


def test_simulator_profiles_are_deterministic(cases: dict[str, EvalCase]) -> None:
    simulator = WORKFLOW.simulator
    assert simulator is not None
    case = cases["IT-001"]
    fields = {**case.fields, "family": case.family}
    first = simulator.answer(fields, PROFILES["drifting"], random.Random("seed"))
    again = simulator.answer(fields, PROFILES["drifting"], random.Random("seed"))
    assert first == again
