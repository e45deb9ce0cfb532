"""The grader in every rendering: its headline, tables and per-case reasons beside the answers,
the grader's text shown inert (it is untrusted like any model's), and nothing of it when the run
had no grader."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from modelup import ScriptedClient
from modelup.config.loading import load_settings
from modelup.models.chat import ChatRequest, ChatResponse, Usage
from modelup.report.grader_view import case_lines, graded_cases, judgement_rows
from modelup.report.io import read_report, write_report
from modelup.report.render.html import render_html
from modelup.report.render.markdown import render_markdown
from modelup.report.render.terminal import print_results
from modelup.report.schema import Report
from modelup.session.execute import execute
from modelup.session.plan import plan_run
from support.reports import HOSTILE

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "support-ops" / "modelup.toml"


def hostile_grader(request: ChatRequest) -> ChatResponse:
    data: dict[str, Any] = json.loads(request.messages[-1].content)
    answer: dict[str, Any]
    if "answer_A" in data:
        answer = {"winner": "B", "reason": HOSTILE}
    else:
        answer = {"scores": dict.fromkeys(data["criteria"], 4), "reason": HOSTILE}
    return ChatResponse(json.dumps(answer), 1.0, usage=Usage(300, 40))


def graded_report(tmp_path: Path, **grader: object) -> Report:
    flags: dict[str, Any] = {
        "grader": {"model": "judge", **grader},
        "experiment": {"report_directory": tmp_path},
        "prices": {"judge": {"input_per_million": 1.0, "output_per_million": 2.0}},
    }
    plan = plan_run(load_settings(CONFIG, flags))
    client = ScriptedClient(default=hostile_grader)
    return asyncio.run(execute(plan, grader_client=client, run_id="r"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return graded_report(tmp_path_factory.mktemp("graded"))


def test_the_report_round_trips_with_its_grader(report: Report, tmp_path: Path) -> None:
    path = write_report(report, tmp_path / "r.json")
    again = read_report(path)
    assert again.grader == report.grader
    assert report.grader is not None and len(report.grader.cases) == 36
    assert report.grader.usage.cost_usd == pytest.approx(
        report.grader.usage.calls * (300 * 1.0 + 40 * 2.0) / 1e6
    )


def test_terminal_shows_the_grader_as_plain_text(report: Report) -> None:
    console = Console(record=True, width=200)
    print_results(console, report)
    text = console.export_text()
    assert "Grader judge (simulated): pairwise and rubric" in text
    assert "Grader: pairwise, both orders [95% CI]" in text
    assert "Grader: rubric (1-5)" in text
    # The one pair decided by the contract is a loss: the net win rate is below zero.
    assert "Grader rule, qwen3:8b: grader preference (signal): failed" in text


def test_markdown_keeps_the_graders_text_inert(report: Report) -> None:
    text = render_markdown(report)
    assert "### Grader" in text
    section = text.split("### Grader", 1)[1]
    assert "<script>" not in section and "[link](" not in section
    assert "@octocat" not in section and "@&#8203;octocat" in section
    tables = re.findall(r"((?:^\|.*\|\n)+)", section, re.M)
    for table in tables:
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(counts) == 1, table
    rows, total = judgement_rows(report, 5)
    assert total == 36 and len(rows) == 5  # 35 disagreements (always "B") and 1 by contract


def test_html_shows_the_graders_reason_beside_each_answer(report: Report) -> None:
    html = render_html(report)
    assert '<section id="grader">' in html and 'id="grader-rubric"' in html
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned = 1" in html
    assert "\u202e" not in html and "[U+202E]" in html
    # Each case: the grader block in every model's side, the pair's verdict on the candidate's.
    graded = graded_cases(report)
    candidate = case_lines(graded[("UP-001", 0)], "qwen3:8b", "candidate")
    baseline = case_lines(graded[("UP-001", 0)], "gpt-oss:20b", "baseline")
    assert [line.split(" ", 1)[0] for line in candidate] == ["rubric", "pairwise"]
    assert [line.split(" ", 1)[0] for line in baseline] == ["rubric"]
    assert html.count('<ul class="grading">') == 2 * 36


def test_without_a_grader_nothing_of_it_is_written_or_shown(tmp_path: Path) -> None:
    plan = plan_run(load_settings(CONFIG, {"experiment": {"report_directory": tmp_path}}))
    plain = asyncio.run(execute(plan, run_id="r"))
    assert plain.grader is None
    data = json.loads(write_report(plain, tmp_path / "p.json").read_text())
    assert "grader" not in data and "grader" not in data["config"]
    assert not any(name.startswith(("grader_", "rubric_")) for name in data["models"][1]["summary"])
    assert "Grader" not in render_html(plain) and "### Grader" not in render_markdown(plain)
