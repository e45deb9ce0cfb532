"""Release records for tests: a valid ``release.toml`` with any field replaced or removed, a
mock evaluation beside it (the bundled support-ops dataset, simulated models), and a tiny TOML
writer for both (the standard library reads TOML but does not write it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SUPPORT_OPS_DATASET = ROOT / "examples" / "support-ops" / "dataset.json"
DROP = object()
"""A field value that removes the field from the record."""

RECORD: dict[str, Any] = {
    "workflow_id": "support-triage",
    "previous_model": "gpt-oss:20b",
    "candidate_model": "qwen3:8b",
    "alias_resolution": {},
    "required_eval_subsets": ["policy-sensitive", "structured-output"],
    "gate_classes": {
        "block": ["policy-sensitive", "structured-output"],
        "conditional": ["tool-posture"],
        "signal": ["latency-cost"],
    },
    "rollout_scope": "full",
    "rollback_rule": "Roll back when the safety pass rate drops below the previous model's.",
    "trace_fields": ["workflow_id", "resolved_model", "system_fingerprint", "validator_outcome"],
    "release_owner": "alice",
    "declared_goal": "Fewer wrong priorities on incident tickets.",
    "evaluation": "modelup.toml",
    "expected_deltas": [
        {"figure": "quality_score", "greater_is_better": True, "min_absolute_change": 0.01}
    ],
}
FIELDS = tuple(RECORD)


def value(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, str):
        return json.dumps(item)  # a JSON string is a TOML basic string
    if isinstance(item, list):
        return "[" + ", ".join(value(element) for element in item) + "]"
    if isinstance(item, Mapping):
        return "{" + ", ".join(f"{json.dumps(k)} = {value(v)}" for k, v in item.items()) + "}"
    raise TypeError(f"cannot write {item!r} as TOML")


def toml(data: Mapping[str, Any]) -> str:
    """``data`` as TOML: scalars, lists and tables as inline values, one key per line."""
    return "".join(f"{json.dumps(key)} = {value(item)}\n" for key, item in data.items())


def sections(data: Mapping[str, Mapping[str, Any]]) -> str:
    """A configuration file: one ``[section]`` per key."""
    parts = []
    for name, table in data.items():
        parts.append(f"[{name}]\n" + toml(table))
    return "\n".join(parts)


def write_evaluation(
    directory: Path,
    *,
    name: str = "modelup.toml",
    baseline: str = "gpt-oss:20b",
    candidate: str = "qwen3:8b",
    candidate_profile: str = "perfect",
    baseline_profile: str = "steady",
    profiles: Mapping[str, Mapping[str, Any]] | None = None,
    **extra: Mapping[str, Any],
) -> Path:
    """A mock evaluation of support-ops: ``profiles`` adds simulated profiles (a
    ``resolved_model`` key makes the model answer as another identity)."""
    config: dict[str, dict[str, Any]] = {
        "experiment": {
            "use_mock_client": True,
            "workflow": "support-ops",
            "dataset_path": str(SUPPORT_OPS_DATASET),
            "report_directory": "reports",
        },
        "llm": {"baseline_model_id": baseline, "candidate_model_id": candidate},
        "mock": {"baseline_profile": baseline_profile, "candidate_profile": candidate_profile},
    }
    for section, table in extra.items():
        config.setdefault(section, {}).update(table)
    text = sections(config)
    for profile, keys in (profiles or {}).items():
        text += f"\n[mock.profiles.{json.dumps(profile)}]\n" + toml(keys)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def write_record(directory: Path, *, name: str = "release.toml", **fields: Any) -> Path:
    """``RECORD`` with ``fields`` replaced (``DROP`` removes one), written as ``name``."""
    record = {key: item for key, item in {**RECORD, **fields}.items() if item is not DROP}
    path = directory / name
    path.write_text(toml(record), encoding="utf-8")
    return path


def release_files(directory: Path, **fields: Any) -> Path:
    """A release record and its mock evaluation (a perfect candidate) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_evaluation(directory)
    return write_record(directory, **fields)
