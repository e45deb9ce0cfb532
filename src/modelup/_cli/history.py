"""``modelup history``: the runs recorded so far, and a figure's trend over them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelup._cli.common import EXIT_USAGE, fail
from modelup.decide.figures import format_figure, label
from modelup.errors import ModelupError, StoreError

if TYPE_CHECKING:
    from modelup.store import HistoryStore, RunEntry, TrendLine

# The stages (the store, the report's renderers) are imported in the functions that use them:
# ``modelup --help`` never needs them.

_VERDICT_STYLE = {"Promote": "bold green", "Hold": "bold yellow", "Rollback": "bold red"}


def history(
    trend: Annotated[
        str | None,
        typer.Option(metavar="FIGURE", help="Print this figure's trend, e.g. pass_rate."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            metavar="MODEL", help="The model of the trend; without --trend, filters runs."
        ),
    ] = None,
    workflow: Annotated[
        str | None, typer.Option(metavar="NAME", help="Only runs of this workflow.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            metavar="SHA256", help="Only runs on this dataset (sha256 or a prefix of it)."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="Runs to list, newest first.")
    ] = 20,
    chart: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Where to write the trend chart (SVG). Default: beside a SQLite store, "
            "else in the working directory.",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The store: a path, sqlite:///path or postgresql://user:pass@host/db. "
            "Default: store.url, else history.path, else .modelup/history.sqlite.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", metavar="PATH", help="modelup.toml naming the store."),
    ] = None,
) -> None:
    """List recorded runs, or with --trend FIGURE --model M print a trend and write a chart."""
    from modelup.report.io import slug
    from modelup.store import open_store, parse_store_url

    out = Console(soft_wrap=True)
    if not out.is_terminal:
        # Piped or in CI: rich would squeeze the wide table into 80 columns of "…".
        out.width = _PIPED_WIDTH
    try:
        url = parse_store_url(store_url(config, store))
        opened = open_store(url, create=False)
        if opened is None:
            out.print(Text(f"No runs recorded yet ({url})."))
            return
        with opened:
            if trend is None:
                print_runs(out, opened, opened.runs(limit=limit, workflow=workflow, model=model))
                return
            if model is None:
                raise typer.BadParameter("--trend needs --model", param_hint="--model")
            lines = opened.trend(trend, model, workflow=workflow, dataset=dataset)
            beside = url.path.parent if url.path is not None else Path()
            target = chart or beside / f"trend-{slug(trend)}-{slug(model)}.svg"
            print_trend(out, trend, model, lines)
            write_trend_chart(target, trend, model, lines)
            out.print(Text(f"Chart: {target}"))
    except StoreError as error:
        fail(error)  # a broken or foreign store file is bad input: exit 2, as for a report
        raise typer.Exit(EXIT_USAGE) from None
    except ModelupError as error:
        raise fail(error) from None


def store_url(config: Path | None, store: str | None) -> str:
    """``--store``, else the configuration's store (``store.url``, else ``history.path``)."""
    from modelup.config.loading import find_config_file, load_settings

    settings = load_settings(find_config_file(config), {"store": {"url": store}})
    return settings.store_url


_PIPED_WIDTH = 220


def print_runs(out: Console, store: HistoryStore, runs: list[RunEntry]) -> None:
    from modelup.store import KEY_FIGURES

    if not runs:
        out.print(Text(f"No runs match ({store.url})."))
        return
    shown = [name for name in KEY_FIGURES if any(_has(run, name) for run in runs)]
    table = Table(title=f"Runs in {store.url} (newest first)", title_justify="left")
    for column in ("Started (UTC)", "Run", "Workflow", "Dataset", "Models", "Verdict"):
        table.add_column(column, overflow="fold")
    for name in shown:
        table.add_column(Text(f"{label(name)}\nbaseline → cand."), justify="right", overflow="fold")
    for run in runs:
        candidate = run.recommended or (run.candidates[0] if run.candidates else "")
        models = f"{run.baseline} → {', '.join(run.candidates)}"
        verdicts = (
            "\n".join(f"{c}: {v}" for c, v in run.verdicts.items()) if len(run.verdicts) > 1 else ""
        )
        cells: list[Text] = [
            Text(run.started_at.strftime("%Y-%m-%d %H:%M")),
            Text(run.run_id),
            Text(
                f"{run.workflow} v{run.workflow_version}" if run.workflow_version else run.workflow
            ),
            Text(run.dataset_sha256[:12]),
            Text(models),
            Text.assemble(
                (run.verdict, _VERDICT_STYLE.get(run.verdict, "")), f"\n{verdicts}".rstrip()
            ),
        ]
        for name in shown:
            base = run.figures.get(run.baseline, {}).get(name)
            cand = run.figures.get(candidate, {}).get(name)
            cells.append(Text(f"{format_figure(name, base)} → {format_figure(name, cand)}"))
        table.add_row(*cells)
    out.print(table)


def _has(run: RunEntry, name: str) -> bool:
    return any(name in figures for figures in run.figures.values())


def print_trend(out: Console, figure: str, model: str, lines: list[TrendLine]) -> None:
    from modelup.report.view import delta
    from modelup.store import series_label

    if not lines:
        out.print(Text(f"No runs of {model} match."))
        return
    out.print(Text(f"{label(figure)} of {model}", style="bold"))
    count = f"{len(lines)} series" if len(lines) > 1 else "1 series"
    out.print(
        Text(
            f"{count}: one per (dataset, prompt, workflow version); a figure measured on another "
            "dataset, with another prompt or by another workflow version is not comparable, so "
            "series are never joined (a prompt edit is not a model change)."
        )
    )
    for line in lines:
        table = Table(title=series_label(line), title_justify="left")
        for column in ("Started (UTC)", "Run", "Role", label(figure), "Δ previous"):
            table.add_column(
                column, justify="right" if column.startswith(("Δ", label(figure))) else "left"
            )
        previous: float | None = None
        for point in line.points:
            change = delta(figure, previous, point.value)
            style = {"better": "green", "worse": "red"}.get(change.direction, "dim")
            table.add_row(
                Text(point.started_at.strftime("%Y-%m-%d %H:%M")),
                Text(point.run_id),
                Text(point.role),
                Text(format_figure(figure, point.value)),
                Text(change.text, style=style),
            )
            if point.value is not None:
                previous = point.value
        out.print(table)


def write_trend_chart(path: Path, figure: str, model: str, lines: list[TrendLine]) -> Path:
    from modelup.report.render.charts import TrendPoint as ChartPoint
    from modelup.report.render.charts import TrendSeries, trend_chart
    from modelup.report.render.html import write_text_file
    from modelup.store import present, series_label

    series = [
        TrendSeries(
            series_label(line),
            tuple(
                ChartPoint(point.started_at, point.value, point.run_id)
                for point in present(list(line.points))
                if point.value is not None
            ),
        )
        for line in lines
    ]
    svg = trend_chart(f"{label(figure)} of {model}", figure, series)
    return write_text_file(str(svg) + "\n", path)
