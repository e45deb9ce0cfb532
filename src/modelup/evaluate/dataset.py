"""Load a frozen dataset: a JSON array, a JSON object with ``cases``, or JSONL.

Every case has the generic keys ``id``, ``family`` and ``subsets`` (and may have
``provenance``: where a case added from production traces came from); the rest are the workflow's
case fields, validated by the workflow's case model. camelCase keys are accepted and read as
snake_case. Any problem is a ``DatasetError`` naming the file and the case (index or line).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelup._naming import to_snake
from modelup.errors import DatasetError
from modelup.workflow.base import Workflow

_JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One frozen case: its identity, its family and gate subsets, and the workflow's fields."""

    id: str
    family: str
    subsets: tuple[str, ...]
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Dataset:
    """The cases in file order, with the file's sha256 so a report pins exactly what ran."""

    path: Path
    sha256: str
    cases: tuple[EvalCase, ...]

    def __len__(self) -> int:
        return len(self.cases)


def load_dataset(path: Path, workflow: Workflow) -> Dataset:
    """Read and validate ``path`` for ``workflow``; raises ``DatasetError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read dataset: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: dataset is not UTF-8 text ({exc.reason})") from exc
    cases: list[EvalCase] = []
    seen: dict[str, str] = {}
    for where, record in _records(path, text):
        case = _case(path, where, record, workflow)
        if case.id in seen:
            raise DatasetError(
                f"{path}: {where}: duplicate case id {case.id!r} (first at {seen[case.id]})"
            )
        seen[case.id] = where
        cases.append(case)
    if not cases:
        raise DatasetError(f"{path}: dataset has no cases")
    return Dataset(path=path, sha256=hashlib.sha256(raw).hexdigest(), cases=tuple(cases))


def _records(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    """Cases with where they are: ``case N`` in a JSON document, ``line N`` in JSONL.

    A ``.jsonl``/``.ndjson`` file is always JSON Lines; otherwise a file that is one JSON array,
    or one JSON object with ``cases``, is a document, and anything else is read as JSON Lines.
    """
    document = None
    if path.suffix.lower() not in _JSONL_SUFFIXES:
        stripped = text.lstrip()
        if stripped.startswith("["):
            document = _load_document(path, text)
        elif stripped.startswith("{"):
            try:
                candidate = json.loads(text)
            except json.JSONDecodeError:
                candidate = None  # several objects: JSON Lines
            if isinstance(candidate, dict) and "cases" in candidate:
                document = candidate["cases"]
                if not isinstance(document, list):
                    raise DatasetError(f"{path}: 'cases' must be a JSON array")
            elif isinstance(candidate, dict) and "id" not in candidate:
                raise DatasetError(f"{path}: a JSON object dataset needs a 'cases' array")
    if document is not None:
        if not isinstance(document, list):
            raise DatasetError(
                f"{path}: a dataset must be a JSON array, an object with 'cases' or JSONL"
            )
        for index, record in enumerate(document):
            yield f"case {index}", record
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: line {number}: invalid JSON: {exc.msg}") from exc


def _load_document(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc


def _case(path: Path, where: str, record: Any, workflow: Workflow) -> EvalCase:
    if not isinstance(record, dict):
        raise DatasetError(f"{path}: {where}: a case must be a JSON object")
    fields: dict[str, Any] = {}
    for key, value in record.items():
        name = to_snake(str(key))
        if name in fields:
            raise DatasetError(
                f"{path}: {where}: key {key!r} is given twice (camelCase and snake_case)"
            )
        fields[name] = value
    case_id = fields.pop("id", None)
    if not isinstance(case_id, str) or not case_id.strip():
        raise DatasetError(f"{path}: {where}: 'id' must be a non-empty string")
    label = f"{where} (id {case_id})"
    family = fields.pop("family", None)
    subsets = fields.pop("subsets", [])
    provenance = fields.pop("provenance", None)
    if provenance is not None and not isinstance(provenance, dict):
        raise DatasetError(f"{path}: {label}: 'provenance' must be an object")
    if family is not None and not isinstance(family, str):
        raise DatasetError(f"{path}: {label}: 'family' must be a string")
    if not isinstance(subsets, list) or not all(isinstance(s, str) for s in subsets):
        raise DatasetError(f"{path}: {label}: 'subsets' must be a list of strings")
    try:
        model = workflow.case_fields.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(case)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise DatasetError(f"{path}: {label}: {problems}") from None
    values = model.model_dump()
    if family is None and workflow.family_field is not None:
        family = str(values[workflow.family_field])
    return EvalCase(
        id=case_id,
        family=family or "default",
        subsets=tuple(dict.fromkeys(subsets)),
        fields=values,
    )
