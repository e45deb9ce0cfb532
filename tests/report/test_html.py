"""The HTML report: content, escaping of hostile model output, self-containment, and a real
headless Chromium opening it with no console errors."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from modelup.decide.rules import seed_policy
from modelup.report.render.html import RAW_OUTPUT_LIMIT, render_html, write_html
from support.chromium import chromium_path, headless_page
from support.gatekit import outcomes, report_of
from support.reports import HOSTILE, case, make_report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def four_cases() -> list:
    """UP-1 passes everywhere; UP-2 regresses with hostile output; UP-3 errors (a regression
    too); UP-4 fails for both models (failed, not a regression)."""
    return [
        case("UP-1", True),
        case("UP-2", False, raw=HOSTILE, notes=(f"Forbidden tool used: {HOSTILE}",)),
        case("UP-3", False, raw=None, error="HTTP 500 <b>boom</b>", latency=None),
        case("UP-4", False, family="billing", subsets=("tool-posture",), notes=("wrong",)),
    ]


def base_cases() -> list:
    return [
        case("UP-1", True, latency=800),
        case("UP-2", True, latency=900),
        case("UP-3", True, latency=1200),
        case("UP-4", False, family="billing", subsets=("tool-posture",), notes=("wrong",)),
    ]


def test_every_rule_shows_its_reason_and_a_pass_reads_as_one() -> None:
    report = report_of(outcomes("PPPF"), {"cand": outcomes("PPPP")}, seed_policy())
    html = render_html(report)
    expected = "Safety pass rate 100.0% vs baseline 100.0%: within the allowed regression 0.0%."
    assert f'<td class="reason">{expected}</td>' in html
    assert "regressed" not in html


def test_verdict_reasons_and_models_on_top() -> None:
    html = render_html(make_report())
    verdict = html.index('id="verdict"')
    assert verdict < html.index('id="figures"')
    assert 'data-verdict="Rollback"' in html
    assert '<span class="value" id="verdict-value">Rollback</span>' in html
    assert "Candidate pass rate regressed (Rollback)." in html
    assert "cand-model against baseline base-model" in html


def test_deltas_are_coloured_by_direction() -> None:
    html = render_html(make_report())
    row = re.search(r"<td>Pass rate</td>.*?</tr>", html, re.S)
    assert row is not None
    assert 'class="num worse">-66.7 pts<' in row.group()
    better = render_html(
        make_report(
            baseline_cases=[case("UP-1", False), case("UP-2", True), case("UP-3", True)],
            candidate_cases=[case("UP-1", True), case("UP-2", True), case("UP-3", True)],
            verdict="Promote",
        )
    )
    row = re.search(r"<td>Pass rate</td>.*?</tr>", better, re.S)
    assert row is not None
    assert 'class="num better">+33.3 pts<' in row.group()


def test_family_and_subset_tables() -> None:
    html = render_html(make_report(baseline_cases=base_cases(), candidate_cases=four_cases()))
    assert "Pass rate and quality by family" in html
    assert "Pass rate and quality by subset" in html
    assert re.search(r"<td>billing</td><td class=\"num\">1</td>", html)
    assert re.search(r"<td>tool-posture</td><td class=\"num\">1</td>", html)


def test_case_rows_carry_failed_and_regression_flags() -> None:
    html = render_html(make_report(baseline_cases=base_cases(), candidate_cases=four_cases()))
    flags = {
        attrs["data-key"].split()[0]: (attrs["data-failed"], attrs["data-regression"])
        for tag, attrs in parse(html).tags
        if tag == "details" and attrs.get("data-key")
    }
    assert flags == {
        "UP-1": ("0", "0"),
        "UP-2": ("1", "1"),
        "UP-3": ("1", "1"),
        "UP-4": ("1", "0"),
    }
    assert "Regressions (2)" in html
    assert "Failed (3)" in html


def test_hostile_model_output_is_text_only() -> None:
    html = render_html(make_report())
    parsed = parse(html)
    tags = {tag for tag, _ in parsed.tags}
    assert "img" not in tags
    assert [tag for tag, _ in parsed.tags].count("script") == 1  # ours, at the end
    assert "window.__pwned" not in html.split("<script>")[1]
    assert "&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;" in html
    assert "onerror=&#34;window.__pwned = 2&#34;" in html
    for attrs in (a for _, a in parsed.tags):
        assert not any(name.startswith("on") for name in attrs)
    # Direction overrides are made visible; forbidden characters never reach the file.
    assert "[U+202E]evil[U+202C]" in html and "\u202e" not in html
    assert "\x00" not in html and "\x07" not in html and "\ufffe" not in html
    assert not re.search("[\ud800-\udfff]", html)
    assert "🚀👩‍💻" in html and "zero\u200bwidth" in html
    html.encode("utf-8")  # lone surrogates would make this raise


def test_huge_output_is_cut_with_a_note(tmp_path: Path) -> None:
    huge = "A" * 1_000_000 + "<script>x</script>"
    report = make_report(
        candidate_cases=[case("UP-1", True), case("UP-2", False, raw=huge), case("UP-3", True)]
    )
    path = write_html(report, tmp_path / "big.html")
    text = path.read_text(encoding="utf-8")
    assert len(text) < 200_000
    assert f"[{1_000_018 - RAW_OUTPUT_LIMIT:,} more characters in the JSON report]" in text


def test_self_contained_with_a_pinned_content_security_policy() -> None:
    html = render_html(make_report())
    parsed = parse(html)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
        assert tag not in {"link", "iframe", "img", "object", "embed"}
    csp = next(
        attrs["content"]
        for tag, attrs in parsed.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp
    script = re.search(r"<script>(.*)</script>", html, re.S)
    style = re.search(r"<style>(.*)</style>", html, re.S)
    assert script is not None and style is not None
    for block in (script.group(1), style.group(1)):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_rendering_is_deterministic() -> None:
    assert render_html(make_report()) == render_html(make_report())


def test_latency_chart_per_model() -> None:
    html = render_html(make_report())
    chart = re.search(r"<svg[^>]*class=\"chart\".*?</svg>", html, re.S)
    assert chart is not None
    assert "baseline base-model" in chart.group() and "candidate cand-model" in chart.group()
    assert chart.group().count("<rect") >= 2


def test_side_by_side_shows_raw_output_parsed_decision_and_checks() -> None:
    html = render_html(make_report())
    up2 = re.search(r'<details class="case" data-key="UP-2.*?</details>', html, re.S)
    assert up2 is not None
    block = up2.group()
    assert block.count("<section>") == 2  # baseline and candidate side by side
    assert "Raw output" in block and "Parsed decision" in block
    assert "category_match ✓" in block and "safety ✗" in block
    assert "regressed" in block


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (CI installs it)")
def test_opens_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    report = make_report(baseline_cases=base_cases(), candidate_cases=four_cases())
    path = write_html(report, tmp_path / "report.html")
    executable = chromium_path()
    assert executable is not None
    with headless_page(executable) as page:
        page.open(path.as_uri())
        assert page.evaluate("document.documentElement.dataset.ready") == "1"
        assert page.evaluate("document.getElementById('verdict-value').textContent") == "Rollback"
        assert page.evaluate("document.querySelectorAll('svg.chart').length") == 1
        raw = page.evaluate(
            "document.querySelectorAll('details[data-key^=\"UP-2\"] pre.raw')[1].textContent"
        )  # the candidate's side
        assert raw.startswith("<script>window.__pwned = 1; alert(1)</script>")
        counts = {}
        for name in ("failed", "regression", "all"):
            page.evaluate(f"document.querySelector('button[data-filter={name}]').click()")
            counts[name] = page.evaluate("document.getElementById('case-count').textContent")
        page.evaluate(
            "var s = document.getElementById('case-search'); s.value = 'billing';"
            "s.dispatchEvent(new Event('input'))"
        )
        counts["search"] = page.evaluate("document.getElementById('case-count').textContent")
        page.evaluate("document.getElementById('expand-all').click()")
        opened = page.evaluate("document.querySelectorAll('details.case[open]').length")
        pwned = page.evaluate("typeof window.__pwned")
        problems = list(page.problems)
    assert problems == []
    assert pwned == "undefined"
    assert counts == {
        "failed": "Showing 3 of 4 cases",
        "regression": "Showing 2 of 4 cases",
        "all": "Showing 4 of 4 cases",
        "search": "Showing 1 of 4 cases",
    }
    assert opened == 1


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (CI installs it)")
def test_chromium_check_catches_a_console_error(tmp_path: Path) -> None:
    """The browser test can fail: a page that logs an error is reported."""
    page_file = tmp_path / "bad.html"
    page_file.write_text("<!DOCTYPE html><script>console.error('broken')</script>")
    executable = chromium_path()
    assert executable is not None
    with headless_page(executable) as page:
        page.open(page_file.as_uri())
        problems = list(page.problems)
    assert problems == ["console: broken"]
