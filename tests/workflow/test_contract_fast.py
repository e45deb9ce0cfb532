"""The compiled fast path of contract checking: it only ever confirms documents jsonschema
accepts, and schemas with keywords outside its portable set stay on jsonschema alone."""

from __future__ import annotations

import json
import random
import tomllib
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from modelup.workflow.contract import Contract, _fast_validator

SUPPORT_OPS = tomllib.loads(
    resources.files("modelup.workflow.bundled").joinpath("support_ops.toml").read_text()
)["contract"]

RICH: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "rich",
    "type": "object",
    "required": ["n", "kind", "tags"],
    "additionalProperties": False,
    "properties": {
        "n": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
        "x": {"type": ["number", "null"], "maximum": 1.5},
        "kind": {"enum": ["a", "b", 1, None, True]},
        "fixed": {"const": 2},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3},
        "flag": {"type": "boolean"},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "one": {"oneOf": [{"type": "number"}, {"type": "integer"}]},
        "never": {"not": {"type": "null"}},
        "meta": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
        "no": False,
    },
}

HOSTILE: list[Any] = [
    {},
    {"n": True, "kind": "a", "tags": []},  # a bool is not an integer
    {"n": 1.0, "kind": "a", "tags": []},  # but 1.0 is, since draft 6
    {"n": 1.5, "kind": "a", "tags": []},
    {"n": 10, "kind": "a", "tags": []},
    {"n": -0.0, "kind": "a", "tags": []},
    {"n": 10**400, "kind": "a", "tags": []},
    {"n": 1, "kind": 1.0, "tags": []},
    {"n": 1, "kind": True, "tags": []},
    {"n": 1, "kind": 1, "tags": []},
    {"n": 1, "kind": False, "tags": []},
    {"n": 1, "kind": "A", "tags": []},
    {"n": 1, "kind": None, "tags": [""]},
    {"n": 1, "kind": "a", "tags": ["x", "y", "z", "w"]},
    {"n": 1, "kind": "a", "tags": [1]},
    {"n": 1, "kind": "a", "tags": "abc"},
    {"n": 1, "kind": "a", "tags": [], "fixed": True},
    {"n": 1, "kind": "a", "tags": [], "fixed": 2.0},
    {"n": 1, "kind": "a", "tags": [], "x": float("nan")},
    {"n": 1, "kind": "a", "tags": [], "x": float("inf")},
    {"n": 1, "kind": "a", "tags": [], "x": None},
    {"n": 1, "kind": "a", "tags": [], "x": False},
    {"n": 1, "kind": "a", "tags": [], "either": 2.0},
    {"n": 1, "kind": "a", "tags": [], "either": 2.5},
    {"n": 1, "kind": "a", "tags": [], "one": 3},  # both branches: oneOf fails
    {"n": 1, "kind": "a", "tags": [], "one": 3.5},
    {"n": 1, "kind": "a", "tags": [], "never": None},
    {"n": 1, "kind": "a", "tags": [], "no": 1},
    {"n": 1, "kind": "a", "tags": [], "extra": 1},
    {"n": 1, "kind": "a", "tags": [], "meta": {"a": "b"}},
    {"n": 1, "kind": "a", "tags": [], "meta": {"a": "b", "c": "d"}},
    {"n": 1, "kind": "a", "tags": [], "meta": {"a": 1}},
    {"n": 1, "kind": "a", "tags": ["\ud800", "\u202e"], "flag": 0},
    {"n": 1, "kind": "a", "tags": [], "__proto__": {}, "constructor": "x"},
    [],
    "not an object",
]


def _agrees(schema: dict[str, Any], document: Any) -> None:
    confirm = _fast_validator(schema)
    assert confirm is not None
    valid = not list(Draft202012Validator(schema).iter_errors(document))
    # The fast path may only ever say "valid" of a valid document; on the portable keywords it
    # says so of every valid one.
    assert confirm(document) is valid, document


@pytest.mark.parametrize("document", HOSTILE, ids=range(len(HOSTILE)))
def test_fast_path_agrees_with_jsonschema_on_hostile_documents(document: Any) -> None:
    _agrees(RICH, document)


def test_fast_path_agrees_with_jsonschema_on_random_support_answers() -> None:
    rng = random.Random(3)
    values: list[Any] = [None, True, 0, 1.0, "x", [], ["a"], [{}], {}, {"tool_name": "t"}]
    good = {
        "category": "incident",
        "priority": "P1",
        "should_refuse": False,
        "summary": "s",
        "actions": ["a"],
        "customer_reply": "r",
        "tool_calls": [{"tool_name": "T", "arguments": {"q": None}}],
    }
    _agrees(SUPPORT_OPS, good)
    for _ in range(500):
        document = dict(good)
        for key in rng.sample(sorted(good), rng.randint(1, 3)):
            if rng.random() < 0.2:
                del document[key]
            else:
                document[key] = rng.choice(values)
        _agrees(SUPPORT_OPS, document)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "^a"}}},
        {"type": "object", "properties": {"a": {"type": "string", "format": "email"}}},
        {"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"type": "object", "unevaluatedProperties": False},
        {"properties": {"a": {"enum": [[1], {"b": True}]}}},  # containers: 1 == True in Python
        {"properties": {"a": {"const": [1]}}},
        {"properties": {"a": {"type": "number", "maximum": float("inf")}}},
        {"properties": {"a": {"type": "decimal"}}},
        {"properties": {"a": {"type": "number", "multipleOf": 0.1}}},
        {"type": "array", "uniqueItems": True},
        {"properties": {"a": {"default": 1}}, "if": {"required": ["a"]}},
    ],
)
def test_schemas_with_other_keywords_have_no_fast_path(schema: dict[str, Any]) -> None:
    assert _fast_validator(schema) is None


def test_errors_still_come_from_jsonschema_and_defaults_are_not_written() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "string"}, "b": {"type": "integer", "default": 3}},
    }
    contract = Contract(schema)
    document = {"a": "x"}
    outcome = contract.parse(json.dumps(document))
    assert outcome.valid and outcome.output == {"a": "x"}  # no default filled in
    bad = contract.parse(json.dumps({"a": 1}))
    assert not bad.valid
    assert bad.errors == ("a: 1 is not of type 'string'",)


def test_the_bundled_contracts_take_the_fast_path() -> None:
    for name in ("support_ops.toml", "incident_triage.toml"):
        text = resources.files("modelup.workflow.bundled").joinpath(name).read_text()
        assert _fast_validator(tomllib.loads(text)["contract"]) is not None, name
