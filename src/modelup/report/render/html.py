"""The HTML report: one self-contained file a person opens to see why the gate decided.

No CDN and no network: the stylesheet, the small filtering script and the SVG charts are inline,
and a Content-Security-Policy pins the script and the stylesheet by hash, so even a rendering bug
could not make a model's output run or load anything. Every value goes through Jinja2's
autoescaping after ``safe_text``; only our own stylesheet, script and charts are ``Markup``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from modelup.decide.figures import format_figure, label
from modelup.errors import ReportError
from modelup.report import grader_view
from modelup.report.grader_schema import GradedCaseRecord
from modelup.report.render.charts import latency_histograms
from modelup.report.schema import CaseRecord, CheckRecord, ModelRecord, Report
from modelup.report.view import (
    CaseRow,
    FigureRow,
    case_rows,
    comparisons,
    figure_rows,
    identity_notes,
    rule_scope,
    rule_status,
    safe_text,
)

RAW_OUTPUT_LIMIT = 20_000
"""Characters of a model's raw output shown per case; the JSON report keeps all of it."""
TEXT_LIMIT = 4_000
GROUP_FIGURES = ("pass_rate", "quality_score")


def _finalize(value: Any) -> Any:
    # Runs on every {{ expression }} before autoescaping: our Markup passes untouched, every
    # other string is cleaned of forbidden and direction-changing characters.
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return safe_text(value)
    return value


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("modelup.report.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    return files("modelup.report.render").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@dataclass(frozen=True, slots=True)
class _Cell:
    """One model's side of a case."""

    model: str
    record: CaseRecord | None
    status: str
    css: str
    title: str
    latency: str
    extras: str
    """Cost and cache flags, when the report has them."""
    error: str
    notes: tuple[str, ...]
    checks: tuple[CheckRecord, ...]
    parsed: str
    raw: str
    grading: tuple[str, ...] = ()
    """What the grader said beside this answer, when the run had a grader."""


@dataclass(frozen=True, slots=True)
class _Row:
    key: str
    label: str
    family: str
    subsets: tuple[str, ...]
    failed: str
    regression: str
    cells: tuple[_Cell, ...]


def _cell(model: ModelRecord, record: CaseRecord | None, regressed: bool) -> _Cell:
    name = model.requested_model
    if record is None:
        return _Cell(name, None, "missing", "fail", "no record", "", "", "", (), (), "", "")
    if record.error is not None:
        status, css = "error", "fail"
    elif record.passed:
        status, css = "pass", "pass"
    else:
        status, css = ("regressed" if regressed else "fail"), "fail"
    parsed = (
        json.dumps(record.output, indent=2, ensure_ascii=False)
        if record.output is not None
        else "(nothing parsed)"
    )
    notes = tuple(safe_text(note, TEXT_LIMIT) for note in record.notes)
    return _Cell(
        model=name,
        record=record,
        status=status,
        css=css,
        title=safe_text("; ".join(record.notes), 300) or status,
        latency=format_figure("latency_ms", record.latency_ms),
        extras=_extras(record),
        error=safe_text(record.error, TEXT_LIMIT),
        notes=notes,
        checks=tuple(
            check.model_copy(update={"note": safe_text(check.note, TEXT_LIMIT) or None})
            for check in record.checks
        ),
        parsed=safe_text(parsed, RAW_OUTPUT_LIMIT),
        raw=safe_text(record.raw_output, RAW_OUTPUT_LIMIT)
        if record.raw_output is not None
        else "(no output)",
    )


def _extras(record: CaseRecord) -> str:
    parts = []
    cost = getattr(record, "cost_usd", None)
    if isinstance(cost, float | int):
        parts.append(f"${cost:.5f}")
    if getattr(record, "cached", False):
        parts.append("from cache")
    return " · ".join(parts)


def _trials(report: Report) -> list[tuple[str, list[tuple[str, str]], int]]:
    """Per model with repeated trials: (name, [(label, value)], flaky case count)."""
    rows = []
    for model in report.models:
        trials = getattr(model, "trials", None)
        if trials is None or trials.epochs < 2:
            continue  # one epoch: pass@1 is the pass rate, already shown
        cells = [(f"pass@{k}", f"{v * 100:.1f}%") for k, v in trials.pass_at_k.items()]
        cells += [(f"pass^{k}", f"{v * 100:.1f}%") for k, v in trials.pass_hat_k.items()]
        rows.append((model.requested_model, cells, len(trials.flaky_cases)))
    return rows


def _row(
    report: Report, row: CaseRow, graded: dict[tuple[str, int], GradedCaseRecord] | None = None
) -> _Row:
    cells = tuple(
        _cell(model, record, index > 0 and row.regressed(index))
        for index, (model, record) in enumerate(zip(report.models, row.records, strict=True))
    )
    judged = (graded or {}).get((row.case_id, row.epoch))
    if judged is not None:
        cells = tuple(
            dataclasses.replace(
                cell, grading=grader_view.case_lines(judged, model.requested_model, model.role)
            )
            for cell, model in zip(cells, report.models, strict=True)
        )
    return _Row(
        key=" ".join((row.case_id, row.family, *row.subsets)),
        label=row.label,
        family=row.family,
        subsets=row.subsets,
        failed="1" if row.failed else "0",
        regression="1" if row.regression else "0",
        cells=cells,
    )


def _groups(report: Report, attribute: str) -> list[tuple[str, str, list[FigureRow]]]:
    baseline: dict[str, dict[str, float | int | None]] = getattr(report.baseline, attribute)
    tables = []
    for name in sorted({key for model in report.models for key in getattr(model, attribute)}):
        base = baseline.get(name, {})
        rows = figure_rows(
            base,
            [getattr(c, attribute).get(name, {}) for c in report.candidates],
            GROUP_FIGURES,
        )
        tables.append((name, format_figure("case_count", base.get("case_count")), rows))
    return tables


def _style(models: int) -> str:
    layout = (
        f".case-head, details.case > summary {{ grid-template-columns: minmax(90px, 140px) "
        f"minmax(160px, 1fr) repeat({models}, minmax(90px, 150px)); }}\n"
        f".side {{ grid-template-columns: repeat({models}, minmax(0, 1fr)); }}\n"
    )
    return _asset("report.css") + layout


def render_html(report: Report) -> str:
    """The report as one self-contained, deterministic HTML document."""
    style, script = _style(len(report.models)), _asset("report.js")
    csp = "; ".join(
        (
            "default-src 'none'",
            f"script-src {_csp_hash(script)}",
            f"style-src {_csp_hash(style)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    graded = grader_view.graded_cases(report)
    rows = [_row(report, row, graded) for row in case_rows(report)]
    latencies = [
        (
            f"{model.role} {model.requested_model}",
            [c.latency_ms for c in model.cases if c.error is None and c.latency_ms is not None],
        )
        for model in report.models
    ]
    seconds = (report.finished_at - report.started_at).total_seconds()
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        decision=report.decision,
        decisions=report.decisions,
        baseline=report.baseline,
        candidates=report.candidates,
        started=report.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        duration=f"{seconds:.1f} s",
        figure_rows=figure_rows(report.baseline.summary, [c.summary for c in report.candidates]),
        group_tables=[
            ("Pass rate and quality by family", _groups(report, "families")),
            ("Pass rate and quality by subset", _groups(report, "subsets")),
        ],
        group_figures=GROUP_FIGURES,
        latency_chart=latency_histograms(latencies),
        rows=rows,
        failed_count=sum(row.failed == "1" for row in rows),
        regression_count=sum(row.regression == "1" for row in rows),
        fmt=format_figure,
        label=label,
        rule_status=rule_status,
        rule_scope=rule_scope,
        comparisons=comparisons(report),
        identity=[(m, identity_notes(m)) for m in report.models if identity_notes(m)],
        trials=_trials(report),
        recommended_reason=getattr(getattr(report, "recommended", None), "reason", None),
        grader=_grader(report),
        csp=csp,
        style=Markup(style),
        script=Markup(script),
    )


@dataclass(frozen=True, slots=True)
class _Grader:
    """The grader section of the page."""

    headline: str
    pairwise_header: tuple[str, ...]
    pairwise: list[tuple[str, ...]]
    rubric_header: tuple[str, ...]
    rubric: list[tuple[str, ...]]
    changes: list[str]
    conflicts: list[str]
    rules: list[str]


def _grader(report: Report) -> _Grader | None:
    grader = grader_view.grader_of(report)
    if grader is None:
        return None
    return _Grader(
        headline=grader_view.headline(grader),
        pairwise_header=grader_view.PAIRWISE_HEADER,
        pairwise=grader_view.pairwise_rows(grader),
        rubric_header=grader_view.rubric_header(grader) if grader.rubric_scores else (),
        rubric=grader_view.rubric_rows(grader),
        changes=grader_view.rubric_change_lines(grader),
        conflicts=grader_view.conflict_lines(grader),
        rules=grader_view.rule_lines(report),
    )


def write_text_file(text: str, path: Path) -> Path:
    """Write ``text`` atomically as UTF-8 (a reader never sees half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return path


def write_html(report: Report, path: Path) -> Path:
    return write_text_file(render_html(report), path)
