"""A request's body: at most ``max_bytes`` of JSON, one object of the workflow's input fields
only (the same strict types a dataset case has, without expectations). Every refusal names the
field in a JSON error: 400 (not a JSON object), 413 (too large), 422 (a field missing, of the
wrong type, or not an input of the workflow)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

DEFAULT_MAX_BODY_BYTES = 256 * 1024
_MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class BadRequest(Exception):
    """A request refused before any model is asked."""

    status: int
    message: str
    field: str | None = None
    problems: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": "invalid_request", "message": self.message}
        error["field"] = self.field
        if self.problems:
            error["problems"] = list(self.problems)
        return {"error": error}


async def read_body(
    stream: AsyncIterator[bytes], declared_length: str | None, max_bytes: int
) -> bytes:
    """The whole body, refusing one longer than ``max_bytes`` before reading it (when its
    length is declared) or as soon as it passes the limit."""
    if declared_length is not None:
        try:
            length = int(declared_length)
        except ValueError:
            raise BadRequest(400, "Content-Length is not a number") from None
        if length > max_bytes:
            raise BadRequest(413, f"the body is {length} bytes; at most {max_bytes} are accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            raise BadRequest(413, f"the body is over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_inputs(body: bytes, model: type[BaseModel]) -> dict[str, Any]:
    """The request's input fields, validated by ``model`` (defaults filled in)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest(400, "the body is not JSON: send one object of input fields") from None
    if not isinstance(document, Mapping):
        raise BadRequest(400, "the body must be a JSON object of the workflow's input fields")
    try:
        return model.model_validate(document).model_dump()
    except ValidationError as exc:
        problems = tuple(_problem(error) for error in exc.errors()[:10])
        first = problems[0]
        message = f"{first['field']}: {first['message']}"
        if len(problems) > 1:
            message += f" (and {len(exc.errors()) - 1} more)"
        raise BadRequest(422, message, str(first["field"]), problems) from None


def _problem(error: Any) -> dict[str, Any]:
    parts = [str(part)[:_MAX_NAME] for part in error["loc"]]
    name = ".".join(parts) or "(body)"
    if error["type"] == "extra_forbidden":
        message = "not an input field of this workflow"
    elif error["type"] == "missing":
        message = "required"
    else:
        message = str(error["msg"])
    return {"field": name, "message": message}
