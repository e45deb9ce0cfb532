"""Charts as inline SVG: latency distributions for the HTML report, trends for the history.

Hand-made SVG rather than plotly: a report stays a few hundred kilobytes instead of carrying
4.5 MB of plotting JavaScript, renders with scripts disabled, is byte-for-byte deterministic,
and needs no dependency. Every label passes through ``escape`` (and ``safe_text``), so a model
name cannot inject markup. The markup is valid both inside HTML and as a standalone SVG file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from modelup.decide.figures import format_figure, is_rate
from modelup.decide.summary import percentile
from modelup.report.view import safe_text

PALETTE = ("#4c6ef5", "#e8590c", "#2b8a3e", "#ae3ec9", "#1098ad", "#c92a2a", "#5c940d", "#862e9c")
_FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\""


def _text(value: str) -> Markup:
    return escape(safe_text(value, 200))


def _nice_step(span: float, ticks: int) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) cutting ``span`` in ``ticks``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude


def _num(value: float) -> str:
    """Coordinates with one decimal: small files, stable output."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def latency_histograms(models: Sequence[tuple[str, Sequence[float]]], *, bins: int = 24) -> Markup:
    """One histogram row per model over a shared latency axis, with p50 and p95 marked.

    ``models``: (label, latencies in ms of the calls that answered), baseline first."""
    width, left, right, row_height, top, axis = 1000, 290, 20, 74, 16, 34
    plot_width = width - left - right
    height = top + row_height * len(models) + axis
    every = [value for _, values in models for value in values]
    maximum = max(every) if every else 1.0
    step = _nice_step(maximum, 6)
    upper = max(step, math.ceil(maximum / step) * step)
    bin_width = upper / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {_FONT} '
        f'font-size="12"><title>Latency distribution per model</title>'
    ]
    for index, (name, values) in enumerate(models):
        y0 = top + index * row_height
        colour = PALETTE[index % len(PALETTE)]
        counts = [0] * bins
        for value in values:
            counts[min(bins - 1, int(value / bin_width))] += 1
        tallest = max(counts) if values else 1
        parts.append(
            f'<text x="{left - 10}" y="{y0 + 28}" text-anchor="end" font-weight="600">'
            f"{_text(name)}</text>"
        )
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        summary = f"n={len(values)}  p50 {format_figure('x_ms', p50)}  p95 "
        summary += format_figure("x_ms", p95)
        parts.append(
            f'<text x="{left - 10}" y="{y0 + 46}" text-anchor="end" fill="#555">'
            f"{escape(summary)}</text>"
        )
        base = y0 + row_height - 12
        parts.append(
            f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#ccc"/>'
        )
        for slot, count in enumerate(counts):
            if not count:
                continue
            bar = (row_height - 20) * count / tallest
            x = left + plot_width * slot / bins
            low, high = slot * bin_width, (slot + 1) * bin_width
            parts.append(
                f'<rect x="{_num(x + 1)}" y="{_num(base - bar)}" '
                f'width="{_num(plot_width / bins - 2)}" height="{_num(bar)}" fill="{colour}">'
                f"<title>{count} calls {low:.0f} to {high:.0f} ms</title></rect>"
            )
        for mark, marked in (("p50", p50), ("p95", p95)):
            if marked is None:
                continue
            x = left + plot_width * marked / upper
            parts.append(
                f'<line x1="{_num(x)}" y1="{y0 + 4}" x2="{_num(x)}" y2="{base}" stroke="#222" '
                f'stroke-dasharray="{"4 3" if mark == "p50" else "1 2"}"/>'
                f'<text x="{_num(x + 3)}" y="{y0 + 12}" font-size="10" fill="#222">{mark}</text>'
            )
        if not values:
            parts.append(f'<text x="{left + 8}" y="{base - 8}" fill="#888">no call answered</text>')
    axis_y = top + row_height * len(models)
    tick = 0.0
    while tick <= upper + 1e-9:
        x = left + plot_width * tick / upper
        parts.append(
            f'<line x1="{_num(x)}" y1="{axis_y - 12}" x2="{_num(x)}" y2="{axis_y - 6}" '
            f'stroke="#888"/><text x="{_num(x)}" y="{axis_y + 6}" text-anchor="middle" '
            f'fill="#555">{tick:.0f}</text>'
        )
        tick += step
    parts.append(
        f'<text x="{left + plot_width / 2:.0f}" y="{axis_y + 22}" text-anchor="middle" '
        f'fill="#555">latency (ms)</text></svg>'
    )
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: datetime
    value: float
    run_id: str


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One line of a trend chart: points measured on the same dataset, in time order."""

    label: str
    points: tuple[TrendPoint, ...]


def trend_chart(title: str, figure: str, series: Sequence[TrendSeries]) -> Markup:
    """A line per series on a shared time axis; each point titled with its run and value."""
    width, left, right, top = 820, 70, 20, 40
    bottom = 60 + 18 * len(series)
    height = 300 + bottom
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [point for line in series for point in line.points]
    if points:
        first = min(p.at for p in points).timestamp()
        last = max(p.at for p in points).timestamp()
        low_value = min(p.value for p in points)
        high_value = max(p.value for p in points)
    else:
        first = last = 0.0
        low_value = high_value = 0.0
    if is_rate(figure):
        low, high = 0.0, 1.0
    else:
        low = min(0.0, low_value)
        high = high_value * 1.1 if high_value > 0 else 1.0
    step = _nice_step(high - low, 5)
    high = max(step, math.ceil(high / step) * step)

    def x_of(at: datetime) -> float:
        if last == first:
            return left + plot_w / 2
        return left + plot_w * (at.timestamp() - first) / (last - first)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" {_FONT} font-size="12">'
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f"<title>{_text(title)}</title>"
        f'<text x="{left}" y="24" font-size="15" font-weight="600">{_text(title)}</text>'
    ]
    tick = low
    while tick <= high + 1e-9:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
            f'stroke="#eee"/><text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" '
            f'fill="#555">{escape(format_figure(figure, tick))}</text>'
        )
        tick += step
    if points:
        for stamp, anchor in ((first, "start"), (last, "end")):
            moment = datetime.fromtimestamp(stamp, tz=points[0].at.tzinfo)
            parts.append(
                f'<text x="{left if anchor == "start" else width - right}" '
                f'y="{top + plot_h + 16}" text-anchor="{anchor}" fill="#555">'
                f"{escape(moment.strftime('%Y-%m-%d %H:%M'))}</text>"
            )
    else:
        parts.append(
            f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
            f'fill="#888">no runs recorded</text>'
        )
    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coords = " ".join(f"{_num(x_of(p.at))},{_num(y_of(p.value))}" for p in line.points)
        if len(line.points) > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for point in line.points:
            label = f"{point.run_id}: {format_figure(figure, point.value)}"
            parts.append(
                f'<circle cx="{_num(x_of(point.at))}" cy="{_num(y_of(point.value))}" r="4" '
                f'fill="{colour}"><title>{_text(label)}</title></circle>'
            )
        legend_y = top + plot_h + 40 + 18 * index
        parts.append(
            f'<rect x="{left}" y="{legend_y - 9}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + 18}" y="{legend_y + 1}">{_text(line.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
