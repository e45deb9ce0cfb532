"""Write a report without holding its cases: spool each case record as it arrives, stream the
file at the end.

A run of 100,000 cases keeps, per case and model, only the slim result the figures, paired
statistics and trials need (``slim_result``); the full record (raw output, parsed output, check
notes) is encoded once, as the exact bytes it takes in the report, and appended to a temporary
spool file. ``write_streamed_report`` then writes the report's head (everything but the cases)
with each model's ``cases`` array copied from the spool in case order.

The bytes are those of ``report.io.report_json`` (the pydantic dump, by modelup's one encoder,
``modelup.jsonbytes``): ``case_json`` builds the same dict ``CaseRecord`` dumps to, and
``case_bytes`` encodes it indented as it stands in the report.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from modelup import jsonbytes
from modelup.decide.trials import case_trials
from modelup.errors import ReportError
from modelup.evaluate.scoring import CaseResult
from modelup.models.chat import Usage
from modelup.models.pricing import Price, case_cost
from modelup.workflow.checks import CheckOutcome

if TYPE_CHECKING:
    from modelup.report.schema import CaseRecord, Report

_INDENT = "  "
# Where a model's cases sit in the report: top-level object (0), ``models`` (1), a model (2),
# its ``cases`` array (3); a case record's own keys are one level deeper.
_CASES_LEVEL = 3
_CASE_LEVEL = _CASES_LEVEL + 1
_HOLE = "\x00modelup-{}-{}\x00"


# ------------------------------------------------------------------------------ encoding


def _nested(data: bytes, level: int) -> bytes:
    """Indented JSON made to stand ``level`` deep (a JSON string never holds a raw newline)."""
    return data.replace(b"\n", b"\n" + _INDENT.encode() * level)


def case_bytes(result: CaseResult, price: Price | None = None) -> bytes:
    """``result``'s case record encoded as it stands in the report, ``_CASE_LEVEL`` deep."""
    return _nested(jsonbytes.dumps(case_json(result, price), indent=True), _CASE_LEVEL)


def _checks_json(checks: tuple[CheckOutcome, ...]) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "passed": c.passed, "score": float(c.score), "note": c.note}
        for c in checks
    ]


