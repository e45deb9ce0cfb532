"""``modelup report``: render a saved JSON report as HTML, Markdown or JUnit XML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelup._cli.common import fail
from modelup.errors import ModelupError


def report(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A report written by modelup run (JSON).")
    ],
    report_format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMATS",
            help="html, md, junit; comma-separated or repeated. Default: html.",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH", help="Where to write the files. Default: next to the JSON report."
        ),
    ] = None,
) -> None:
    """Render a saved report as <stem>.html, <stem>.md and/or <stem>.xml (JUnit)."""
    # Imported here, not with the module: ``modelup --help`` never needs the stages.
    from modelup.report.io import read_report
    from modelup.report.render.formats import parse_formats, write_formats

    try:
        formats = parse_formats(report_format or ["html"])
        written = write_formats(read_report(file), file, formats, output_dir)
    except ModelupError as error:
        raise fail(error) from None
    for path in written.values():
        print(path)
