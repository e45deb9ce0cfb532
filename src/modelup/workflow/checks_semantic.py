"""Check kinds about what an answer means, not only its shape.

``non_empty_when``: a list must say something when a case field says it should (unknowns when
telemetry is missing). ``lexicon``: every item of a list is classified by terms (a next step is
read-only or write-shaped) and a forbidden class fails unless a case field allows it.
``sources_cited``: cited evidence must name a source the case gave. ``policy``: a model's yes/no
field is compared with a deterministic policy over case fields, and each disagreement is noted
with the rule that decided it. ``python``: a function named by import path, for what the
vocabulary cannot say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from modelup.errors import WorkflowError
from modelup.workflow.check_params import (
    LexiconParams,
    NonEmptyWhenParams,
    PolicyParams,
    PythonParams,
    SourcesCitedParams,
)
from modelup.workflow.checks import (
    CheckFunction,
    CheckOutcome,
    _flatten_text,
    _fold,
    _outcome,
    _show,
    register_check,
    values_at,
)
from modelup.workflow.policy import Policy
from modelup.workflow.references import resolve

_MAX_ITEM_CHARS = 80


def _items(output: Mapping[str, Any], path: str) -> list[Any]:
    """The items at ``path``: a list field yields its elements, anything else itself."""
    found: list[Any] = []
    for value in values_at(output, path):
        found.extend(value if isinstance(value, list) else [value])
    return found


def _said(item: Any) -> bool:
    if item is None:
        return False
    if isinstance(item, str):
        return bool(item.strip())
    if isinstance(item, list | Mapping):
        return bool(item)
    return True


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ITEM_CHARS else text[: _MAX_ITEM_CHARS - 1] + "…"


@register_check("non_empty_when", params=NonEmptyWhenParams)
def _non_empty_when(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """The list at ``output`` has a non-blank item whenever case field ``when`` is truthy."""
    condition = params.get("when")
    if condition is not None and not case.get(condition):
        return _outcome(True, None)
    if any(_said(item) for item in _items(output, params["output"])):
        return _outcome(True, None)
    label = params.get("label", params["output"])
    value = case.get(condition) if condition else None
    shown = ", ".join(map(_show, value)) if isinstance(value, list) else _show(value)
    because = f" although the case has {condition}: {shown}" if condition else ""
    return _outcome(False, f"{label} is empty{because}")


@cache
def _term_pattern(term: str) -> re.Pattern[str]:
    # A term matches at the start of a word, so "restart" also finds "restarting" but "scale"
    # does not find "autoscaler".
    return re.compile(r"(?<!\w)" + re.escape(term.casefold()))


def classify(
    item: str, classes: Mapping[str, Sequence[str]], default: str
) -> tuple[str, str | None]:
    """The class of ``item`` and the term that decided it: the first declared class wins."""
    text = item.casefold()
    for name, terms in classes.items():
        for term in terms:
            if _term_pattern(term).search(text):
                return name, term
    return default, None


@register_check("lexicon", params=LexiconParams)
def _lexicon(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """No item of the list at ``output`` falls in a ``forbidden`` class, unless ``allow_when``."""
    allow = params.get("allow_when")
    if allow is not None and case.get(allow):
        return _outcome(True, None)
    forbidden = set(params["forbidden"])
    default = params.get("default", "unclassified")
    hits: list[str] = []
    for item in _items(output, params["output"]):
        text = " ".join(_flatten_text(item))
        name, term = classify(text, params["classes"], default)
        if name in forbidden:
            hits.append(
                f"'{_clip(text)}' ({name}: {term})" if term else f"'{_clip(text)}' ({name})"
            )
    if not hits:
        return _outcome(True, None)
    label = params.get("label", params["output"])
    unless = f" and the case does not allow it ({allow})" if allow else ""
    classes = "/".join(sorted(forbidden))
    return _outcome(False, f"{label} include {classes} items{unless}: {'; '.join(hits)}")


@register_check("sources_cited", params=SourcesCitedParams)
def _sources_cited(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Every source cited at ``output`` is one the case gave, and at least ``min_items`` are."""
    given = case.get(params["case"]) or []
    known = {_fold(source) for source in given}
    cited = [item for item in _items(output, params["output"]) if _said(item)]
    unknown = [_clip(_show(item)) for item in cited if _fold(item) not in known]
    grounded = {_fold(item) for item in cited} & known
    minimum = int(params.get("min_items", 1))
    label = params.get("label", "Evidence")
    notes = []
    if unknown:
        notes.append(f"{label} cites sources the case did not give: {', '.join(unknown)}")
    if len(grounded) < minimum:
        notes.append(f"{label} cites {len(grounded)} given source(s), at least {minimum} required")
    return _outcome(not notes, "; ".join(notes) or None)


@register_check("policy", params=PolicyParams)
def _policy(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """The boolean at ``output`` agrees with the deterministic ``policy`` for this case."""
    policy = params["policy"]
    if not isinstance(policy, Policy):
        raise WorkflowError(f"policy check needs a Policy, got {type(policy).__name__}")
    decision = policy.decide(case)
    found = values_at(output, params["output"])
    said = found[0] if found else None
    label = params.get("label", params["output"])
    policy_says = f"the {policy.name} policy says {_show(decision.value)} ({decision.reason})"
    if not isinstance(said, bool):
        return _outcome(False, f"{label} is {_show(said)}, not true or false; {policy_says}")
    if said is decision.value:
        return _outcome(True, None)
    note = f"{label} disagrees with policy: model says {_show(said)}, {policy_says}"
    lenient = params.get("fail_on", "any") == "missed" and not decision.value
    return _outcome(lenient, note)


@cache
def python_check(reference: str) -> CheckFunction:
    """The function named by ``reference`` (``module:function`` or ``file.py:function``)."""
    function = resolve(reference)
    if not callable(function):
        raise WorkflowError(f"{reference!r} is not a function")
    checked: Callable[..., Any] = function
    return checked


@register_check("python", params=PythonParams)
def _python(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Calls ``function(output, case, params)``; it returns a CheckOutcome, a bool, or
    ``(bool, note)``. A function that raises fails the case with a note: model output is
    untrusted and must never stop the run."""
    reference = params["function"]
    function = python_check(reference)
    try:
        result = function(output, case, params)
    except Exception as exc:  # user code on untrusted output: recorded, never raised
        return _outcome(False, f"check {reference} raised {type(exc).__name__}: {_clip(str(exc))}")
    if isinstance(result, CheckOutcome):
        return result
    if isinstance(result, bool):
        return _outcome(result, None)
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], bool)
        and (result[1] is None or isinstance(result[1], str))
    ):
        return _outcome(result[0], result[1])
    return _outcome(
        False, f"check {reference} returned {type(result).__name__}, not a bool or CheckOutcome"
    )
