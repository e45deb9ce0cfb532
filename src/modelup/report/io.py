"""Write and read report files; name them safely whatever the model ids are."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from modelup import jsonbytes
from modelup.errors import ReportError
from modelup.report.schema import READABLE_VERSIONS, SCHEMA_VERSION, Report

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_MAX_SLUG = 60


def slug(model_id: str) -> str:
    """A file-name-safe form of a model id: ``gpt-oss:20b`` → ``gpt-oss-20b``,
    ``org/model`` → ``org-model``, ``../x`` → ``x``. Never empty, never a path."""
    text = _DOTS.sub(".", _UNSAFE.sub("-", model_id)).strip(".-_")
    return text[:_MAX_SLUG].rstrip(".-_") or "model"


def report_filename(
    started_at: datetime, mode: str, baseline: str, candidates: Sequence[str]
) -> str:
    """``20260523T071337Z-shadow-gpt-oss-20b-to-qwen3-8b.json``, as the seed names reports;
    with several candidates, the first is named and the rest counted."""
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    more = f"-and-{len(candidates) - 1}-more" if len(candidates) > 1 else ""
    return f"{stamp}-{slug(mode)}-{slug(baseline)}-to-{slug(candidates[0])}{more}.json"


def write_report(report: Report, path: Path) -> Path:
    """Write ``report`` as indented JSON, atomically (a reader never sees half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(report_json(report))
        os.replace(temporary, path)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write report: {exc.strerror or exc}") from exc
    return path


def report_json(report: Report) -> bytes:
    """The report's bytes: its JSON dump, indented, by modelup's one deterministic encoder."""
    return jsonbytes.dumps(report.model_dump(mode="json"), indent=True) + b"\n"


def unique_path(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name-2``, ``name-3``... if a report of that name exists."""
    path = directory / name
    counter = 2
    while path.exists():
        path = directory / f"{Path(name).stem}-{counter}.json"
        counter += 1
    return path


def read_report(path: Path) -> Report:
    """Load and validate a saved report of any readable schema version (an older one keeps its
    ``schema_version``; what it lacks takes its default); refuses others by name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read report: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise ReportError(
            f"{path}: report schema_version {version!r} is not supported "
            f"(this modelup writes version {SCHEMA_VERSION} and reads versions {readable})"
        )
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReportError(f"{path}: not a modelup report: {where}: {first['msg']}") from None
