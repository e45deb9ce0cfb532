"""JUnit XML: the run as test results a CI system shows (GitHub, GitLab, Jenkins, Azure).

One ``testsuite`` per candidate (named ``workflow/candidate``) with one ``testcase`` per case (and
epoch): a failed case carries its notes in a ``failure``, an errored call an ``error``, and the
model's raw output (capped) in ``system-out``. A last suite, ``workflow/gate``, holds one test case
per candidate that fails unless the gate said Promote, so the verdict shows up in CI too.
Text is XML-escaped by ElementTree after ``safe_text`` has removed what XML 1.0 forbids.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from modelup.report.render.html import write_text_file
from modelup.report.schema import CaseRecord, Report
from modelup.report.view import CaseRow, case_rows, safe_text

OUTPUT_LIMIT = 10_000
MESSAGE_LIMIT = 500


def _seconds(case: CaseRecord | None) -> str:
    if case is None or case.latency_ms is None:
        return "0.000"
    return f"{case.latency_ms / 1000:.3f}"


def _details(case: CaseRecord, regressed: bool) -> str:
    lines = ["Regression: the baseline passed this case."] if regressed else []
    lines += [f"note: {note}" for note in case.notes]
    lines += [
        f"check {check.name}: {'pass' if check.passed else 'fail'} (score {check.score:.2f})"
        + (f": {check.note}" if check.note else "")
        for check in case.checks
    ]
    return safe_text("\n".join(lines), OUTPUT_LIMIT)


def _testcase(suite: ET.Element, classname: str, row: CaseRow, index: int) -> tuple[int, int]:
    """Add one case; returns (failures, errors) it adds."""
    record = row.records[index]
    element = ET.SubElement(
        suite, "testcase", classname=classname, name=safe_text(row.label), time=_seconds(record)
    )
    if record is None:
        ET.SubElement(
            element, "error", message="no record of this case", type="missing"
        ).text = "The candidate has no result for this case."
        return 0, 1
    if record.error is not None:
        error = ET.SubElement(
            element, "error", message=safe_text(record.error, MESSAGE_LIMIT), type="error"
        )
        error.text = safe_text(record.error, OUTPUT_LIMIT)
        return 0, 1
    if record.passed:
        return 0, 0
    regressed = row.regressed(index)
    message = "; ".join(record.notes) or "the case failed"
    failure = ET.SubElement(
        element,
        "failure",
        message=safe_text(("regression: " if regressed else "") + message, MESSAGE_LIMIT),
        type="regression" if regressed else "failure",
    )
    failure.text = _details(record, regressed)
    if record.raw_output is not None:
        ET.SubElement(element, "system-out").text = safe_text(record.raw_output, OUTPUT_LIMIT)
    return 1, 0


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document (UTF-8, with an XML declaration)."""
    workflow = safe_text(report.workflow.name)
    rows = case_rows(report)
    root = ET.Element("testsuites", name=f"modelup {workflow}")
    totals = [0, 0, 0]
    for index, candidate in enumerate(report.models):
        if candidate.role != "candidate":
            continue
        classname = safe_text(f"{workflow}/{candidate.requested_model}")
        suite = ET.SubElement(
            root, "testsuite", name=classname, timestamp=report.started_at.isoformat()
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("run_id", report.run_id),
            ("baseline", report.baseline.requested_model),
            ("dataset_sha256", report.dataset.sha256),
            ("mode", report.mode),
        ):
            ET.SubElement(properties, "property", name=name, value=safe_text(value))
        failures = errors = 0
        for row in rows:
            failed, errored = _testcase(suite, classname, row, index)
            failures, errors = failures + failed, errors + errored
        seconds = sum(float(_seconds(row.records[index])) for row in rows)
        suite.attrib.update(
            tests=str(len(rows)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{seconds:.3f}",
        )
        totals = [totals[0] + len(rows), totals[1] + failures, totals[2] + errors]
    gate = ET.SubElement(
        root, "testsuite", name=f"{workflow}/gate", timestamp=report.started_at.isoformat()
    )
    gate_failures = 0
    for decision in report.decisions:
        element = ET.SubElement(
            gate,
            "testcase",
            classname=f"{workflow}/gate",
            name=safe_text(decision.candidate),
            time="0.000",
        )
        if decision.verdict != "Promote":
            gate_failures += 1
            failure = ET.SubElement(
                element, "failure", message=decision.verdict, type=decision.verdict
            )
            failure.text = safe_text("\n".join(decision.reasons), OUTPUT_LIMIT)
    gate.attrib.update(
        tests=str(len(report.decisions)),
        failures=str(gate_failures),
        errors="0",
        skipped="0",
        time="0.000",
    )
    root.attrib.update(
        tests=str(totals[0] + len(report.decisions)),
        failures=str(totals[1] + gate_failures),
        errors=str(totals[2]),
    )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: Report, path: Path) -> Path:
    return write_text_file(render_junit(report), path)
