"""The Markdown summary: for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

GitHub-flavoured Markdown, short enough for a comment (GitHub caps one at 65,536 characters):
the verdict and its reasons, the gate rules, the figures with deltas, per-family and per-subset
pass rates folded away, and the regressed and failed cases, capped. Every piece of text from the
report is escaped so that a model cannot add markup, links, mentions or table cells.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from modelup.decide.figures import format_figure, label
from modelup.report import grader_view
from modelup.report.render.html import write_text_file
from modelup.report.schema import ModelRecord, Report
from modelup.report.view import (
    CaseRow,
    Delta,
    FigureRow,
    case_rows,
    comparisons,
    failure_summary,
    figure_rows,
    rule_scope,
    rule_status,
    safe_text,
    short_hash,
)

CASE_LIMIT = 25
"""Cases listed per table; the HTML report lists them all."""
CELL_LIMIT = 200
_VERDICT_MARK = {"Promote": "🟢", "Hold": "🟡", "Rollback": "🔴"}
_STATUS_MARK = {"pass": "✅ pass", "fail": "❌ fail", "inconclusive": "❔ inconclusive"}
_DELTA_MARK = {"better": "🟢 ", "worse": "🔴 ", "same": "", "none": ""}
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_WHITESPACE = re.compile(r"\s+")


def md(text: str | None, limit: int | None = CELL_LIMIT) -> str:
    """``text`` as inert Markdown on one line: punctuation backslash-escaped, HTML as entities,
    ``@mentions`` broken so that nobody is notified."""
    text = _WHITESPACE.sub(" ", safe_text(text, limit)).strip()
    text = _SPECIAL.sub(r"\\\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@&#8203;")


def _delta(change: Delta) -> str:
    return f"{_DELTA_MARK[change.direction]}{change.text}" if change.text else ""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """A GFM table; ``align`` gives one of ``l``/``r`` per column."""
    marks = {"l": ":---", "r": "---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _figures_table(
    first: str, report: Report, rows: Sequence[FigureRow], names: Sequence[str]
) -> list[str]:
    header = [first, f"baseline {md(report.baseline.requested_model)}"]
    for candidate in report.candidates:
        header += [md(candidate.requested_model), "Δ"]
    body = []
    for name, row in zip(names, rows, strict=True):
        cells = [name, row.baseline]
        for value, change in row.candidates:
            cells += [value, _delta(change)]
        body.append(cells)
    return _table(header, body, "l" + "r" * (len(header) - 1))


def _groups(report: Report, attribute: str) -> list[str]:
    names = sorted({key for model in report.models for key in getattr(model, attribute)})
    if not names:
        return []
    base: dict[str, dict[str, float | int | None]] = getattr(report.baseline, attribute)
    rows = [
        figure_rows(
            base.get(name, {}),
            [getattr(c, attribute).get(name, {}) for c in report.candidates],
            ["pass_rate"],
        )[0]
        for name in names
    ]
    title = "family" if attribute == "families" else "gate subset"
    return [
        "<details><summary>Pass rate by " + title + "</summary>",
        "",
        *_figures_table(title.capitalize(), report, rows, [md(name) for name in names]),
        "",
        "</details>",
        "",
    ]


def _case_table(
    title: str, report: Report, rows: Sequence[CaseRow], pick: Sequence[tuple[int, CaseRow]]
) -> list[str]:
    if not pick:
        return []
    lines = [f"### {title} ({len(pick)})", ""]
    body = []
    for index, row in pick[:CASE_LIMIT]:
        model: ModelRecord = report.models[index]
        record = row.records[index]
        note = failure_summary(record) if record is not None else "no record of this case"
        body.append([md(row.label), md(row.family), md(model.requested_model), md(note)])
    lines += _table(["Case", "Family", "Model", "Why"], body, "llll")
    if len(pick) > CASE_LIMIT:
        lines += ["", f"…and {len(pick) - CASE_LIMIT} more: see the HTML report."]
    return [*lines, ""]


def _grader(report: Report) -> list[str]:
    """The grader beside the gate: headline, pairwise and rubric tables, conflicts with the
    checks, and what it said per case (folded away, capped)."""
    grader = grader_view.grader_of(report)
    if grader is None:
        return []
    lines = ["### Grader", "", md(grader_view.headline(grader), None), ""]
    if grader.pairwise:
        rows = [[md(cell) for cell in row] for row in grader_view.pairwise_rows(grader)]
        header = list(grader_view.PAIRWISE_HEADER)
        lines += [*_table(header, rows, "l" + "r" * (len(header) - 1)), ""]
    if grader.rubric_scores:
        header = [md(cell) for cell in grader_view.rubric_header(grader)]
        rows = [[md(cell) for cell in row] for row in grader_view.rubric_rows(grader)]
        lines += [*_table(header, rows, "l" + "r" * (len(header) - 1)), ""]
        lines += [f"- {md(line, None)}" for line in grader_view.rubric_change_lines(grader)]
        lines.append("")
    conflicts = grader_view.conflict_lines(grader)
    if conflicts:
        lines += ["**Where the grader and the checks disagree:**", ""]
        lines += [*(f"- {md(line, None)}" for line in conflicts), ""]
    lines += [*(f"- {md(line, None)}" for line in grader_view.rule_lines(report)), ""]
    said, total = grader_view.judgement_rows(report, CASE_LIMIT)
    if said:
        limit = grader_view.REASON_LIMIT
        body = [[md(case), md(candidate), md(text, limit)] for case, candidate, text in said]
        more = total - len(said)
        lines += [
            f"<details><summary>What the grader said ({total} pairs not plainly tied)</summary>",
            "",
            *_table(["Case", "Candidate", "Grader"], body, "lll"),
            *(["", f"…and {more} more: see the HTML report."] if more > 0 else []),
            "",
            "</details>",
            "",
        ]
    return lines


def render_markdown(report: Report) -> str:
    """The report as a GitHub-flavoured Markdown summary."""
    decision, baseline = report.decision, report.baseline
    verdict = decision.verdict
    lines = [
        f"## {_VERDICT_MARK[verdict]} {verdict}: {md(decision.candidate)} against baseline "
        f"{md(baseline.requested_model)}",
        "",
        f"**{md(report.workflow.name)}** v{md(report.workflow.version)} · {report.mode} mode · "
        f"{report.client} models · {report.dataset.case_count} cases · dataset "
        f"`{short_hash(report.dataset.sha256)}` · run `{md(report.run_id)}`",
        "",
        f"After this run **{md(decision.authoritative_model)}** serves.",
        "",
        *(f"- {md(reason, 1000)}" for reason in decision.reasons),
        "",
    ]
    if len(report.decisions) > 1:
        body = [
            [md(d.candidate), f"{_VERDICT_MARK[d.verdict]} {d.verdict}"] for d in report.decisions
        ]
        lines += ["### Every candidate", "", *_table(["Candidate", "Verdict"], body, "ll"), ""]
    for d in report.decisions:
        suffix = f": {md(d.candidate)}" if len(report.decisions) > 1 else ""
        lines += [f"### Gate rules{suffix}", ""]
        body = [
            [
                md(rule.name),
                md(" ".join(filter(None, (rule.figure, rule_scope(rule))))),
                md(rule.authority),
                format_figure(rule.figure, rule.baseline),
                format_figure(rule.figure, rule.candidate),
                format_figure(rule.figure, rule.limit),
                _STATUS_MARK.get(rule_status(rule), md(rule_status(rule))),
                md(rule.reason, 400),
            ]
            for rule in d.rules
        ]
        header = ["Rule", "Figure", "Authority", "Baseline", "Candidate", "Limit", "Outcome"]
        lines += [*_table([*header, "Reason"], body, "lllrrrll"), ""]
    names = list(baseline.summary)
    rows = figure_rows(baseline.summary, [c.summary for c in report.candidates], names)
    lines += [
        "### Figures",
        "",
        *_figures_table("Figure", report, rows, [md(label(n)) for n in names]),
        "",
    ]
    for view in comparisons(report):
        changes = "; ".join(f"{label(name)} {text}" for name, text, _ in view.changes)
        lines += [
            f"**Case by case, {md(view.candidate)}:** {view.regressions} regressions, "
            f"{view.fixes} fixes, {view.unchanged_failed} failed by both; McNemar p "
            f"(Holm) {view.p_value}" + (f"; {md(changes, None)}" if changes else "") + ".",
            "",
        ]
    lines += _grader(report)
    lines += _groups(report, "families") + _groups(report, "subsets")
    every = case_rows(report)
    regressions = [
        (index, row)
        for row in every
        for index in range(1, len(report.models))
        if row.regressed(index)
    ]
    failures = [
        (index, row)
        for row in every
        for index, record in enumerate(row.records)
        if (record is None or not record.passed) and not (index > 0 and row.regressed(index))
    ]
    lines += _case_table(
        "Regressions: the baseline passed, the candidate failed", report, every, regressions
    )
    lines += _case_table("Other failed cases", report, every, failures)
    lines.append(
        f"<sub>modelup {md(report.tool_version)} · report schema {report.schema_version}</sub>"
    )
    return "\n".join(lines) + "\n"


def write_markdown(report: Report, path: Path) -> Path:
    return write_text_file(render_markdown(report), path)
