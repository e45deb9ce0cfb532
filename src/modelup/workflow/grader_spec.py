"""A workflow's ``[grader]`` table: which contract fields a grader model reads, and the rubric
it scores answers on. Checked when the file is loaded, like every other key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelup.errors import WorkflowError
from modelup.workflow.base import Criterion, GraderSpec
from modelup.workflow.file_format import GraderDecl


def contract_fields(contract: Mapping[str, Any]) -> tuple[str, ...]:
    """The top-level properties a contract declares, in declaration order."""
    properties = contract.get("properties")
    return tuple(properties) if isinstance(properties, Mapping) else ()


def check_grader_fields(fields: Sequence[str], contract: Mapping[str, Any], where: str) -> None:
    """Each field a grader reads is a distinct top-level property of the contract."""
    known = contract_fields(contract)
    seen: set[str] = set()
    for index, name in enumerate(fields):
        if known and name not in known:
            raise WorkflowError(
                f"{where}[{index}]: {name!r} is not a field of the contract ({', '.join(known)})"
            )
        if name in seen:
            raise WorkflowError(f"{where}[{index}]: {name!r} is given twice")
        seen.add(name)


def grader_spec(declared: GraderDecl | None, contract: Mapping[str, Any]) -> GraderSpec | None:
    """The workflow's grader table as a ``GraderSpec`` (``None`` when the file has none)."""
    if declared is None:
        return None
    check_grader_fields(declared.fields, contract, "grader.fields")
    names: set[str] = set()
    for index, criterion in enumerate(declared.rubric):
        if criterion.name in names:
            raise WorkflowError(f"grader.rubric[{index}].name: {criterion.name!r} is used twice")
        names.add(criterion.name)
    return GraderSpec(
        fields=tuple(declared.fields),
        rubric=tuple(Criterion(c.name, c.description) for c in declared.rubric),
    )
