"""modelup's one JSON encoder: deterministic bytes, by orjson, for everything it writes (reports,
request bodies, cache keys and values, journal lines).

The same value always gives the same bytes: keys in insertion order (or sorted, on request),
floats in orjson's shortest round-trip form, UTF-8 text. NaN and the infinities are written as
``null`` (JSON has no spelling for them). What orjson refuses is made writable first, without
losing anything that can be kept: a string holding a lone surrogate (model text can: ``json.loads``
makes one from ``"\\ud800"``) is written with its ``\\udXXX`` escape, so it reads back the same;
an integer beyond 64 bits is written in full; a non-string key is written as ``str(key)``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson

_MAX_INT = 2**64 - 1
_MIN_INT = -(2**63)


def dumps(value: Any, *, indent: bool = False, sort_keys: bool = False) -> bytes:
    """``value`` as JSON bytes: compact, or indented by two spaces with ``indent``."""
    option = (orjson.OPT_INDENT_2 if indent else 0) | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        return orjson.dumps(value, option=option)
    except (orjson.JSONEncodeError, TypeError):
        return orjson.dumps(_writable(value), option=option)


def compact(value: Any, *, sort_keys: bool = False) -> bytes:
    """``dumps(value)``: one line, no spaces."""
    return dumps(value, sort_keys=sort_keys)


def _writable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return orjson.Fragment(json.dumps(value))  # ASCII, every surrogate escaped
        return value
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if _MIN_INT <= value <= _MAX_INT else orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {_key(key): _writable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_writable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _writable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value  # datetimes orjson writes; anything else it refuses, as it should


def _key(key: Any) -> str:
    text = key if isinstance(key, str) else str(key)
    # A key cannot be a fragment: a lone surrogate in it is kept as its escape's text.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
