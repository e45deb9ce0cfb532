"""Failed production cases into the golden set: ``modelup golden add --from-traces``.

Recorded requests that failed, were overridden by a policy or drifted become proposed golden
cases: their inputs, their expectations (from the policy's decision where an expectation field
is the one a policy owns, or from a label file a person fills in), and their provenance (trace
id, resolved model, prompt hash, time). Proposals go to a review file first; accepted ones are
appended to the dataset, skipping any whose inputs the dataset already holds. The dataset's
sha256 then changes, so history and diff treat it as a new frozen set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from modelup import jsonbytes
from modelup.config.store_url import StoreLocation
from modelup.errors import DatasetError, StoreError
from modelup.evaluate.dataset import Dataset, load_dataset
from modelup.observe.label_free import inputs_model
from modelup.observe.queries import records
from modelup.observe.record import TraceRecord, inputs_sha256
from modelup.store.traces import TraceQuery, open_trace_store
from modelup.workflow.base import Workflow
from modelup.workflow.policy import Policy

PRODUCTION_SUBSET = "production"
_JSONL = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposed golden case, as it would be appended, and what it still lacks."""

    case: dict[str, Any]
    missing: tuple[str, ...] = ()
    """Expectation fields without a default that neither the policy nor a label gave."""

    @property
    def id(self) -> str:
        return str(self.case["id"])

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "missing": list(self.missing)}


@dataclass
class Proposals:
    proposals: list[Proposal] = field(default_factory=list)
    already_in_dataset: int = 0
    without_inputs: int = 0


def read_labels(path: Path) -> dict[str, dict[str, Any]]:
    """A label file: JSON Lines (or a JSON array) of objects naming a proposal by ``id`` (or a
    trace by ``trace_id``) and giving expectation fields: ``{"id": "prod-...", "f": v}``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read labels: {exc.strerror or exc}") from exc
    stripped = text.lstrip()
    entries: list[tuple[str, Any]] = []
    try:
        if stripped.startswith("["):
            entries = [(f"item {i}", item) for i, item in enumerate(json.loads(text))]
        else:
            entries = [
                (f"line {n}", json.loads(line))
                for n, line in enumerate(text.splitlines(), start=1)
                if line.strip()
            ]
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno})") from exc
    labels: dict[str, dict[str, Any]] = {}
    for where, entry in entries:
        if not isinstance(entry, dict):
            raise DatasetError(f"{path}: {where}: a label is a JSON object")
        key = entry.pop("id", None) or entry.pop("trace_id", None)
        if not isinstance(key, str) or not key:
            raise DatasetError(f"{path}: {where}: give the proposal's 'id' or its 'trace_id'")
        labels[key] = entry
    return labels


def propose(
    store_url: StoreLocation,
    workflow: Workflow,
    query: TraceQuery,
    dataset: Dataset,
    *,
    labels: Mapping[str, Mapping[str, Any]] | None = None,
) -> Proposals:
    """The golden cases the traces ``query`` selects propose for ``dataset``."""
    try:
        store = open_trace_store(store_url, create=False)
        if store is None:
            return Proposals()
        with store:
            found = list(records(store.find(query)))
    except StoreError as exc:
        raise DatasetError(f"traces: {exc}") from None
    model = inputs_model(workflow.case_fields, workflow.input_fields)
    known = {canonical_sha256(model, case.fields) for case in dataset.cases}
    taken = {case.id for case in dataset.cases}
    result = Proposals()
    seen: set[str] = set()
    for record in found:
        if record.inputs is None:
            result.without_inputs += 1
            continue
        content = canonical_sha256(model, record.inputs)
        if content in known:
            result.already_in_dataset += 1
            continue
        if content in seen:
            continue
        seen.add(content)
        proposal = _proposal(workflow, record, labels or {}, taken)
        taken.add(proposal.id)
        result.proposals.append(proposal)
    return result


def canonical_sha256(model: type[BaseModel], fields: Mapping[str, Any]) -> str:
    """The content hash of a case's inputs, defaults filled in (so equal requests match)."""
    try:
        values = model.model_validate({k: v for k, v in fields.items() if k in model.model_fields})
    except ValidationError:
        return inputs_sha256(fields)
    return inputs_sha256(values.model_dump())


