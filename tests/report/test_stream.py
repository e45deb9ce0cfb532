"""The streamed report: the same bytes as the in-memory one, without holding the cases."""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from modelup.decide.decision import decide_run
from modelup.decide.evidence import measure
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.chat import ChatResponse, Usage
from modelup.models.pricing import Price
from modelup.report.build import build_report, case_record
from modelup.report.io import report_json, write_report
from modelup.report.stream import (
    CaseSpool,
    Slimmer,
    case_bytes,
    case_json,
    slim_result,
)
from modelup.session.execute import execute, execute_spooled
from modelup.session.plan import plan_clients, plan_run
from modelup.workflow.checks import CheckOutcome
from support.golden import GOLDEN, RUN_ID, STARTED, VARIANTS, golden_settings, normalize
from support.reports import HOSTILE


def _spooled(variant: str, directory: Path) -> Any:
    plan = plan_run(golden_settings(variant, directory))
    executed = asyncio.run(
        execute_spooled(plan, plan_clients(plan), run_id=RUN_ID, started_at=STARTED)
    )
    return executed.report


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_streamed_report_is_byte_identical_to_the_golden_one(variant: str, tmp_path: Path) -> None:
    with _spooled(variant, tmp_path) as spooled:
        path = spooled.write(tmp_path / "streamed.json")
    expected = (GOLDEN / f"{variant}.json").read_text("utf-8")
    assert normalize(path.read_text("utf-8"), tmp_path) == expected


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_in_memory_report_is_byte_identical_to_the_golden_one(variant: str, tmp_path: Path) -> None:
    plan = plan_run(golden_settings(variant, tmp_path))
    report = asyncio.run(execute(plan, plan_clients(plan), run_id=RUN_ID, started_at=STARTED))
    path = write_report(report, tmp_path / "memory.json")
    expected = (GOLDEN / f"{variant}.json").read_text("utf-8")
    assert normalize(path.read_text("utf-8"), tmp_path) == expected


def test_the_head_holds_no_case_and_the_results_are_slim(tmp_path: Path) -> None:
    with _spooled("support-ops-epochs-challengers", tmp_path) as spooled:
        for model in spooled.head.models:
            assert model.cases == []
            assert model.trials is not None and model.trials.cases == []
        for results in spooled.results:
            assert len(results) == 36 * 3
            for result in results:
                assert result.raw_output is None and result.output is None
                assert result.notes == () and all(c.note is None for c in result.checks)
        full = spooled.full()
    assert [len(model.cases) for model in full.models] == [108, 108, 108]


def test_streamed_equals_the_reference_builder_with_hostile_text(tmp_path: Path) -> None:
    """``build_report`` with every case in memory, dumped by ``report_json``, is the reference
    implementation; the spool path must write exactly its bytes, lone surrogates included."""
    plan = plan_run(golden_settings("support-ops", tmp_path))
    with _spooled("support-ops", tmp_path) as spooled:
        full = spooled.full()
        results = [list(spooled.results[0]), list(spooled.results[1])]
        # Make every first case hostile, as the spool would have received it.
        spool = CaseSpool(2, len(results[0]), tmp_path)
        hostile: list[list[CaseResult]] = [[], []]
        for index, model in enumerate(full.models):
            for position, record in enumerate(model.cases):
                result = CaseResult(
                    case_id=record.case_id,
                    family=record.family,
                    subsets=tuple(record.subsets),
                    passed=record.passed,
                    strict_valid=record.strict_valid,
                    valid=record.valid,
                    checks=tuple(CheckOutcome(**c.model_dump()) for c in record.checks),
                    notes=(*record.notes, HOSTILE) if position == 0 else tuple(record.notes),
                    raw_output=HOSTILE if position == 0 else record.raw_output,
                    output=record.output,
                    repairs=tuple(record.repairs),
                    latency_ms=record.latency_ms,
                    usage=Usage(record.usage.prompt_tokens, record.usage.completion_tokens),
                    resolved_model=record.resolved_model,
                    system_fingerprint=record.system_fingerprint,
                    error=record.error,
                    epoch=record.epoch,
                    cached=record.cached,
                )
                hostile[index].append(result)
                spool.add(index, position, case_bytes(result, plan.targets[index].price))
        with spool:
            from modelup.report.stream import write_streamed_report

            streamed = write_streamed_report(spooled.head, spool, results, tmp_path / "s.json")
    evidence = [
        measure(plan.workflow, target, per_target)
        for target, per_target in zip(plan.targets, hostile, strict=True)
    ]
    decision = decide_run(
        plan.workflow, evidence, hostile, plan.rules, statistics=plan.statistics, mode=full.mode
    )
    reference = build_report(
        run_id=full.run_id,
        tool_version=full.tool_version,
        started_at=full.started_at,
        finished_at=full.finished_at,
        mode=full.mode,
        client=full.client,
        workflow=plan.workflow,
        dataset=plan.dataset,
        config=full.config,
        targets=plan.targets,
        evidence=evidence,
        decision=decision,
        results=hostile,
    )
    expected = report_json(reference)
    assert streamed.read_bytes() == expected
    assert b"\\ud800" in expected


