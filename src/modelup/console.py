"""What a person sees in the terminal: the run's header, progress, figures, failures, decision.

Everything a model wrote is shown as plain text (``Text``), never parsed as rich markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from modelup.experiment import RunPlan
from modelup.figures import format_figure, label
from modelup.report.schema import ModelRecord, Report
from modelup.runner import ProgressCallback
from modelup.scoring import CaseResult

_VERDICT_STYLE = {"Promote": "bold green", "Hold": "bold yellow", "Rollback": "bold red"}
_SAMPLE_FAILURES = 5
_MAX_NOTE = 160


def print_header(console: Console, plan: RunPlan, version: str) -> None:
    settings = plan.settings
    console.print(Text(f"Model Upgrade Gates — modelup {version}", style="bold"))
    rows = [
        ("Mode", plan.client_kind),
        ("Evaluation flow", settings.experiment.mode),
        ("Workflow", f"{plan.workflow.name} v{plan.workflow.version}"),
        ("Dataset", f"{len(plan.dataset)} frozen cases  {plan.dataset.path}"),
        *((("Epochs", str(settings.experiment.epochs)),) if settings.experiment.epochs > 1 else ()),
        ("Baseline", plan.baseline.model),
        *(("Candidate", target.model) for target in plan.candidates),
        ("Endpoint", plan.baseline.endpoint),
    ]
    for name, value in rows:
        console.print(Text.assemble((f"{name}: ", "dim"), value))
    if settings.experiment.mode == "shadow":
        console.print(
            Text(
                "Shadow: the baseline stays authoritative; the candidate is scored offline.", "dim"
            )
        )


@contextmanager
def progress_bar(console: Console, plan: RunPlan) -> Iterator[ProgressCallback]:
    """A bar per model on ``console`` (stderr), with done/total, errors, calls/s and ETA."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    tasks: list[TaskID] = []
    errors = [0] * len(plan.targets)
    for target in plan.targets:
        tasks.append(
            progress.add_task(
                f"{target.role} {target.model}",
                total=len(plan.dataset) * plan.settings.experiment.epochs,
                errors=0,
                rate="",
            )
        )

    def advance(index: int, result: CaseResult) -> None:
        if result.error is not None:
            errors[index] += 1
        task = progress.tasks[index]
        speed = task.speed
        rate = f"{speed:.1f} calls/s" if speed else ""
        progress.update(tasks[index], advance=1, errors=errors[index], rate=rate)

    with progress:
        yield advance


def print_results(console: Console, report: Report) -> None:
    figures_table(console, report)
    families_table(console, report)
    for model in report.models:
        print_alias_warning(console, model)
        print_failures(console, model)
    print_decision(console, report)


def figures_table(console: Console, report: Report) -> None:
    baseline = report.baseline
    table = Table(title="Figures", title_justify="left")
    table.add_column("Figure")
    table.add_column(Text(f"baseline\n{baseline.requested_model}"), justify="right")
    for candidate in report.candidates:
        table.add_column(Text(f"candidate\n{candidate.requested_model}"), justify="right")
        table.add_column("Δ", justify="right")
    for name, base in baseline.summary.items():
        cells: list[str | Text] = [label(name), format_figure(name, base)]
        for candidate in report.candidates:
            cand = candidate.summary.get(name)
            cells += [format_figure(name, cand), _delta(name, base, cand)]
        table.add_row(*cells)
    console.print(table)


def families_table(console: Console, report: Report) -> None:
    baseline = report.baseline
    families = sorted(baseline.families)
    if len(families) < 2:
        return
    table = Table(title="Pass rate by family", title_justify="left")
    table.add_column("Family")
    table.add_column("Cases", justify="right")
    table.add_column("baseline", justify="right")
    for candidate in report.candidates:
        table.add_column(Text(candidate.requested_model), justify="right")
        table.add_column("Δ", justify="right")
    for family in families:
        base = baseline.families[family].get("pass_rate")
        cells: list[str | Text] = [
            Text(family),
            format_figure("case_count", baseline.families[family].get("case_count")),
            format_figure("pass_rate", base),
        ]
        for candidate in report.candidates:
            cand = candidate.families.get(family, {}).get("pass_rate")
            cells += [format_figure("pass_rate", cand), _delta("pass_rate", base, cand)]
        table.add_row(*cells)
    console.print(table)


def print_alias_warning(console: Console, model: ModelRecord) -> None:
    if model.alias_resolved:
        resolved = ", ".join(model.resolved_models)
        console.print(
            Text.assemble(
                ("Alias resolution: ", "bold yellow"),
                f"{model.role} requested {model.requested_model!r} "
                f"but the endpoint answered as {resolved}",
            )
        )


def print_failures(console: Console, model: ModelRecord) -> None:
    failed = [case for case in model.cases if not case.passed]
    if not failed:
        return
    console.print(
        Text(f"{model.requested_model} sample failures ({len(failed)} failed):", style="bold")
    )
    for case in failed[:_SAMPLE_FAILURES]:
        notes = "; ".join(case.notes) or "failed"
        if len(notes) > _MAX_NOTE:
            notes = notes[: _MAX_NOTE - 1] + "…"
        console.print(Text(f"  - {case.case_id}: {notes}"))


def print_decision(console: Console, report: Report) -> None:
    for decision in report.decisions:
        if len(report.decisions) > 1:
            console.print(Text(f"Candidate {decision.candidate}:", style="bold"))
        verdict = decision.verdict
        console.print(Text.assemble("Decision: ", (verdict, _VERDICT_STYLE[verdict])))
        for reason in decision.reasons:
            console.print(Text(f"  - {reason}"))
    if len(report.decisions) > 1:
        console.print(
            Text.assemble(
                "Recommended: ",
                (report.decision.candidate, "bold"),
                f" ({report.decision.verdict})",
            )
        )


def _delta(name: str, base: float | None, cand: float | None) -> Text:
    if base is None or cand is None:
        return Text("")
    change = cand - base
    if name.endswith(("_rate", "_accuracy", "_coverage")):
        text = f"{change * 100:+.1f} pts"
    elif name.endswith("_ms"):
        text = f"{change:+.0f} ms"
    elif name.endswith(("_count", "_tokens")):
        text = f"{change:+.0f}"
    else:
        text = f"{change:+.3f}"
    if change == 0:
        return Text(text, style="dim")
    lower_is_better = name.endswith(("_ms", "_count", "_tokens")) or name == "repair_rate"
    better = (change < 0) if lower_is_better else (change > 0)
    return Text(text, style="green" if better else "red")