def _proposal(
    workflow: Workflow,
    record: TraceRecord,
    labels: Mapping[str, Mapping[str, Any]],
    taken: set[str],
) -> Proposal:
    case_id = f"prod-{record.trace_id[:12]}"
    suffix = 1
    while case_id in taken:
        suffix += 1
        case_id = f"prod-{record.trace_id[:12]}-{suffix}"
    expectations = policy_expectations(workflow, record.inputs or {})
    label = labels.get(case_id) or labels.get(record.trace_id) or {}
    expectations.update(label)
    reasons = [name for name in ("failed", "overridden", "drift") if getattr(record, name)]
    case: dict[str, Any] = {
        "id": case_id,
        "subsets": [PRODUCTION_SUBSET],
        **(record.inputs or {}),
        **expectations,
        "provenance": {
            "trace_id": record.trace_id,
            "span_id": record.span_id,
            "recorded_at": record.finished_at.isoformat(),
            "source": record.source,
            "requested_model": record.requested_model,
            "resolved_model": record.resolved_model,
            "system_fingerprint": record.system_fingerprint,
            "prompt_id": record.prompt_id,
            "prompt_sha256": record.prompt_sha256,
            "workflow_version": record.workflow_version,
            "reasons": reasons,
            "policies": [
                {"policy": p.policy, "decision": p.decision, "rule": p.rule}
                for p in record.policies
            ],
        },
    }
    fields = workflow.case_fields.model_fields
    missing = tuple(
        name
        for name, info in fields.items()
        if name not in case and name not in workflow.input_fields and info.is_required()
    )
    return Proposal(case, missing)


def policy_expectations(workflow: Workflow, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Expectation fields a policy decides: a policy check whose answer field has the name of
    an expectation field gets the policy's decision as that field's value."""
    found: dict[str, Any] = {}
    fields = workflow.case_fields.model_fields
    for check in workflow.checks:
        policy = check.params.get("policy")
        output = check.params.get("output")
        if not isinstance(policy, Policy) or not isinstance(output, str):
            continue
        if output in fields and output not in workflow.input_fields:
            found[output] = policy.decide(inputs).value
    return found


def write_review(path: Path, proposals: Sequence[Proposal]) -> Path:
    """The proposals as JSON Lines, one ``{"case": ..., "missing": [...]}`` each."""
    data = b"".join(jsonbytes.compact(p.to_json()) + b"\n" for p in proposals)
    _write(path, data)
    return path


def accept(path: Path, workflow: Workflow, proposals: Sequence[Proposal]) -> Dataset:
    """Append the complete ``proposals`` to the dataset at ``path`` (JSON Lines: new lines; a
    JSON document: rewritten with the new cases at the end) and return it, checked."""
    complete = [p for p in proposals if not p.missing]
    if not complete:
        return load_dataset(path, workflow)
    raw = path.read_bytes()
    if path.suffix.lower() in _JSONL or not raw.lstrip().startswith((b"[", b"{\n", b'{"cases"')):
        lines = b"".join(jsonbytes.compact(p.case) + b"\n" for p in complete)
        data = raw + (b"" if raw.endswith(b"\n") or not raw else b"\n") + lines
    else:
        document = json.loads(raw.decode("utf-8-sig"))
        cases = document["cases"] if isinstance(document, dict) else document
        cases.extend(p.case for p in complete)
        data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    backup = raw
    _write(path, data)
    try:
        return load_dataset(path, workflow)
    except DatasetError:
        _write(path, backup)  # never leave a dataset that does not load
        raise


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot write: {exc.strerror or exc}") from exc
