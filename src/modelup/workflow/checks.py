"""The check vocabulary: small deterministic functions registered by name.

Every check reads the parsed output and the case's fields through ``params`` and returns a
``CheckOutcome``. Output fields are addressed by path: ``category``, ``actions``, or
``tool_calls[].tool_name`` (every item's ``tool_name``). Keyword matching is case-insensitive.
Each kind registers the pydantic model of its ``params`` so that a workflow file with a missing
or unknown parameter is refused when it is loaded, not halfway through a run.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from modelup.errors import WorkflowError
from modelup.workflow.check_params import (
    CaseFieldParams,
    EqualsParams,
    NoneForbiddenParams,
    TextParams,
    ToolSchemaParams,
)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The result of one check on one case. ``score`` is 1.0 or 0.0 unless it is a coverage."""

    name: str
    passed: bool
    score: float
    note: str | None = None


CheckFunction = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], CheckOutcome]
"""(output, case fields, params) -> outcome; the outcome's name is set by the caller."""

_REGISTRY: dict[str, CheckFunction] = {}
_PARAMS: dict[str, type[BaseModel]] = {}
_BUILTIN_MODULES = ("modelup.workflow.checks_semantic", "modelup.workflow.checks_text")
"""The other modules of built-in kinds: they register themselves when imported, which a
lookup does first (by name, so that this module, which they import, does not import them)."""
_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


def register_check(
    kind: str, *, params: type[BaseModel] | None = None
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under ``kind`` so workflows and reports can name it.

    ``params``, when given, is the pydantic model a workflow file's ``params`` must satisfy.
    """

    def decorate(function: CheckFunction) -> CheckFunction:
        if kind in _REGISTRY:
            raise WorkflowError(f"check kind {kind!r} is already registered")
        _REGISTRY[kind] = function
        if params is not None:
            _PARAMS[kind] = params
        return function

    return decorate


def get_check(kind: str) -> CheckFunction:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise WorkflowError(f"unknown check kind {kind!r} (known: {known})") from None


def check_params_model(kind: str) -> type[BaseModel] | None:
    """The model of ``kind``'s params, or ``None`` when the kind accepts anything."""
    get_check(kind)
    return _PARAMS.get(kind)


def check_kinds() -> tuple[str, ...]:
    _load_builtins()
    return tuple(sorted(_REGISTRY))


def values_at(document: Any, path: str) -> list[Any]:
    """All values at ``path``; ``a[].b`` walks every item of list ``a``. Missing parts yield
    nothing rather than failing: the contract, not the checks, decides what must exist."""
    current: list[Any] = [document]
    for part in path.split("."):
        iterate = part.endswith("[]")
        key = part[:-2] if iterate else part
        found: list[Any] = []
        for value in current:
            if isinstance(value, Mapping) and key in value:
                item = value[key]
                if iterate:
                    if isinstance(item, list):
                        found.extend(item)
                else:
                    found.append(item)
        current = found
    return current


def text_of(document: Any, paths: Iterable[str]) -> str:
    """The combined text of the output fields at ``paths``, for keyword checks."""
    parts: list[str] = []
    for path in paths:
        for value in values_at(document, path):
            parts.extend(_flatten_text(value))
    return "\n".join(parts)


def _flatten_text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _flatten_text(item)]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _flatten_text(item)]
    return [json.dumps(value)]


def _paths(params: Mapping[str, Any], key: str = "output") -> list[str]:
    value = params[key]
    return [value] if isinstance(value, str) else list(value)


