"""modelup's one JSON encoder: deterministic, valid UTF-8, and nothing model text can hold
makes it fail."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest

from modelup.jsonbytes import compact, dumps

VALUES: list[Any] = [
    {"model": "m1", "messages": [{"role": "user", "content": 'é\n"\\\u2028\x00\x1f\x7f😀'}]},
    {"b": 1, "a": [0.0, -0.0, 0.7, 1e16, 1e300, 5e-324, 0.0001, 123.456], "c": None},
    {"tiny": 1e-05, "smaller": 2.5e-07},
    {"text": "a lone \ud800 surrogate", "nested": [{"deep": "\udfff"}]},
    {"big": 10**30, "negative": -(10**30)},
    [True, False, None, "", [], {}],
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("indent", [False, True])
def test_every_value_reads_back_equal_and_is_valid_utf8(value: Any, indent: bool) -> None:
    data = dumps(value, indent=indent)
    data.decode("utf-8")  # valid UTF-8, so a file or SQLite takes it
    assert json.loads(data) == value


@pytest.mark.parametrize("value", VALUES)
def test_the_same_value_gives_the_same_bytes(value: Any) -> None:
    assert dumps(value) == dumps(json.loads(json.dumps(value)))
    assert dumps(value, sort_keys=True) == dumps(
        dict(sorted(value.items())) if isinstance(value, dict) else value, sort_keys=True
    )


def test_what_orjson_takes_is_orjson_s_bytes() -> None:
    value = {"b": [1, 2.5, "x"], "a": {"é": None}}
    assert dumps(value) == orjson.dumps(value)
    assert dumps(value, indent=True) == orjson.dumps(value, option=orjson.OPT_INDENT_2)
    assert compact(value, sort_keys=True) == orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def test_nan_and_infinities_are_null() -> None:
    assert json.loads(dumps({"x": math.nan, "y": math.inf, "z": -math.inf})) == {
        "x": None,
        "y": None,
        "z": None,
    }


def test_a_lone_surrogate_in_a_key_is_kept_as_its_escape_text() -> None:
    data = dumps({"\ud800key": 1, 3: "non-string key"})
    assert json.loads(data) == {"\\ud800key": 1, "3": "non-string key"}


def test_what_no_encoder_could_write_is_still_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})
