"""Every human-readable format by name, and where each is written next to its JSON report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from modelup.errors import ReportError
from modelup.report.render.html import render_html, write_text_file
from modelup.report.render.junit import render_junit
from modelup.report.render.markdown import render_markdown
from modelup.report.schema import Report

RENDERERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "html": (".html", render_html),
    "md": (".md", render_markdown),
    "junit": (".xml", render_junit),
}
"""Format name: (file suffix, renderer). JSON is written by ``report.io.write_report``."""
FORMAT_NAMES = ("json", *RENDERERS)


def parse_formats(values: Iterable[str]) -> list[str]:
    """``["json,html", "md"]`` → ``["json", "html", "md"]``: split, checked, deduplicated."""
    formats: list[str] = []
    for value in values:
        for name in (part.strip().lower() for part in value.split(",")):
            if not name:
                continue
            if name not in FORMAT_NAMES:
                raise ReportError(
                    f"unknown report format {name!r} (known: {', '.join(FORMAT_NAMES)})"
                )
            if name not in formats:
                formats.append(name)
    return formats


def write_formats(
    report: Report, json_path: Path, formats: Iterable[str], output_dir: Path | None = None
) -> dict[str, Path]:
    """Render ``report`` in each of ``formats`` (``json`` is skipped: it is the source) as
    ``<stem>.html``, ``<stem>.md``, ``<stem>.xml`` in ``output_dir`` (default: beside
    ``json_path``). Returns format name → path written, in the order asked."""
    directory = output_dir if output_dir is not None else json_path.parent
    written: dict[str, Path] = {}
    for name in formats:
        if name == "json":
            continue
        suffix, render = RENDERERS[name]
        written[name] = write_text_file(render(report), directory / f"{json_path.stem}{suffix}")
    return written
