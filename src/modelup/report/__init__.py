"""Reports: the versioned JSON record of a run, how it is built, written and read."""

from modelup.report.build import build_report
from modelup.report.io import read_report, report_filename, slug, write_report
from modelup.report.schema import SCHEMA_VERSION, Report

__all__ = [
    "SCHEMA_VERSION",
    "Report",
    "build_report",
    "read_report",
    "report_filename",
    "slug",
    "write_report",
]
