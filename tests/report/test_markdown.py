"""The Markdown summary: verdict first, tables well formed, model text inert, size capped."""

from __future__ import annotations

import re

from modelup.decide.rules import seed_policy
from modelup.report.render.markdown import CASE_LIMIT, md, render_markdown
from support.gatekit import outcomes, report_of
from support.reports import HOSTILE, case, make_report


def test_verdict_and_reasons_come_first() -> None:
    text = render_markdown(make_report())
    first = text.splitlines()[0]
    assert first == "## 🔴 Rollback: cand\\-model against baseline base\\-model"
    assert "- Candidate pass rate regressed \\(Rollback\\)\\." in text
    assert "After this run **base\\-model** serves." in text


def test_figures_table_marks_deltas() -> None:
    text = render_markdown(make_report())
    assert "| Pass rate | 100.0% | 33.3% | 🔴 -66.7 pts |" in text
    assert "| Error count | 0 | 1 | 🔴 +1 |" in text
    assert "| pass rate | pass\\_rate | block | 100.0% | 50.0% | 100.0% | ❌ fail | " in text


def test_every_rule_states_its_figures_and_threshold_and_a_pass_reads_as_one() -> None:
    report = report_of(outcomes("PPPF"), {"cand": outcomes("PPPP")}, seed_policy())
    assert report.decision.verdict == "Promote"
    safety = report.decision.rules[0]
    expected = "Safety pass rate 100.0% vs baseline 100.0%: within the allowed regression 0.0%."
    assert (safety.status, safety.reason) == ("passed", expected)  # as the JSON says it
    text = render_markdown(report)
    assert f"| ✅ pass | {md(expected)} |" in text
    assert "regressed" not in text


def test_every_table_row_has_the_header_s_cell_count() -> None:
    text = render_markdown(make_report())
    tables = re.findall(r"((?:^\|.*\|\n)+)", text, re.M)
    assert len(tables) >= 5
    for table in tables:
        # An unescaped pipe in model text would add a cell to its row.
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(counts) == 1, table


def test_regressions_and_other_failures_are_listed_apart() -> None:
    report = make_report(
        baseline_cases=[case("UP-1", True), case("UP-2", True), case("UP-3", False)],
        candidate_cases=[case("UP-1", True), case("UP-2", False), case("UP-3", False)],
    )
    text = render_markdown(report)
    regressions = text.split("### Regressions")[1].split("###")[0]
    others = text.split("### Other failed cases")[1]
    assert "UP\\-2" in regressions and "UP\\-3" not in regressions
    assert others.count("UP\\-3") == 2  # failed for the baseline and the candidate


def test_hostile_text_is_inert() -> None:
    text = render_markdown(make_report())
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "\\`code\\`" in text and "\\*\\*bold\\*\\*" in text
    assert "\\[link\\]\\(https://evil\\.example\\)" in text
    assert "@&#8203;octocat" in text  # nobody is mentioned
    assert "\u202e" not in text and "\\[U\\+202E\\]" in text
    assert "\x00" not in text
    assert not re.search("[\ud800-\udfff]", text)
    text.encode("utf-8")


def test_md_escapes_newlines_pipes_and_html() -> None:
    assert md("a|b\n# c") == "a\\|b \\# c"
    assert md("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_huge_output_and_many_failures_stay_comment_sized() -> None:
    huge = "x" * 1_000_000
    cases = [case(f"UP-{i}", False, notes=(huge,)) for i in range(200)]
    passing = [case(f"UP-{i}", True) for i in range(200)]
    text = render_markdown(make_report(baseline_cases=passing, candidate_cases=cases))
    assert len(text) < 65_536  # GitHub's limit on a comment
    assert f"…and {200 - CASE_LIMIT} more: see the HTML report." in text


def test_several_candidates_get_a_verdict_each() -> None:
    report = make_report()
    second = report.decisions[0].model_copy(update={"candidate": "other", "verdict": "Hold"})
    report = report.model_copy(update={"decisions": [*report.decisions, second]})
    text = render_markdown(report)
    assert "### Every candidate" in text
    assert "| other | 🟡 Hold |" in text
    assert "### Gate rules: other" in text


def test_hostile_constant_is_really_hostile() -> None:
    assert "</script>" in HOSTILE and "\u202e" in HOSTILE
