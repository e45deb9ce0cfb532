"""Which case fields are *inputs* (what a request carries) and which are *expectations* (what a
person who labelled the case knows), and which checks can run without expectations.

A production request carries inputs only. A check that reads an expectation (``expected_queue``)
cannot judge a production request; a check that reads inputs only (the output contract, a policy
over the request's fields, cited sources) is *label-free* and can. Policies decide from inputs
only: that is what lets the shell enforce them at run time.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from typing import Any

from modelup.workflow.policy import Policy
from modelup.workflow.prompt import PromptTemplate

CASE_PARAMS = ("case", "when", "allow_when")
"""Check parameters that name case fields."""


def prompt_fields(prompt: PromptTemplate) -> frozenset[str]:
    """The case fields the prompt renders (its ``$field`` placeholders)."""
    names: set[str] = set()
    for _, text in prompt.messages:
        names.update(string.Template(text).get_identifiers())
    return frozenset(names)


def policy_fields(policy: Policy) -> frozenset[str]:
    """The case fields a policy's conditions read."""
    return frozenset(condition.field for rule in policy.rules for condition in rule.when)


def fields_read(kind: str, params: Mapping[str, Any]) -> frozenset[str] | None:
    """The case fields a check of ``kind`` reads through ``params``; ``None`` when that cannot
    be known (a ``python`` check is handed the whole case)."""
    if kind == "python":
        return None
    names = {str(value) for _, value in case_references(params) if isinstance(value, str)}
    policy = params.get("policy")
    if isinstance(policy, Policy):
        names |= policy_fields(policy)
    return frozenset(names)


def case_references(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, value) under ``value`` whose key names a case field."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{prefix}.{key}" if prefix else str(key)
            if key in CASE_PARAMS and item is not None:
                yield here, item
            else:
                yield from case_references(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from case_references(item, f"{prefix}[{index}]")
