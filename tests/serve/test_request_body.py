"""Request bodies: capped, JSON objects of the workflow's input fields only, errors naming the
field."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from modelup.observe.label_free import inputs_model
from modelup.serve.request_body import BadRequest, parse_inputs, read_body
from modelup.workflow.catalog import get_workflow

WORKFLOW = get_workflow("incident-triage")
INPUTS = inputs_model(WORKFLOW.case_fields, WORKFLOW.input_fields)
GOOD = b'{"request": "r", "service": "s", "impact": "high", "sources": {"a": "x"}}'


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def read(*parts: bytes, length: str | None = None, limit: int = 100) -> bytes:
    return asyncio.run(read_body(chunks(*parts), length, limit))


def test_a_body_within_the_limit_is_read_whole() -> None:
    assert read(b"abc", b"def") == b"abcdef"


def test_a_body_over_the_limit_is_413_declared_or_not() -> None:
    with pytest.raises(BadRequest) as declared:
        read(b"x", length="101")
    assert declared.value.status == 413
    with pytest.raises(BadRequest) as streamed:
        read(b"x" * 60, b"x" * 60)  # chunked: no length declared
    assert streamed.value.status == 413
    with pytest.raises(BadRequest) as bogus:
        read(b"x", length="ten")
    assert bogus.value.status == 400


def test_inputs_are_validated_strictly_and_defaults_filled() -> None:
    fields = parse_inputs(GOOD, INPUTS)
    assert fields["actions_allowed"] is False and fields["impact"] == "high"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"[1, 2]", 400, None),
        (b"\xff\xfe", 400, None),
        (GOOD.replace(b'"high"', b'"huge"'), 422, "impact"),
        (GOOD.replace(b'"r"', b"3"), 422, "request"),
        (GOOD[:-1] + b', "actions_allowed": "true"}', 422, "actions_allowed"),
        (GOOD[:-1] + b', "missing_telemetry": ["x"]}', 422, "missing_telemetry"),
        (b'{"request": "r"}', 422, "service"),
        (GOOD.replace(b'{"a": "x"}', b'{"a": 1}'), 422, "sources.a"),
    ],
)
def test_a_bad_body_names_the_field(body: bytes, status: int, field: str | None) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_inputs(body, INPUTS)
    assert refused.value.status == status and refused.value.field == field
    error = refused.value.to_json()["error"]
    assert error["field"] == field and error["message"]