def _results() -> list[tuple[CaseResult, Any]]:
    from support.live_support import support_ops

    workflow, dataset = support_ops()
    scorer = Scorer(workflow)
    case = dataset.cases[0]
    answer = json.dumps({"category": "incident", "priority": "P1", "weird": [1e400, "x"]})
    scored = scorer.score(case, ChatResponse(answer, 12, "m", Usage(3, 4), "fp"), epoch=2)
    return [
        (scored, None),
        (replace(scored, cached=True, latency_ms=7), None),
        (scorer.errored(case, "boom " + HOSTILE), None),
        (scorer.score(case, ChatResponse(HOSTILE, 1.5, None, Usage(), None)), None),
        (replace(scored, checks=(CheckOutcome("x", True, 1, "note"),)), None),
    ]


def test_case_json_is_the_case_records_dump() -> None:
    from modelup.models.pricing import Price

    for result, _ in _results():
        for price in (None, Price(0.15, 0.6)):
            assert case_json(result, price) == case_record(result, price).model_dump(mode="json")


def _exotic_results() -> list[CaseResult]:
    """Results whose records orjson would write otherwise, or refuse."""
    scored = _results()[0][0]
    return [
        replace(scored, output={"tiny": 2.5e-07, "edge": 1e-4, "nan": float("nan")}),
        replace(scored, output={"small": [6.3e-05]}),
        replace(scored, output={"big": 10**30}),
        replace(scored, latency_ms=float("nan")),
        replace(scored, latency_ms=3e-06, checks=(CheckOutcome("c", True, 1e-05, None),)),
        replace(scored, raw_output="text with 0.00001 and 1e-7 in it"),
        replace(scored, raw_output="lone \ud800 surrogate", notes=("\udfff",)),
    ]


@pytest.mark.parametrize("price", [None, Price(0.15, 0.6), Price(1e-6, 3e-7)])
def test_case_bytes_read_back_as_the_case_record(price: Price | None) -> None:
    results = [result for result, _ in _results()] + _exotic_results()
    for result in results:
        data = case_bytes(result, price)
        data.decode("utf-8")  # valid UTF-8 whatever the model wrote
        assert data.startswith(b"{\n" + b"  " * 5)  # indented as it stands in the report
        record = case_record(result, price).model_dump(mode="json")
        assert json.loads(data) == _nan_as_null(record)


def _nan_as_null(value: Any) -> Any:
    """What JSON can say of a value: NaN has no spelling, so it is written as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _nan_as_null(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nan_as_null(item) for item in value]
    return value


def test_the_spool_round_trips_in_case_order_whatever_the_arrival_order(tmp_path: Path) -> None:
    results = [result for result, _ in _results()]
    with CaseSpool(2, len(results), tmp_path) as spool:
        for position in reversed(range(len(results))):
            spool.add(1, position, case_bytes(results[position]))
        spool.add(0, 3, case_bytes(results[0]))
        assert spool.count(1) == len(results) and spool.count(0) == 1
        records = list(spool.records(1))
        assert [r.model_dump(mode="json") for r in records] == [
            case_record(result).model_dump(mode="json") for result in results
        ]
        assert spool.record(0, 3) == case_record(results[0])
        assert list(spool.records(0)) == [case_record(results[0])]
        assert math.isclose(records[0].latency_ms or 0, 12)
    assert list(tmp_path.iterdir()) == []  # the spool is a temporary file, gone when closed


def test_slim_results_share_what_is_equal() -> None:
    results = [result for result, _ in _results()]
    slim = Slimmer()
    first, again = slim(results[0]), slim(replace(results[0], usage=Usage(3, 4)))
    assert first.checks is again.checks and first.usage is again.usage
    assert first.passed == results[0].passed and first.latency_ms == results[0].latency_ms
    assert first.raw_output is None and first.output is None and first.notes == ()
    assert slim_result(results[2]).error == results[2].error
