"""The domain side of trace queries: the filters people type (``--since 7d``, ``traces:failed``)
read into a ``TraceQuery``, and stored rows read back into records."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from modelup.errors import ConfigError, StoreError
from modelup.observe.record import TraceRecord
from modelup.observe.spec import TRACES_PREFIX, is_traces_spec
from modelup.store.traces import TraceQuery, TraceRow

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_FLAGS = ("failed", "overridden", "drift")


def parse_since(text: str, *, now: datetime | None = None, where: str = "--since") -> datetime:
    """``7d``, ``24h``, ``30m``, ``2w`` ago, or an ISO date or time (UTC unless it says)."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative is not None:
        amount = float(relative.group(1))
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[relative.group(2)]: amount})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{where}: {text!r} is neither a duration (7d, 24h, 30m, 2w) nor an ISO date"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_traces_spec(spec: str, *, workflow: str) -> TraceQuery:
    """``traces:`` then comma-separated filters: ``failed``, ``overridden``, ``drift``,
    ``since=7d``, ``until=2026-05-01``, ``run=RUN_ID``, ``limit=N``. The workflow is the run's."""
    body = spec[len(TRACES_PREFIX) :] if is_traces_spec(spec) else spec
    options: dict[str, object] = {"workflow": workflow}
    where = f"--dataset {spec}"
    for part in (item.strip() for item in body.split(",")):
        if not part:
            continue
        key, equals, value = part.partition("=")
        key = key.strip().lower()
        if not equals and key in _FLAGS:
            options[key] = True
        elif key in ("since", "until") and value:
            options[key] = parse_since(value, where=where)
        elif key == "run" and value:
            options["run_id"] = value.strip()
        elif key == "limit" and value.strip().isdigit():
            options["limit"] = int(value)
        else:
            raise ConfigError(
                f"{where}: unknown filter {part!r} (failed, overridden, drift, since=7d, "
                "until=DATE, run=RUN_ID, limit=N)"
            )
    return TraceQuery(**options)  # type: ignore[arg-type]


def records(rows: Iterable[TraceRow]) -> Iterator[TraceRecord]:
    """The records of ``rows``; a record this modelup cannot read is a ``StoreError``."""
    for row in rows:
        try:
            yield TraceRecord.from_json(row.record)
        except ValidationError as exc:
            raise StoreError(
                f"trace {row.span_id}: cannot read a trace record of version "
                f"{row.trace_version}: {exc.errors()[0]['msg']}"
            ) from None
        except ValueError as exc:  # not JSON at all: a damaged row
            raise StoreError(f"trace {row.span_id}: damaged trace record: {exc}") from None
