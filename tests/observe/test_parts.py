"""A record's parts: plain values that pickle, and the one function that assembles the record
from them, the same in the run's process and in the trace writer's."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from modelup.observe.build import Keep, record_parts
from modelup.observe.parts import RecordParts, assemble
from modelup.observe.trace_writer import PROTOCOL
from support.traces import facts, incident, scored, triage_answer

IDS = {"trace_id": "a" * 32, "span_id": "b" * 16, "parent_span_id": "c" * 16}


def _parts(**options: object) -> list[RecordParts]:
    workflow, cases = incident()
    keep = Keep(answers=True, secrets=("sk-live-1",))
    overridden = triage_answer(escalate=False, steps=["restart pods"], cite="deploy-4821")
    return [
        record_parts(
            facts(workflow, cases[0], scored(workflow, cases[0], overridden)), **IDS, keep=keep
        ),
        record_parts(
            facts(workflow, cases[1], scored(workflow, cases[1], None, error="HTTP 503 sk-live-1")),
            **IDS,
            keep=keep,
        ),
    ]


def test_parts_pickled_to_the_writer_assemble_into_the_same_record() -> None:
    made = _parts()
    sent = pickle.loads(pickle.dumps(made, protocol=PROTOCOL))
    assert [assemble(parts) for parts in sent] == [assemble(parts) for parts in made]
    assert sent[0].workflow is sent[1].workflow  # shared parts cross the pipe once per batch
    record = assemble(sent[0])
    assert record.overridden and record.policies[0].model_said is False
    assert record.answer is not None and record.output is not None  # the Keep keeps answers
    failed = assemble(sent[1])
    assert failed.error == "HTTP 503 ***" and failed.error_type == "503"
    assert failed.latency_ms is None and failed.cost_usd is None


def test_a_time_given_as_seconds_or_as_a_datetime_is_the_same_record() -> None:
    (parts, _) = _parts()
    at = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
    as_time = assemble(parts._replace(call=parts.call._replace(finished_at=at)))
    as_seconds = assemble(parts._replace(call=parts.call._replace(finished_at=at.timestamp())))
    assert as_time == as_seconds
    assert as_time.finished_at == at and as_time.started_at < at
