"""The shell's Prometheus metrics: counted per workflow and arm, one registry per app."""

from __future__ import annotations

from modelup.evaluate.scoring import CaseResult
from modelup.serve.authority import Override
from modelup.serve.metrics import ServeMetrics
from modelup.serve.shell import Call, Outcome
from modelup.serve.state import Target

RESULT = CaseResult("r", "", (), True, True, True, (), ())
FIRST = Call(Target("m", None, "rel-1"), RESULT, drift=True)
WF = 'workflow="incident-triage"'


def test_a_served_request_is_counted_under_its_workflow_and_arm() -> None:
    metrics = ServeMetrics()
    override = Override("escalation_required", False, True, "policy")
    outcome = Outcome(200, {}, "canary", FIRST, "strict", "reask", [override])
    metrics.served("incident-triage", outcome, 0.042)
    metrics.refused("incident-triage", 422, "invalid_request")
    text = metrics.text().decode()
    expected = [
        f'modelup_serve_requests_total{{arm="canary",status="200",{WF}}} 1.0',
        f'modelup_serve_validation_total{{arm="canary",outcome="strict",{WF}}} 1.0',
        f'modelup_serve_answered_by_total{{answered_by="reask",arm="canary",{WF}}} 1.0',
        f'modelup_serve_identity_drift_total{{arm="canary",{WF}}} 1.0',
        f'modelup_serve_overrides_total{{arm="canary",field="escalation_required",{WF}}} 1.0',
        f'modelup_serve_request_duration_seconds_bucket{{arm="canary",le="0.05",{WF}}} 1.0',
        f'modelup_serve_request_duration_seconds_bucket{{arm="canary",le="0.025",{WF}}} 0.0',
        f'modelup_serve_errors_total{{arm="none",kind="invalid_request",{WF}}} 1.0',
        f'modelup_serve_requests_total{{arm="none",status="422",{WF}}} 1.0',
    ]
    missing = [line for line in expected if line not in text]
    assert not missing, missing


def test_each_app_has_its_own_registry() -> None:
    first, second = ServeMetrics(), ServeMetrics()
    first.refused("incident-triage", 404, "not_found")
    assert "modelup_serve_errors_total{" in first.text().decode()
    assert "modelup_serve_errors_total{" not in second.text().decode()
