"""A report in the terminal: the figures side by side, comparisons, sample failures, every gate
rule with its figures and threshold, and the decision.

Everything a model or an endpoint wrote (notes, model names, fingerprints, case ids) is shown as
plain text (``Text``), never parsed as rich markup, and cleaned first (``modelup.untrusted``): a
lone surrogate cannot be encoded for the terminal, and a control character could drive it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelup.decide.figures import format_figure, label
from modelup.report import grader_view
from modelup.report.schema import CaseRecord, DecisionRecord, ModelRecord, Report
from modelup.report.view import delta, rule_status
from modelup.untrusted import clean_line

_VERDICT_STYLE = {"Promote": "bold green", "Hold": "bold yellow", "Rollback": "bold red"}
_STATUS_STYLE = {"pass": "green", "fail": "red", "inconclusive": "yellow", "missing": "yellow"}
_DELTA_STYLE = {"better": "green", "worse": "red", "same": "dim", "none": ""}
SAMPLE_FAILURES = 5
_MAX_NOTE = 160


def print_results(
    console: Console,
    report: Report,
    failures: Sequence[tuple[int, Sequence[CaseRecord]]] | None = None,
) -> None:
    """The figures, comparisons, sample failures and decision. ``failures`` gives, per model,
    the number of failed cases and the first few of them, for a report whose cases were
    spooled rather than kept (``SpooledReport.failures``); by default they come from
    ``report``."""
    figures_table(console, report)
    families_table(console, report)
    subsets_table(console, report)
    trials_table(console, report)
    comparison_table(console, report)
    grader_tables(console, report)
    for index, model in enumerate(report.models):
        print_alias_warning(console, model)
        if failures is None:
            failed = [case for case in model.cases if not case.passed]
            print_failures(console, model, len(failed), failed[:SAMPLE_FAILURES])
        else:
            print_failures(console, model, *failures[index])
    print_decision(console, report)


def _text(value: str | None, style: str = "") -> Text:
    """Untrusted text as a cell or a line: cleaned, on one line, never markup."""
    return Text(clean_line(value), style=style)


def figures_table(console: Console, report: Report) -> None:
    baseline = report.baseline
    table = Table(title="Figures", title_justify="left")
    table.add_column("Figure")
    table.add_column(Text(f"baseline\n{clean_line(baseline.requested_model)}"), justify="right")
    for candidate in report.candidates:
        table.add_column(
            Text(f"candidate\n{clean_line(candidate.requested_model)}"), justify="right"
        )
        table.add_column("Δ", justify="right")
    for name, base in baseline.summary.items():
        cells: list[str | Text] = [label(name), format_figure(name, base)]
        for candidate in report.candidates:
            cand = candidate.summary.get(name)
            cells += [format_figure(name, cand), _delta(name, base, cand)]
        table.add_row(*cells)
    console.print(table)


def families_table(console: Console, report: Report) -> None:
    _groups_table(console, report, "family", minimum=2)


def subsets_table(console: Console, report: Report) -> None:
    _groups_table(console, report, "subset", minimum=1)


def _groups_table(
    console: Console, report: Report, by: Literal["family", "subset"], *, minimum: int
) -> None:
    """Pass rate per task family or gate subset, baseline against each candidate."""

    def groups(model: ModelRecord) -> dict[str, dict[str, float | int | None]]:
        return model.families if by == "family" else model.subsets

    baseline = groups(report.baseline)
    if len(baseline) < minimum:
        return
    title = "Pass rate by family" if by == "family" else "Pass rate by gate subset"
    table = Table(title=title, title_justify="left")
    table.add_column(by.title())
    table.add_column("Cases", justify="right")
    table.add_column("baseline", justify="right")
    for candidate in report.candidates:
        table.add_column(_text(candidate.requested_model), justify="right")
        table.add_column("Δ", justify="right")
    for group in sorted(baseline):
        base = baseline[group].get("pass_rate")
        cells: list[str | Text] = [
            _text(group),
            format_figure("case_count", baseline[group].get("case_count")),
            format_figure("pass_rate", base),
        ]
        for candidate in report.candidates:
            cand = groups(candidate).get(group, {}).get("pass_rate")
            cells += [format_figure("pass_rate", cand), _delta("pass_rate", base, cand)]
        table.add_row(*cells)
    console.print(table)


def trials_table(console: Console, report: Report) -> None:
    """pass@k, pass^k and flaky cases, when cases were replayed more than once."""
    models = [m for m in report.models if m.trials is not None and m.trials.epochs > 1]
    if not models:
        return
    epochs = max(m.trials.epochs for m in models if m.trials is not None)
    table = Table(title=f"Repeated trials ({epochs} epochs)", title_justify="left")
    for column in ("Model", "pass@1", f"pass@{epochs}", f"pass^{epochs}", "Flaky cases"):
        table.add_column(column, justify="left" if column == "Model" else "right")
    for model in models:
        trials = model.trials
        assert trials is not None
        k = str(trials.epochs)
        table.add_row(
            _text(model.requested_model),
            format_figure("pass_rate", trials.pass_at_k.get("1")),
            format_figure("pass_rate", trials.pass_at_k.get(k)),
            format_figure("pass_rate", trials.pass_hat_k.get(k)),
            str(len(trials.flaky_cases)),
        )
    console.print(table)
    for model in models:
        assert model.trials is not None
        if model.trials.flaky_cases:
            flaky = ", ".join(model.trials.flaky_cases[: SAMPLE_FAILURES * 2])
            more = len(model.trials.flaky_cases) - SAMPLE_FAILURES * 2
            tail = f" (+{more} more)" if more > 0 else ""
            console.print(_text(f"{model.requested_model} flaky: {flaky}{tail}", style="dim"))


def comparison_table(console: Console, report: Report) -> None:
    """Paired statistics per candidate: transitions, McNemar, bootstrap intervals."""
    if not report.comparisons:
        return
    several = len(report.comparisons) > 1
    confidence = report.comparisons[0].pass_rate.confidence
    table = Table(title="Paired with the baseline, case by case", title_justify="left")
    table.add_column("Candidate")
    table.add_column("Regressions", justify="right")
    table.add_column("Fixes", justify="right")
    table.add_column("McNemar p" + (" (Holm)" if several else ""), justify="right")
    table.add_column(f"Δ pass rate [{confidence:.0%} CI]", justify="right")
    table.add_column(f"Δ quality [{confidence:.0%} CI]", justify="right")
    for comparison in report.comparisons:
        p = f"{comparison.mcnemar_p_value:.3g}"
        if several:
            p += f" ({comparison.mcnemar_p_value_holm:.3g})"
        pass_rate = comparison.pass_rate
        quality = comparison.quality_score
        table.add_row(
            _text(comparison.candidate),
            str(comparison.regressions),
            str(comparison.fixes),
            p,
            f"{pass_rate.delta * 100:+.1f} pts [{pass_rate.low * 100:+.1f}, "
            f"{pass_rate.high * 100:+.1f}]",
            "n/a"
            if quality is None
            else f"{quality.delta:+.3f} [{quality.low:+.3f}, {quality.high:+.3f}]",
        )
    console.print(table)
    for comparison in report.comparisons:
        regressed = [t.case_id for t in comparison.transitions if t.change == "regression"]
        if regressed:
            shown = ", ".join(regressed[: SAMPLE_FAILURES * 2])
            more = len(regressed) - SAMPLE_FAILURES * 2
            tail = f" (+{more} more)" if more > 0 else ""
            console.print(_text(f"{comparison.candidate} regressed on: {shown}{tail}"))


def grader_tables(console: Console, report: Report) -> None:
    """The grader beside the gate: who graded and at what cost, the pairwise rates with their
    intervals, the rubric scores, and where the grader and the checks disagree."""
    grader = grader_view.grader_of(report)
    if grader is None:
        return
    console.print(Text(grader_view.headline(grader), style="bold"))
    if grader.pairwise:
        confidence = f"{grader.confidence:.0%} CI"
        table = Table(title=f"Grader: pairwise, both orders [{confidence}]", title_justify="left")
        for column in grader_view.PAIRWISE_HEADER:
            table.add_column(column, justify="left" if column == "Candidate" else "right")
        for row in grader_view.pairwise_rows(grader):
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    if grader.rubric_scores:
        table = Table(title="Grader: rubric (1-5)", title_justify="left")
        for column in grader_view.rubric_header(grader):
            table.add_column(column, justify="left" if column == "Model" else "right")
        for row in grader_view.rubric_rows(grader):
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        for line in grader_view.rubric_change_lines(grader):
            console.print(Text(line))
    for line in grader_view.conflict_lines(grader):
        console.print(Text.assemble(("Grader vs checks: ", "bold yellow"), line))
    for line in grader_view.rule_lines(report):
        console.print(Text(f"Grader rule, {line}", style="dim"))


def ranking_table(console: Console, report: Report) -> None:
    table = Table(title="Ranking", title_justify="left")
    columns = ("#", "Candidate", "Verdict", "Quality", "Pass rate", "Δ pass", "McNemar p (Holm)")
    for column in columns:
        table.add_column(column, justify="left" if column in ("Candidate", "Verdict") else "right")
    for entry in report.ranking:
        table.add_row(
            str(entry.rank),
            _text(entry.candidate),
            Text(entry.verdict, style=_VERDICT_STYLE[entry.verdict]),
            format_figure("quality_score", entry.quality_score),
            format_figure("pass_rate", entry.pass_rate),
            "n/a" if entry.pass_rate_delta is None else f"{entry.pass_rate_delta * 100:+.1f} pts",
            f"{entry.mcnemar_p_value_holm:.3g}",
        )
    console.print(table)


def print_alias_warning(console: Console, model: ModelRecord) -> None:
    if model.alias_resolved:
        resolved = ", ".join(model.resolved_models)
        expected = f" (expected {model.expect_resolved!r})" if model.expect_resolved else ""
        console.print(
            Text.assemble(
                ("Alias resolution: ", "bold yellow"),
                clean_line(
                    f"{model.role} requested {model.requested_model!r} "
                    f"but the endpoint answered as {resolved}{expected}"
                ),
            )
        )
    if len(model.system_fingerprints) > 1:
        console.print(
            Text.assemble(
                ("Identity changed: ", "bold yellow"),
                clean_line(
                    f"{model.role} {model.requested_model!r} answered with "
                    f"{len(model.system_fingerprints)} system fingerprints during the run: "
                    + ", ".join(model.system_fingerprints)
                ),
            )
        )


def print_failures(
    console: Console, model: ModelRecord, count: int, sample: Sequence[CaseRecord]
) -> None:
    if not count:
        return
    console.print(_text(f"{model.requested_model} sample failures ({count} failed):", "bold"))
    for case in sample[:SAMPLE_FAILURES]:
        notes = "; ".join(case.notes) or "failed"
        if len(notes) > _MAX_NOTE:
            notes = notes[: _MAX_NOTE - 1] + "…"
        console.print(_text(f"  - {case.case_id}: {notes}"))


def print_rules(console: Console, decision: DecisionRecord) -> None:
    """Every gate rule, passed or not, with its authority and its reason (its figures and
    threshold)."""
    console.print(Text("Gate rules:", style="bold"))
    for rule in decision.rules:
        status = rule_status(rule)
        console.print(
            Text.assemble(
                "  ",
                (f"{status:<12}", _STATUS_STYLE.get(status, "")),
                clean_line(f" {rule.name} ({rule.authority}): {rule.reason}"),
            )
        )


def print_decision(console: Console, report: Report) -> None:
    for decision in report.decisions:
        if len(report.decisions) > 1:
            console.print(_text(f"Candidate {decision.candidate}:", style="bold"))
        print_rules(console, decision)
        verdict = decision.verdict
        console.print(Text.assemble("Decision: ", (verdict, _VERDICT_STYLE[verdict])))
        for reason in decision.reasons:
            console.print(_text(f"  - {reason}"))
    if len(report.decisions) > 1:
        if report.ranking:
            ranking_table(console, report)
        why = f": {report.recommended.reason}" if report.recommended is not None else ""
        console.print(
            Text.assemble(
                "Recommended: ",
                (clean_line(report.decision.candidate), "bold"),
                clean_line(f" ({report.decision.verdict}){why}"),
            )
        )


def _delta(name: str, base: float | None, cand: float | None) -> Text:
    change = delta(name, base, cand)
    return Text(change.text, style=_DELTA_STYLE[change.direction])
