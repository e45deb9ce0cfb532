"""Hot-path JSON: orjson's bytes where they are the standard library's, json's otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelup.jsonbytes import compact, same_as_json

VALUES: list[Any] = [
    {"model": "m1", "messages": [{"role": "user", "content": 'é\n"\\\u2028\x00\x1f\x7f😀'}]},
    {"b": 1, "a": [0.0, -0.0, 0.7, 1e16, 1e300, 5e-324, 0.0001, 123.456], "c": None},
    {"tiny": 1e-05, "smaller": 2.5e-07},  # orjson writes these otherwise: json's bytes
    {"text": "a lone \ud800 surrogate", "\udfff": "as a key"},  # orjson refuses these
    {"big": 10**30},  # orjson refuses integers beyond 64 bits
    {3: "a non-string key"},
    [True, False, None, "", [], {}],
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("sort_keys", [False, True])
def test_compact_is_json_dumps_compact(value: Any, sort_keys: bool) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    assert compact(value, sort_keys=sort_keys) == expected.encode("utf-8", "backslashreplace")


def test_lone_surrogates_come_back_as_written() -> None:
    value = {"content": "model text \ud800 with a lone surrogate"}
    data = compact(value)
    data.decode("utf-8")  # valid UTF-8, so a file or SQLite takes it
    assert json.loads(data) == value


def test_the_guard_spots_every_float_orjson_writes_otherwise() -> None:
    import orjson

    for value in (1e-05, 6.3e-05, 2.5e-07, 1.616037601127474e-07, 9.99e-05):
        assert not same_as_json(orjson.dumps(value))
    for value in (0.0001, 1e-10, 1e16, 0.5, 6.3e-15):
        assert orjson.dumps(value) == json.dumps(value).encode()
        assert same_as_json(orjson.dumps(value))
