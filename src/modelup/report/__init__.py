"""Reports: the versioned JSON record of a run, how it is built, written and read.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
    from modelup.report.build import build_report
    from modelup.report.io import read_report, report_filename, slug, write_report
    from modelup.report.schema import SCHEMA_VERSION, Report

_EXPORTS = {
    "Report": ("modelup.report.schema", "Report"),
    "SCHEMA_VERSION": ("modelup.report.schema", "SCHEMA_VERSION"),
    "build_report": ("modelup.report.build", "build_report"),
    "read_report": ("modelup.report.io", "read_report"),
    "report_filename": ("modelup.report.io", "report_filename"),
    "slug": ("modelup.report.io", "slug"),
    "write_report": ("modelup.report.io", "write_report"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


__all__ = [
    "SCHEMA_VERSION",
    "Report",
    "build_report",
    "read_report",
    "report_filename",
    "slug",
    "write_report",
]
