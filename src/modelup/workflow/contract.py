"""Parse a model's raw text into the workflow's output contract.

Strict validity means the raw text is exactly one JSON object that satisfies the contract.
Anything more forgiving (JSON inside a code fence, an object inside prose) is a *repair*, and is
recorded as such so that the report can show validity both strictly and after repair.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema

from modelup.errors import WorkflowError

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
MAX_DEPTH = 64
"""An answer nested deeper than this is refused as a contract violation: no structured output
nests so deep, and walking, validating or writing a deeper one would exhaust the stack."""
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


def check_contract(schema: Mapping[str, Any]) -> None:
    """Raise ``WorkflowError`` unless ``schema`` is a valid JSON Schema (draft 2020-12)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(dict(schema))
    except SchemaError as exc:
        raise WorkflowError(f"output contract is not a valid JSON Schema: {exc.message}") from exc


class Contract:
    """A JSON Schema contract with the parse-and-repair rules around it.

    The schema is checked here unless ``checked`` says it already was (a workflow's contract:
    the loader checks a workflow file's, and the bundled ones are checked by the tests). A
    document is confirmed valid by a compiled validator when the schema allows it; jsonschema,
    which alone decides what is invalid and words why, is imported only when first needed, so a
    run's first call does not wait for it."""

    def __init__(self, schema: Mapping[str, Any], *, checked: bool = False) -> None:
        self._schema = dict(schema)
        if not checked:
            check_contract(self._schema)
        self._validator: Any = None
        self._confirm_valid = _fast_validator(schema)

    def _jsonschema(self) -> Any:
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(self._schema)
        return self._validator

    def parse(self, raw: str) -> ParseOutcome:
        strict = _load_object(raw)
        if strict is not None:
            errors = self._violations(strict, raw)
            return ParseOutcome(None if errors else strict, not errors, not errors, (), errors)
        for repair, candidate in _repair_candidates(raw):
            document = _load_object(candidate)
            if document is not None:
                errors = self._violations(document, candidate)
                return ParseOutcome(
                    None if errors else document, False, not errors, (repair,), errors
                )
        return ParseOutcome(None, False, False, (), ("answer is not a JSON object",))

    def _violations(self, document: dict[str, Any], text: str) -> tuple[str, ...]:
        # Counting brackets is C speed; only a text with more of them than the limit can nest
        # that deep, and only then is the document walked.
        if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(document, MAX_DEPTH):
            return (f"(root): the answer nests deeper than {MAX_DEPTH} levels",)
        if self._confirm_valid is not None and self._confirm_valid(document):
            return ()
        found = sorted(
            self._jsonschema().iter_errors(document), key=lambda e: list(e.absolute_path)
        )
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


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether ``document`` nests lists and objects more than ``limit`` deep (without
    recursion: the document is untrusted)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend(
                (item, depth + 1) for item in value.values() if isinstance(item, dict | list)
            )
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value if isinstance(item, dict | list))
    return False


def _repair_candidates(raw: str) -> list[tuple[str, str]]:
    candidates = [(REPAIR_CODE_FENCE, match.group(1)) for match in _FENCE.finditer(raw)]
    start = raw.find("{")
    end = raw.rfind("}")
    if start != -1 and end > start:
        candidates.append((REPAIR_PROSE, raw[start : end + 1]))
    return candidates


# ------------------------------------------------------------------------------ the fast path

# Keywords whose meaning in draft 7 (what fastjsonschema compiles) is the meaning in draft
# 2020-12 (what the contract is checked against), given the restrictions in ``_portable``.
# Everything else (``$ref``, ``pattern``, ``format``, ``prefixItems``, ``unevaluated*``...)
# keeps the contract on jsonschema alone.
_ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "default"})
_SCHEMA_MAPS = frozenset({"properties"})
_SCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf"})
_SUBSCHEMAS = frozenset({"items", "additionalProperties", "not"})
_NUMBERS = frozenset(
    {
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
    }
)
_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_DRAFT_7 = "http://json-schema.org/draft-07/schema#"


def _fast_validator(schema: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A compiled check that says True only of documents the contract accepts, or None when
    the schema uses a keyword outside the portable set.

    Used only to confirm a VALID document: whatever it rejects is validated again by
    jsonschema, which alone decides and words the errors, so a document is never judged by
    fastjsonschema's idea of invalid. Schemas are compiled as draft 7 with defaults and formats
    off (fastjsonschema would otherwise write defaults into the document)."""
    body = {key: value for key, value in schema.items() if key != "$schema"}
    if not _portable(body):
        return None
    try:
        compiled = fastjsonschema.compile(
            {"$schema": _DRAFT_7, **body}, use_default=False, use_formats=False
        )
    except Exception:  # a schema fastjsonschema cannot compile stays on jsonschema alone
        return None

    def confirm(document: Any) -> bool:
        try:
            compiled(document)
        except fastjsonschema.JsonSchemaValueException:
            return False
        except Exception:  # anything unexpected: let jsonschema decide
            return False
        return True

    return confirm


def _portable(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            types = value if isinstance(value, list) else [value]
            if not all(isinstance(t, str) and t in _TYPES for t in types):
                return False
        elif key == "required":
            if not (isinstance(value, list) and all(isinstance(n, str) for n in value)):
                return False
        elif key in _NUMBERS:
            if not _number(value):
                return False
        elif key == "enum":
            # Scalars only: fastjsonschema compares containers with ``==``, where 1 == True.
            if not (isinstance(value, list) and all(_scalar(item) for item in value)):
                return False
        elif key == "const":
            if not _scalar(value):
                return False
        elif key in _SCHEMA_MAPS:
            if not isinstance(value, dict) or not all(_portable(sub) for sub in value.values()):
                return False
        elif key in _SCHEMA_LISTS:
            if not isinstance(value, list) or not value or not all(_portable(s) for s in value):
                return False
        elif key in _SUBSCHEMAS:
            if not _portable(value):  # an array ``items`` (draft 7 tuples) is not portable
                return False
        else:
            return False
    return True


def _number(value: Any) -> bool:
    # Finite: the compiled code spells numbers with ``repr``, and ``inf`` is no Python literal.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _number(value)
