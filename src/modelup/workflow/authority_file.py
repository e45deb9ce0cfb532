"""Build a workflow file's ``[authority]`` section, checked against the rest of the file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from modelup.errors import WorkflowError
from modelup.workflow.authority import ActionRule, Authority, PolicyOwned
from modelup.workflow.base import CheckSpec
from modelup.workflow.contract import Contract
from modelup.workflow.file_format import AuthorityDecl
from modelup.workflow.policy import Policy


def build_authority(
    declared: AuthorityDecl,
    *,
    contract: Mapping[str, Any],
    checks: Sequence[CheckSpec],
    policies: Mapping[str, Policy],
    inputs: frozenset[str],
) -> Authority:
    """The ``[authority]`` section checked against the workflow it belongs to; every problem is
    a ``WorkflowError`` naming the key (``authority.policy_owned.x.policy``)."""
    properties = contract.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    owned = []
    for field, spec in declared.policy_owned.items():
        where = f"authority.policy_owned.{field}"
        schema = properties.get(field)
        if not isinstance(schema, Mapping):
            raise WorkflowError(f"{where}: {field!r} is not a field of the contract")
        if schema.get("type") != "boolean":
            raise WorkflowError(f"{where}: a policy decides yes or no: {field!r} must be boolean")
        name = spec if isinstance(spec, str) else spec.policy
        if name not in policies:
            known = ", ".join(sorted(policies)) or "none declared"
            raise WorkflowError(f"{where}: no policy {name!r} ({known})")
        contained = None if isinstance(spec, str) else spec.contained
        owned.append(PolicyOwned(field, policies[name], contained))
    actions = None
    if declared.actions is not None:
        actions = _actions(declared, checks, properties)
    if declared.routing_key is not None and declared.routing_key not in inputs:
        raise WorkflowError(
            f"authority.routing_key: {declared.routing_key!r} is not an input field (a request "
            "carries it)"
        )
    safe = dict(declared.safe_default) if declared.safe_default is not None else None
    if safe is not None:
        outcome = Contract(contract, checked=True).parse(json.dumps(safe))
        if not outcome.strict_valid:
            raise WorkflowError(
                "authority.safe_default: does not satisfy the contract: "
                + "; ".join(outcome.errors)
            )
    elif declared.on_fail == "escalate" or actions is not None:
        raise WorkflowError(
            "authority.safe_default: required with on_fail escalate or an action rule (it is the "
            "deterministic answer the shell falls back to)"
        )
    return Authority(
        policy_owned=tuple(owned),
        actions=actions,
        on_fail=declared.on_fail,
        safe_default=safe,
        routing_key=declared.routing_key,
    )


def _actions(
    declared: AuthorityDecl, checks: Sequence[CheckSpec], properties: Mapping[str, Any]
) -> ActionRule:
    assert declared.actions is not None
    decl = declared.actions
    where = "authority.actions"
    check = next((c for c in checks if c.name == decl.check), None)
    if check is None or check.kind != "lexicon":
        raise WorkflowError(f"{where}.check: {decl.check!r} is not a lexicon check")
    output = str(check.params["output"])
    schema = properties.get(output)
    if not isinstance(schema, Mapping) or schema.get("type") != "array":
        raise WorkflowError(
            f"{where}.check: the shell filters a top-level list field; {output!r} is not one"
        )
    classes = check.params["classes"]
    default = str(check.params.get("default", "unclassified"))
    known = {*classes, default}
    for key in ("allowed", "contained"):
        unknown = [name for name in getattr(decl, key) if name not in known]
        if unknown:
            raise WorkflowError(
                f"{where}.{key}: not classes of check {decl.check}: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
    return ActionRule(
        check=decl.check,
        output=output,
        classes=classes,
        default=default,
        allowed=tuple(decl.allowed),
        contained=tuple(decl.contained),
        allow_when=check.params.get("allow_when"),
    )
