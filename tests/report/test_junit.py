"""JUnit XML: one test case per case per candidate, failures with notes, always well formed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from modelup.report.render.junit import render_junit
from support.reports import HOSTILE, case, make_report


def suites(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "testsuites"
    return {suite.attrib["name"]: suite for suite in root.findall("testsuite")}


def test_one_test_case_per_case_per_candidate() -> None:
    found = suites(render_junit(make_report()))
    assert set(found) == {"support-ops/cand-model", "support-ops/gate"}
    suite = found["support-ops/cand-model"]
    cases = suite.findall("testcase")
    assert [c.attrib["name"] for c in cases] == ["UP-1", "UP-2", "UP-3"]
    assert {c.attrib["classname"] for c in cases} == {"support-ops/cand-model"}
    assert suite.attrib["tests"] == "3"
    assert suite.attrib["failures"] == "1" and suite.attrib["errors"] == "1"


def test_failures_carry_the_notes_and_errors_the_error() -> None:
    suite = suites(render_junit(make_report()))["support-ops/cand-model"]
    up1, up2, up3 = suite.findall("testcase")
    assert up1.find("failure") is None and up1.find("error") is None
    failure = up2.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "regression"
    assert failure.attrib["message"].startswith("regression: Forbidden tool used: <script>")
    assert failure.text is not None and "check safety: fail" in failure.text
    error = up3.find("error")
    assert error is not None and error.attrib["message"] == "HTTP 500 from endpoint"


def test_gate_suite_fails_unless_promote() -> None:
    held = suites(render_junit(make_report(verdict="Hold")))["support-ops/gate"]
    failure = held.find("testcase/failure")
    assert failure is not None and failure.attrib["type"] == "Hold"
    promoted = suites(
        render_junit(
            make_report(
                verdict="Promote",
                candidate_cases=[case("UP-1", True), case("UP-2", True), case("UP-3", True)],
            )
        )
    )
    assert promoted["support-ops/gate"].find("testcase/failure") is None
    assert promoted["support-ops/cand-model"].attrib["failures"] == "0"


def test_several_candidates_each_get_a_suite() -> None:
    report = make_report()
    third = report.models[1].model_copy(update={"requested_model": "cand-two"})
    report = report.model_copy(update={"models": [*report.models, third]})
    assert set(suites(render_junit(report))) == {
        "support-ops/cand-model",
        "support-ops/cand-two",
        "support-ops/gate",
    }


def test_hostile_text_stays_well_formed_xml() -> None:
    xml = render_junit(make_report())
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", xml)
    assert "<script>" not in xml and "<img" not in xml
    out = suites(xml)["support-ops/cand-model"].find("testcase[@name='UP-2']/system-out")
    assert out is not None and out.text is not None
    assert out.text.startswith("<script>window.__pwned = 1;")  # the text survives, as text
    assert "]]>" in out.text and "🚀" in out.text and "[U+202E]" in out.text
    assert HOSTILE.startswith("<script>")


def test_huge_output_is_capped() -> None:
    huge = "y" * 1_000_000
    xml = render_junit(
        make_report(
            candidate_cases=[case("UP-1", True), case("UP-2", False, raw=huge), case("UP-3", True)]
        )
    )
    assert len(xml) < 40_000
    assert "more characters in the JSON report" in xml
