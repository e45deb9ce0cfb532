"""``modelup diff OLD.json NEW.json``: what changed between two saved reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelup._cli.common import fail
from modelup.decide.figures import format_change, format_figure, label
from modelup.errors import ModelupError
from modelup.untrusted import clean_line

if TYPE_CHECKING:
    from modelup.report.diff import ModelDiff, ReportDiff

_MAX_CHANGES = 20


def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier report (JSON).")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The later report (JSON).")],
    allow_different_datasets: Annotated[
        bool,
        typer.Option(
            "--allow-different-datasets/--no-allow-different-datasets",
            metavar="",
            help="Compare reports even when their dataset hashes differ.",
        ),
    ] = False,
    allow_incomparable: Annotated[
        bool,
        typer.Option(
            "--allow-incomparable",
            metavar="",
            help="Compare reports even when their dataset, prompt or workflow version differ.",
        ),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option("--json", metavar="", help="Print the diff as JSON instead of tables."),
    ] = False,
) -> None:
    """Per-case changes, figure deltas and verdict changes from OLD to NEW.

    Refuses (exit 2) reports over different datasets, prompts or workflow versions: a change
    between them may not be a model change. --allow-incomparable compares them anyway
    (--allow-different-datasets: a different dataset only).
    """
    # Imported here, not with the module: ``modelup --help`` never needs the stages.
    from modelup.report.diff import diff_reports
    from modelup.report.io import read_report

    try:
        result = diff_reports(
            read_report(old),
            read_report(new),
            allow_different_datasets=allow_different_datasets,
            allow_incomparable=allow_incomparable,
        )
    except ModelupError as error:
        raise fail(error) from None
    if json_output:
        print(result.to_json(), end="")
        return
    print_diff(Console(soft_wrap=True), result)


def print_diff(console: Console, result: ReportDiff) -> None:
    console.print(Text(f"Diff {result.old_run_id} → {result.new_run_id}", style="bold"))
    if not result.same_dataset:
        console.print(
            Text(
                "Different datasets: the case changes below compare different frozen sets.",
                style="bold yellow",
            )
        )
    if not result.same_prompt:
        console.print(
            Text(
                "Different prompts: a change below may be the prompt edit, not the model.",
                style="bold yellow",
            )
        )
    if not result.same_workflow:
        console.print(
            Text(
                f"Different workflow versions ({result.old_workflow} → {result.new_workflow}): "
                "a change below may be a changed check or contract, not the model.",
                style="bold yellow",
            )
        )
    for verdict in result.verdicts:
        who = verdict.new_candidate
        if verdict.old_candidate != verdict.new_candidate:
            who = f"{verdict.old_candidate} → {verdict.new_candidate}"
        change = "unchanged" if verdict.old_verdict == verdict.new_verdict else "changed"
        console.print(
            Text(
                clean_line(
                    f"Verdict {who}: {verdict.old_verdict} → {verdict.new_verdict} ({change})"
                )
            )
        )
    for model in result.models:
        _model_table(console, model)
    for role, names in (("old", result.unmatched_old), ("new", result.unmatched_new)):
        if names:
            console.print(
                Text(clean_line(f"Only in the {role} report: {', '.join(names)}"), style="dim")
            )


def _model_table(console: Console, model: ModelDiff) -> None:
    who = model.new_model
    if model.old_model != model.new_model:
        who = f"{model.old_model} → {model.new_model}"
    table = Table(title=Text(clean_line(f"{model.role} {who}")), title_justify="left")
    for column in ("Figure", "old", "new", "Δ"):
        table.add_column(column, justify="left" if column == "Figure" else "right")
    for figure in model.figures:
        delta = figure.delta
        shown = "" if delta is None else format_change(figure.figure, delta)
        table.add_row(
            label(figure.figure),
            format_figure(figure.figure, figure.old),
            format_figure(figure.figure, figure.new),
            shown,
        )
    console.print(table)
    counts = f"{model.regressions} regressed, {model.fixes} fixed"
    console.print(Text(f"{len(model.changes)} case(s) changed: {counts}"))
    for change in model.changes[:_MAX_CHANGES]:
        notes = "; ".join(change.new_notes if change.kind == "regression" else change.old_notes)
        epoch = f"#{change.epoch}" if change.epoch else ""
        mark = "-" if change.kind == "regression" else "+"
        tail = f": {notes}" if notes else ""
        console.print(
            Text(
                clean_line(
                    f"  {mark} {change.case_id}{epoch} ({change.family}) {change.kind}{tail}"
                )
            )
        )
    if len(model.changes) > _MAX_CHANGES:
        console.print(Text(f"  … {len(model.changes) - _MAX_CHANGES} more (see --json)"))
    for role, cases in (("old", model.only_old), ("new", model.only_new)):
        if cases:
            console.print(Text(f"  cases only in the {role} run: {len(cases)}", style="dim"))