def _case_list(case: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    value = case.get(params["case"]) or []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _show(value: Any) -> str:
    """Values in notes as JSON spells them (``true``, ``null``), strings bare."""
    return value if isinstance(value, str) else json.dumps(value)


def _fold(value: Any) -> str:
    return str(value).strip().casefold()


def _outcome(passed: bool, note: str | None, score: float | None = None) -> CheckOutcome:
    return CheckOutcome("", passed, (1.0 if passed else 0.0) if score is None else score, note)


def _coverage(required: Sequence[str], present: Callable[[str], bool], label: str) -> CheckOutcome:
    if not required:
        return _outcome(True, None)
    missing = [item for item in required if not present(item)]
    score = (len(required) - len(missing)) / len(required)
    note = f"{label} were missing: {', '.join(missing)}" if missing else None
    return _outcome(not missing, note, score)


@register_check("equals", params=EqualsParams)
def _equals(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Output field equals the case field, or the fixed ``value`` (case-insensitive for strings;
    booleans must be booleans: ``"true"`` is not ``true``)."""
    expected = case.get(params["case"]) if "case" in params else params.get("value")
    actual = values_at(output, params["output"])
    got = actual[0] if actual else None
    if isinstance(expected, bool) or isinstance(got, bool):
        passed = got is expected
    else:
        passed = got is not None and _fold(got) == _fold(expected)
    label = params.get("label", params["output"])
    note = f"{label} mismatch: expected {_show(expected)}, got {_show(got)}"
    return _outcome(passed, None if passed else note)


@register_check("one_of", params=CaseFieldParams)
def _one_of(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Output field is one of the values in a case list field."""
    allowed = [_fold(item) for item in _case_list(case, params)]
    actual = values_at(output, params["output"])
    got = actual[0] if actual else None
    passed = got is not None and _fold(got) in allowed
    label = params.get("label", params["output"])
    return _outcome(passed, None if passed else f"{label} {got} is not one of {', '.join(allowed)}")


@register_check("keywords_required", params=TextParams)
def _keywords_required(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Coverage: the fraction of the case's keywords found in the combined text of the fields."""
    text = text_of(output, _paths(params)).casefold()
    return _coverage(
        _case_list(case, params),
        lambda keyword: keyword.casefold() in text,
        params.get("label", "Required keywords"),
    )


@register_check("items_required", params=CaseFieldParams)
def _items_required(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Coverage: the fraction of the case's items present in a list field of the output."""
    present = {_fold(item) for item in values_at(output, params["output"])}
    return _coverage(
        _case_list(case, params),
        lambda item: _fold(item) in present,
        params.get("label", "Required items"),
    )


@register_check("none_forbidden", params=NoneForbiddenParams)
def _none_forbidden(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """No forbidden item in the named list fields and no forbidden keyword in the named text."""
    notes: list[str] = []
    for rule in params.get("items", ()):
        present = {_fold(item) for item in values_at(output, rule["output"])}
        hits = [item for item in _case_list(case, rule) if _fold(item) in present]
        if hits:
            notes.append(f"{rule.get('label', 'Forbidden items')} appeared: {', '.join(hits)}")
    for rule in params.get("keywords", ()):
        text = text_of(output, _paths(rule)).casefold()
        hits = [word for word in _case_list(case, rule) if word.casefold() in text]
        if hits:
            notes.append(f"{rule.get('label', 'Forbidden keywords')} appeared: {', '.join(hits)}")
    return _outcome(not notes, "; ".join(notes) or None)


@register_check("tool_calls_schema", params=ToolSchemaParams)
def _tool_calls_schema(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Every tool call names a known tool and passes only known argument keys of allowed types."""
    known_tools = set(params["tools"])
    known_keys = set(params["argument_keys"])
    notes: list[str] = []
    for index, call in enumerate(values_at(output, params["output"])):
        if not isinstance(call, Mapping):
            notes.append(f"tool call {index} is not an object")
            continue
        name = call.get(params.get("name_key", "tool_name"))
        if name not in known_tools:
            notes.append(f"tool call {index} names an unknown tool: {name}")
        arguments = call.get(params.get("arguments_key", "arguments"), {})
        if not isinstance(arguments, Mapping):
            notes.append(f"tool call {index} arguments are not an object")
            continue
        for key, value in arguments.items():
            if key not in known_keys:
                notes.append(f"tool call {index} passes an unknown argument: {key}")
            elif value is not None and not isinstance(value, str):
                notes.append(f"tool call {index} argument {key} is not a string or null")
    return _outcome(not notes, "Tool schema invalid: " + "; ".join(notes) if notes else None)
