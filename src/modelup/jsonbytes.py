"""JSON encoded on the hot path of a live run: by orjson, with the standard library where orjson
refuses a value or would write it otherwise.

orjson refuses lone surrogates (model text can hold them: ``json.loads`` makes them from
``"\\ud800"``), integers beyond 64 bits and non-string keys; below 1e-4 it writes floats in
another form than ``repr`` (0.00001 for 1e-05, 2.5e-7 for 2.5e-07); and it writes NaN and the
infinities as null, so callers hand it finite floats only.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_SHORT_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")
"""orjson's 2.5e-7 (``repr``: 2.5e-07); its 0.00001 (``repr``: 1e-05) is the other form."""


def same_as_json(data: bytes) -> bool:
    """Whether orjson's ``data`` holds no float that ``json.dumps`` would write otherwise. A
    string holding either form counts too: the standard library then encodes the value, which
    is only slower. (Two searches with a literal start: one alternation cost ten times more.)"""
    return b"0.0000" not in data and _SHORT_EXPONENT.search(data) is None


def compact(value: Any, *, sort_keys: bool = False) -> bytes:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)`` as
    UTF-8, the same bytes whichever encoder made them; a lone surrogate is written as its
    ``\\udXXX`` escape, so the bytes are always valid UTF-8 and read back to the same value.

    Except NaN and the infinities, which orjson writes as null where ``json.dumps`` writes the
    non-JSON ``NaN``: the hot path has none (latencies are finite, temperatures bounded), but an
    ``extra`` request parameter set to NaN is sent as null."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except (orjson.JSONEncodeError, TypeError):
        pass
    else:
        if same_as_json(data):
            return data
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    return text.encode("utf-8", errors="backslashreplace")
