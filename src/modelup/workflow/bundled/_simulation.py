"""What every simulated model shares: validated profiles, the way its JSON shell goes wrong,
and its pretend latency. The workflow simulators add only the flaws of their own contract."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelup.errors import WorkflowError

_Model = TypeVar("_Model", bound=BaseModel)


class FormatFlaws(BaseModel):
    """Probabilities (0 to 1) that the answer's JSON is broken, fenced or wrapped in prose."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_fence: float = Field(0.0, ge=0, le=1)
    prose_wrap: float = Field(0.0, ge=0, le=1)
    invalid_json: float = Field(0.0, ge=0, le=1)


def validated(model: type[_Model], values: Mapping[str, Any], what: str) -> _Model:
    """``values`` as ``model``, or a ``WorkflowError`` naming the first bad key."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise WorkflowError(f"{what}{where}: {first['msg']}") from None


def render(
    document: Mapping[str, Any],
    flaws: FormatFlaws,
    rng: random.Random,
    noun: str,
    outro: str = "Let me know if you need more.",
) -> str:
    """The answer's text: the document as JSON, possibly cut, fenced or wrapped in prose."""
    text = json.dumps(document, indent=2)
    if rng.random() < flaws.invalid_json:
        return text[: len(text) // 2]
    if rng.random() < flaws.code_fence:
        return f"```json\n{text}\n```"
    if rng.random() < flaws.prose_wrap:
        return f"Here is the {noun} you asked for:\n{text}\n{outro}"
    return text


def latency(rng: random.Random, mean_ms: float, jitter_ms: float) -> float:
    """A pretend call latency in ms: normal around ``mean_ms``, never below 1 ms."""
    return round(max(1.0, rng.gauss(mean_ms, jitter_ms)), 1)
