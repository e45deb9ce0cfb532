"""A frozen dataset built from recorded production requests: ``--dataset traces:...``.

Each distinct request (by the hash of its input fields) becomes one case with its inputs only,
written to a JSONL file under ``.modelup/datasets/`` named by its content, so the run is
reproducible: the report pins that file's sha256 like any dataset's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from modelup import jsonbytes
from modelup.config.store_url import StoreLocation
from modelup.errors import DatasetError, StoreError
from modelup.observe.queries import parse_traces_spec, records
from modelup.store.traces import open_trace_store
from modelup.workflow.base import Workflow


def dataset_from_traces(
    spec: str, workflow: Workflow, store_url: StoreLocation, directory: Path
) -> Path:
    """Write the cases of the traces ``spec`` selects to a JSONL file in ``directory`` and
    return its path; a ``DatasetError`` when they give no case."""
    query = parse_traces_spec(spec, workflow=workflow.name)
    try:
        store = open_trace_store(store_url, create=False)
        if store is None:
            raise DatasetError(f"--dataset {spec}: no traces recorded yet ({store_url})")
        with store:
            found = list(records(store.find(query)))
    except StoreError as exc:
        raise DatasetError(f"--dataset {spec}: {exc}") from None
    cases: dict[str, bytes] = {}
    without_inputs = 0
    for record in found:
        if record.inputs is None:
            without_inputs += 1
            continue
        if record.inputs_sha256 in cases:
            continue
        case = {
            "id": f"trace-{record.trace_id[:16]}",
            **record.inputs,
            "provenance": {
                "trace_id": record.trace_id,
                "span_id": record.span_id,
                "recorded_at": record.finished_at.isoformat(),
                "requested_model": record.requested_model,
                "resolved_model": record.resolved_model,
                "prompt_sha256": record.prompt_sha256,
            },
        }
        cases[record.inputs_sha256] = jsonbytes.compact(case)
    if not cases:
        reason = (
            f"{without_inputs} trace(s) match but kept no inputs ([traces] keep_inputs = false)"
            if without_inputs
            else f"no trace of workflow {workflow.name!r} matches"
        )
        raise DatasetError(f"--dataset {spec}: {reason}")
    data = b"".join(line + b"\n" for line in cases.values())
    name = f"traces-{workflow.name}-{hashlib.sha256(data).hexdigest()[:12]}.jsonl"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_bytes(data)
    except OSError as exc:
        raise DatasetError(f"{directory}: cannot write the replay dataset: {exc}") from exc
    return path