def case_json(result: CaseResult, price: Price | None = None) -> dict[str, Any]:
    """What ``build.case_record(result, price).model_dump(mode="json")`` is, built directly
    (a pydantic model per case is most of the cost of a large report)."""
    usage = result.usage
    latency = result.latency_ms
    cost = case_cost(price, usage)
    return {
        "case_id": result.case_id,
        "family": result.family,
        "subsets": list(result.subsets),
        "epoch": int(result.epoch),
        "passed": result.passed,
        "strict_valid": result.strict_valid,
        "valid": result.valid,
        "repairs": list(result.repairs),
        "checks": _checks_json(result.checks),
        "notes": list(result.notes),
        "raw_output": result.raw_output,
        "output": _plain(result.output) if result.output is not None else None,
        "latency_ms": None if latency is None else float(latency),
        "usage": {
            "prompt_tokens": int(usage.prompt_tokens),
            "completion_tokens": int(usage.completion_tokens),
        },
        "cost_usd": cost,
        "resolved_model": result.resolved_model,
        "system_fingerprint": result.system_fingerprint,
        "error": result.error,
        "cached": result.cached,
    }


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """A parsed output as pydantic dumps it: it comes from ``json.loads``, so it is plain JSON
    already, except that NaN and infinities (which ``json.loads`` accepts) dump as null."""
    return {key: _finite(item) for key, item in value.items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value - value == 0.0 else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


# ------------------------------------------------------------------------------ slim results


class Slimmer:
    """Makes slim results: ``result`` without what only its case record needs (raw and parsed
    output, notes, check notes), which is what figures, trials, paired statistics and identity
    flags are computed from. Equal check outcomes, usages and model names are shared between
    results (a run has few distinct ones), so a slim result costs about 250 bytes."""

    def __init__(self) -> None:
        self._checks: dict[tuple[tuple[str, bool, float], ...], tuple[CheckOutcome, ...]] = {}
        self._usages: dict[tuple[int, int], Usage] = {}

    def __call__(self, result: CaseResult) -> CaseResult:
        return slim_result(result, self._checks, self._usages)


def _shared(cache: dict[Any, Any], key: Any, make: Any) -> Any:
    found = cache.get(key)
    if found is None:
        found = make()
        if len(cache) < 100_000:  # bounded: ``mean`` check scores, say, may all differ
            cache[key] = found
    return found


def slim_result(
    result: CaseResult,
    checks_cache: dict[tuple[tuple[str, bool, float], ...], tuple[CheckOutcome, ...]] | None = None,
    usage_cache: dict[tuple[int, int], Usage] | None = None,
) -> CaseResult:
    """See ``Slimmer``; without caches nothing is shared."""
    key = tuple((c.name, c.passed, c.score) for c in result.checks)
    checks: tuple[CheckOutcome, ...] = _shared(
        {} if checks_cache is None else checks_cache,
        key,
        lambda: tuple(CheckOutcome(name, passed, score, None) for name, passed, score in key),
    )
    usage = result.usage
    usage = _shared(
        {} if usage_cache is None else usage_cache,
        (usage.prompt_tokens, usage.completion_tokens),
        lambda: usage,
    )
    resolved = result.resolved_model
    fingerprint = result.system_fingerprint
    return CaseResult(
        case_id=result.case_id,
        family=result.family,
        subsets=result.subsets,
        passed=result.passed,
        strict_valid=result.strict_valid,
        valid=result.valid,
        checks=checks,
        notes=(),
        repairs=result.repairs,
        latency_ms=result.latency_ms,
        usage=usage,
        resolved_model=sys.intern(resolved) if resolved is not None else None,
        system_fingerprint=sys.intern(fingerprint) if fingerprint is not None else None,
        error=result.error,
        epoch=result.epoch,
        cached=result.cached,
    )


# ------------------------------------------------------------------------------ the spool


class CaseSpool:
    """Case records of every model, as report bytes, in a temporary file (deleted on close).

    Records are appended in the order they arrive and found again by (model, trial position),
    so the report lists them in case order whatever order the calls finished in. What stays in
    memory is two integers per record.
    """

    def __init__(self, models: int, trials: int, directory: Path | None = None) -> None:
        try:
            self._file: BinaryIO = tempfile.TemporaryFile(  # noqa: SIM115 (closed by close())
                prefix="modelup-cases-", dir=directory
            )
        except OSError as exc:
            raise ReportError(f"cannot create the case spool: {exc.strerror or exc}") from exc
        self._fd = self._file.fileno()
        self._size = 0
        self.trials = trials
        self._offsets = [array("q", [-1]) * trials for _ in range(models)]
        self._lengths = [array("l", [0]) * trials for _ in range(models)]

    def add(self, model: int, position: int, data: bytes) -> None:
        """Spool one case record of ``model`` at ``position``, encoded by ``case_bytes``."""
        try:
            os.write(self._fd, data)
        except OSError as exc:
            raise ReportError(f"cannot write the case spool: {exc.strerror or exc}") from exc
        self._offsets[model][position] = self._size
        self._lengths[model][position] = len(data)
        self._size += len(data)

    def count(self, model: int) -> int:
        return sum(offset >= 0 for offset in self._offsets[model])

    def raw(self, model: int, position: int) -> bytes:
        offset = self._offsets[model][position]
        if offset < 0:
            raise ReportError(f"case {position} of model {model} was never spooled")
        return os.pread(self._fd, self._lengths[model][position], offset)

    def raw_records(self, model: int) -> Iterator[bytes]:
        """Every spooled record of ``model`` in case order (trial position)."""
        for position in range(self.trials):
            if self._offsets[model][position] >= 0:
                yield self.raw(model, position)

    def record(self, model: int, position: int) -> CaseRecord:
        from modelup.report.schema import CaseRecord  # read back at the end, not while spooling

        text = self.raw(model, position).decode("utf-8")
        return CaseRecord.model_validate(json.loads(text))

    def records(self, model: int) -> Iterator[CaseRecord]:
        from modelup.report.schema import CaseRecord

        for raw in self.raw_records(model):
            yield CaseRecord.model_validate(json.loads(raw.decode("utf-8")))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CaseSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------ the report


def trial_cases_json(results: Sequence[CaseResult]) -> Iterator[dict[str, Any]]:
    """A model's ``trials.cases`` entries (``TrialCaseRecord``'s JSON), from its results."""
    for case in case_trials(results):
        yield {
            "case_id": case.case_id,
            "trials": case.trials,
            "passes": case.passes,
            "pass_probability": case.pass_probability,
        }


def with_cases(head: Report, spool: CaseSpool, results: Sequence[Sequence[CaseResult]]) -> Report:
    """The whole report in memory: ``head`` with every model's cases read from ``spool`` and
    its trial cases computed from ``results``. For small runs and library users; a large run
    is written with ``write_streamed_report``."""
    models = []
    for index, model in enumerate(head.models):
        update: dict[str, Any] = {"cases": list(spool.records(index))}
        if model.trials is not None:
            from modelup.report.schema import TrialCaseRecord

            cases = [TrialCaseRecord(**entry) for entry in trial_cases_json(results[index])]
            update["trials"] = model.trials.model_copy(update={"cases": cases})
        models.append(model.model_copy(update=update))
    return head.model_copy(update={"models": models})


def _array(items: Iterator[bytes], level: int) -> Iterator[bytes]:
    """A JSON array ``level`` deep whose items are already encoded ``level + 1`` deep."""
    separator = ("[\n" + _INDENT * (level + 1)).encode("utf-8")
    following = (",\n" + _INDENT * (level + 1)).encode("utf-8")
    empty = True
    for item in items:
        yield separator + item
        separator = following
        empty = False
    yield b"[]" if empty else ("\n" + _INDENT * level + "]").encode("utf-8")


def streamed_chunks(
    head: Report, spool: CaseSpool, results: Sequence[Sequence[CaseResult]]
) -> Iterator[bytes]:
    """The report's bytes, in pieces: ``head``'s JSON with each model's (empty) ``cases`` and
    ``trials.cases`` filled in from ``spool`` and ``results``."""
    data = head.model_dump(mode="json")
    holes: list[tuple[str, Iterator[bytes], int]] = []
    for index, model in enumerate(data["models"]):
        if model["cases"] or (model["trials"] and model["trials"]["cases"]):
            raise ValueError("the report head must not hold cases: they are streamed")
        model["cases"] = _HOLE.format("cases", index)
        holes.append((model["cases"], spool.raw_records(index), _CASES_LEVEL))
        if model["trials"] is not None:
            model["trials"]["cases"] = _HOLE.format("trials", index)
            trials = (
                _nested(jsonbytes.dumps(entry, indent=True), _CASES_LEVEL + 2)
                for entry in trial_cases_json(results[index])
            )
            holes.append((model["trials"]["cases"], trials, _CASES_LEVEL + 1))
    text = jsonbytes.dumps(data, indent=True) + b"\n"
    for hole, items, level in holes:
        before, text = text.split(jsonbytes.dumps(hole), 1)
        yield before
        yield from _array(items, level)
    yield text


def write_streamed_report(
    head: Report, spool: CaseSpool, results: Sequence[Sequence[CaseResult]], path: Path
) -> Path:
    """Write the report of ``head`` and ``spool`` atomically, as ``write_report`` writes the
    whole report: the same bytes, without ever holding them all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        with temporary.open("wb") as out:
            buffer: list[bytes] = []
            size = 0
            for chunk in streamed_chunks(head, spool, results):
                buffer.append(chunk)
                size += len(chunk)
                if size >= 1 << 20:
                    out.write(b"".join(buffer))
                    buffer, size = [], 0
            out.write(b"".join(buffer))
        os.replace(temporary, path)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write report: {exc.strerror or exc}") from exc
    return path


def spooled_failures(
    spool: CaseSpool, model: int, results: Sequence[CaseResult], limit: int
) -> tuple[int, list[CaseRecord]]:
    """How many of ``results`` (a model's slim results, in trial order) failed, and the case
    records of the first ``limit`` of them, read back from the spool."""
    failed = [position for position, result in enumerate(results) if not result.passed]
    return len(failed), [spool.record(model, position) for position in failed[:limit]]


class SpooledReport:
    """A finished run whose cases are in a spool: the report's head (``cases`` empty), the
    spool, and each model's slim results in case order. Close it (or use ``with``) to delete
    the spool."""

    def __init__(
        self, head: Report, spool: CaseSpool, results: Sequence[Sequence[CaseResult]]
    ) -> None:
        self.head = head
        self.spool = spool
        self.results = results

    def write(self, path: Path) -> Path:
        return write_streamed_report(self.head, self.spool, self.results, path)

    def full(self) -> Report:
        """The whole report in memory (every case record read back)."""
        return with_cases(self.head, self.spool, self.results)

    def failures(self, limit: int) -> list[tuple[int, list[CaseRecord]]]:
        """Per model: how many cases failed, and the records of the first ``limit``."""
        return [
            spooled_failures(self.spool, index, results, limit)
            for index, results in enumerate(self.results)
        ]

    def close(self) -> None:
        self.spool.close()

    def __enter__(self) -> SpooledReport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
