"""The API ``modelup serve`` will call: one served request's facts become the same trace record,
handed to the same sinks (the store here), as a trace of its own."""

from __future__ import annotations

from pathlib import Path

from modelup.config.settings import Settings
from modelup.observe.label_free import label_free_workflow
from modelup.observe.parts import assemble
from modelup.observe.queries import records
from modelup.observe.serve_trace import open_serve_recorder, record_served
from modelup.store.traces import TraceQuery, open_trace_store
from support.traces import incident, scored, triage_answer


def test_a_served_request_is_recorded_like_a_run_call(tmp_path: Path) -> None:
    workflow, cases = incident()
    served, _ = label_free_workflow(workflow, "serve")
    settings = Settings.model_validate({"store": {"url": str(tmp_path / "store.sqlite")}})
    recorder, warnings = open_serve_recorder(settings, service_version="1", secrets=("sk-9",))
    assert warnings == []
    case = cases[5]  # critical impact: the policy escalates
    answer = triage_answer(escalate=False, steps=["inspect the dashboard"], cite="x")
    result = scored(served, case, answer)
    parts = record_served(
        recorder,
        workflow=served,
        request_id="req-42",
        fields={name: case.fields[name] for name in served.input_fields},
        result=result,
        requested_model="cand",
        endpoint="https://api.example.invalid/v1",
        release_id="rel-7",
        arm="canary",
        fallback="escalation forced by policy",
    )
    assert recorder.close() == []
    record = assemble(parts)
    assert parts.call.trace_id == record.trace_id
    assert record.source == "serve" and record.case_id == "req-42"
    assert (record.release_id, record.arm) == ("rel-7", "canary")
    assert record.fallback == "escalation forced by policy"
    assert record.overridden and record.policies[0].decision is True
    assert all(check.label_free for check in record.checks)
    store = open_trace_store(tmp_path / "store.sqlite", create=False)
    assert store is not None
    with store:
        (stored,) = records(store.find(TraceQuery(overridden=True)))
    assert stored == record
