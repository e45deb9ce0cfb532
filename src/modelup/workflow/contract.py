"""Parse a model's raw text into the workflow's output contract.

Strict validity means the raw text is exactly one JSON object that satisfies the contract.
Anything more forgiving (JSON inside a code fence, an object inside prose) is a *repair*, and is
recorded as such so that the report can show validity both strictly and after repair.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from modelup.errors import WorkflowError

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_MAX_ERRORS = 5
_MAX_ERROR_CHARS = 200

REPAIR_CODE_FENCE = "extracted JSON from a markdown code fence"
REPAIR_PROSE = "extracted a JSON object from surrounding prose"


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """How a raw answer fared against the contract. ``output`` is set only when valid."""

    output: dict[str, Any] | None
    strict_valid: bool
    valid: bool
    repairs: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


class Contract:
    """A JSON Schema contract with the parse-and-repair rules around it."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        try:
            Draft202012Validator.check_schema(dict(schema))
        except SchemaError as exc:
            raise WorkflowError(
                f"output contract is not a valid JSON Schema: {exc.message}"
            ) from exc
        self._validator = Draft202012Validator(dict(schema))

    def parse(self, raw: str) -> ParseOutcome:
        strict = _load_object(raw)
        if strict is not None:
            errors = self._violations(strict)
            return ParseOutcome(None if errors else strict, not errors, not errors, (), errors)
        for repair, candidate in _repair_candidates(raw):
            document = _load_object(candidate)
            if document is not None:
                errors = self._violations(document)
                return ParseOutcome(
                    None if errors else document, False, not errors, (repair,), errors
                )
        return ParseOutcome(None, False, False, (), ("answer is not a JSON object",))

    def _violations(self, document: dict[str, Any]) -> tuple[str, ...]:
        found = sorted(self._validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        messages = []
        for error in found[:_MAX_ERRORS]:
            where = "/".join(str(part) for part in error.absolute_path) or "(root)"
            messages.append(f"{where}: {error.message[:_MAX_ERROR_CHARS]}")
        if len(found) > _MAX_ERRORS:
            messages.append(f"... and {len(found) - _MAX_ERRORS} more contract violations")
        return tuple(messages)


def _load_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _repair_candidates(raw: str) -> list[tuple[str, str]]:
    candidates = [(REPAIR_CODE_FENCE, match.group(1)) for match in _FENCE.finditer(raw)]
    start = raw.find("{")
    end = raw.rfind("}")
    if start != -1 and end > start:
        candidates.append((REPAIR_PROSE, raw[start : end + 1]))
    return candidates
