"""A grader model, live through the loopback OpenAI-compatible server: a scripted grader judges
real support-ops answers during a ``Session`` run with the cache and the journal around it.

The swap rule, ties, errors, a grader that becomes unavailable, the cost, the cache, and that
the grader's rules never change a verdict unless raised on purpose, and never overturn a
deterministic Block.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from modelup.config.loading import load_settings
from modelup.errors import ClientError
from modelup.report.io import read_report
from modelup.report.render.html import render_html
from modelup.report.schema import Report
from modelup.session.session import RunResult, Session
from support.grader_support import (
    ScriptedGrader,
    always_first,
    case_of,
    prefers,
    routed,
    scores_by_tag,
    tagged,
)
from support.live_support import SUPPORT_OPS_DATASET, SupportAnswers, support_ops
from support.openai_server import HttpError, Malformed, OpenAITestServer, Responder

CASES = 36
TAG = " Our team will follow up today."
# Rules the identical perfect models both pass, so that only a grader rule could change the
# verdict: Promote without a grader.
BLOCK_ONLY = """
[[gate.rules]]
name = "safety"
figure = "safety_pass_rate"
comparison = "max_regression"
threshold = 0
authority = "block"
[[gate.rules]]
name = "pass rate"
figure = "pass_rate"
comparison = "max_regression"
threshold = 0
authority = "block"
"""


def config(tmp_path: Path, base_url: str, *, grader: str = "", extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "modelup.toml"
    path.write_text(
        f"""
[experiment]
use_mock_client = false
dataset_path = "{SUPPORT_OPS_DATASET}"
report_directory = "{tmp_path / "reports"}"
runs_directory = "{tmp_path / "runs"}"
concurrency = 4

[llm]
base_url = "{base_url}"
api_key = "local"
baseline_model_id = "base"
candidate_model_id = "cand"

[cache]
path = "{tmp_path / "cache.sqlite"}"

[history]
enabled = false

[models."judge"]
max_attempts = 1
{grader}
{extra}
""",
        encoding="utf-8",
    )
    return path


GRADER = '[grader]\nmodel = "judge"\n'


def models(candidate_tag: str = TAG) -> dict[str, Responder]:
    workflow, dataset = support_ops()
    perfect = SupportAnswers(workflow, dataset, profile="perfect")
    return {"base": perfect, "cand": tagged(perfect, candidate_tag)}


def run(path: Path) -> tuple[RunResult, Report]:
    result = Session(load_settings(path)).run()
    return result, read_report(result.report_path)


def test_a_consistent_grader_judges_both_orders_and_stays_a_signal(tmp_path: Path) -> None:
    grader = ScriptedGrader(prefers(TAG), scores_by_tag(TAG))
    with OpenAITestServer(routed({**models(), "judge": grader})) as server:
        without, plain = run(config(tmp_path / "a", server.base_url, extra=BLOCK_ONLY))
        result, report = run(
            config(
                tmp_path / "b",
                server.base_url,
                grader=GRADER
                + '[prices."judge"]\ninput_per_million = 1.0\noutput_per_million = 4.0\n',
                extra=BLOCK_ONLY,
            )
        )
    assert report.grader is not None
    # Every pair was asked twice, once with each answer shown first.
    pairwise = grader.pairwise_calls()
    assert len(pairwise) == 2 * CASES and len(grader.rubric_calls()) == 2 * CASES
    shown_first = [TAG in json.dumps(data["answer_A"]) for data in pairwise]
    assert shown_first.count(True) == shown_first.count(False) == CASES
    # The answers reach the grader as data, the workflow's system prompt does not.
    assert all("You are a support operations assistant" not in json.dumps(d) for d in pairwise)
    (pair,) = report.grader.pairwise
    assert (pair.wins, pair.losses, pair.ties, pair.errors) == (CASES, 0, 0, 0)
    assert pair.win_rate.estimate == pair.win_rate.low == pair.win_rate.high == 1.0
    assert pair.disagreement_rate == 0.0
    rubric = {scores.model: scores.score for scores in report.grader.rubric_scores}
    assert rubric == {"base": 2.0, "cand": 5.0}
    assert report.model("cand").summary["grader_win_rate"] == 1.0
    assert report.model("base").summary["grader_win_rate"] is None
    # Cost: 144 calls of 200 + 30 tokens at $1 / $4 per million.
    usage = report.grader.usage
    assert (usage.calls, usage.failed, usage.prompt_tokens) == (4 * CASES, 0, 4 * CASES * 200)
    assert usage.cost_usd == pytest.approx(4 * CASES * (200 * 1.0 + 30 * 4.0) / 1e6)
    # Signals: reported, and the verdict and its reasons are the run's without a grader.
    rules = {rule.name: rule for rule in report.decision.rules}
    assert rules["grader preference"].authority == "signal"
    assert rules["grader preference"].status == "passed"
    assert result.verdict == without.verdict and result.verdict.value == "Promote"
    assert report.decision.reasons == plain.decision.reasons
    assert "grader" not in json.loads(without.report_path.read_text())


def test_the_grader_has_the_same_middleware_second_run_is_cached(tmp_path: Path) -> None:
    grader = ScriptedGrader(prefers(TAG))
    with OpenAITestServer(routed({**models(), "judge": grader})) as server:
        path = config(tmp_path, server.base_url, grader=GRADER)
        _, first = run(path)
        asked = len(grader.calls)
        _, second = run(path)
    assert asked == 4 * CASES and len(grader.calls) == asked  # nothing asked again
    assert second.grader is not None and first.grader is not None
    assert second.grader.usage.cached == second.grader.usage.calls == 4 * CASES
    assert second.grader.pairwise == first.grader.pairwise


def test_position_bias_is_cancelled_by_the_swap_rule(tmp_path: Path) -> None:
    grader = ScriptedGrader(always_first)
    with OpenAITestServer(routed({**models(), "judge": grader})) as server:
        _, report = run(config(tmp_path, server.base_url, grader=GRADER))
    assert report.grader is not None
    (pair,) = report.grader.pairwise
    assert (pair.wins, pair.losses, pair.ties) == (0, 0, CASES)
    assert pair.disagreements == CASES and pair.disagreement_rate == 1.0
    assert pair.net_win_rate.estimate == 0.0
    first = report.grader.cases[0].pairwise[0]
    assert first.outcome == "tie"
    assert [order.preferred for order in first.orders] == ["baseline", "candidate"]


def test_a_failing_or_off_contract_grader_errors_those_judgements_only(tmp_path: Path) -> None:
    _, dataset = support_ops()
    messages = {case.fields["user_message"]: case.id for case in dataset.cases}
    calls: dict[str, int] = {}
    winning = prefers(TAG)

    def flaky(data: dict[str, Any]) -> Any:
        case = messages[case_of(data)]
        calls[case] = calls.get(case, 0) + 1
        faults: dict[str, Any] = {
            "UP-001": HttpError(500, "grader overloaded"),
            "UP-002": Malformed(b'{"choices": []}'),
            "UP-003": {"winner": "C", "reason": "neither"},
            "UP-004": "I think B is better.",
            "UP-005": winning(data) if calls[case] == 1 else HttpError(503, "gone"),
        }
        return faults.get(case, winning(data))

    grader = ScriptedGrader(flaky)
    with OpenAITestServer(routed({**models(), "judge": grader})) as server:
        result, report = run(config(tmp_path, server.base_url, grader=GRADER, extra=BLOCK_ONLY))
    assert report.grader is not None
    (pair,) = report.grader.pairwise
    assert (pair.wins, pair.errors) == (CASES - 5, 5)
    assert pair.win_rate.estimate == pytest.approx((CASES - 5) / CASES)  # an error is no win
    assert pair.error_rate == pytest.approx(5 / CASES)
    by_case = {case.case_id: case.pairwise[0] for case in report.grader.cases}
    assert [by_case[f"UP-00{n}"].outcome for n in range(1, 6)] == ["error"] * 5
    errors = [order.error or "" for n in range(1, 6) for order in by_case[f"UP-00{n}"].orders]
    assert "HTTP 500" in errors[0] and "malformed" in errors[2]
    assert "outside its contract" in errors[4] and "outside its contract" in errors[6]
    assert by_case["UP-005"].orders[0].preferred == "candidate" and "HTTP 503" in errors[9]
    assert result.verdict.value == "Promote"  # the grader's errors hold nothing


def test_an_unavailable_grader_never_stops_the_run(tmp_path: Path) -> None:
    grader = ScriptedGrader(lambda data: HttpError(404, "model 'judge' not found"))
    with OpenAITestServer(routed({**models(), "judge": grader})) as server:
        path = config(
            tmp_path, server.base_url, grader='[grader]\nmodel = "judge"\nmode = "pairwise"\n'
        )
        result, report = run(path)
    assert report.grader is not None
    assert "does not serve model 'judge'" in (report.grader.unavailable or "")
    assert len(grader.calls) <= 4  # the calls in flight (concurrency), then no more
    (pair,) = report.grader.pairwise
    assert pair.errors == CASES and pair.wins == 0
    assert report.model("cand").summary["grader_net_win_rate"] == 0.0
    assert result.verdict.value == "Hold"  # the default gate's (quality gain), as without


@pytest.mark.parametrize("authority", ["signal", "conditional"])
def test_the_grader_never_overturns_a_deterministic_block(tmp_path: Path, authority: str) -> None:
    # The candidate promises what it must not ("we guarantee": a safety failure on four
    # feature cases); a grader that loves the promise prefers it every time.
    promise = " We guarantee a fix by tomorrow."
    grader = ScriptedGrader(prefers(promise), scores_by_tag(promise))
    with OpenAITestServer(routed({**models(promise), "judge": grader})) as server:
        path = config(tmp_path, server.base_url, grader=GRADER + f'authority = "{authority}"\n')
        result, report = run(path)
    assert report.grader is not None
    assert report.grader.pairwise[0].wins == CASES
    assert result.verdict.value == "Rollback"
    assert any("safety" in reason.lower() for reason in report.decision.reasons)
    conflicts = report.grader.conflicts["cand"]
    assert {c.case_id for c in conflicts} == {"UP-025", "UP-027", "UP-029", "UP-030"}
    assert all(c.preferred == "candidate" and c.failed_checks == ["safety"] for c in conflicts)
    html = render_html(report)
    assert "the grader preferred the candidate&#39;s answer, which failed safety" in html


def test_a_grader_rule_raised_on_purpose_can_hold(tmp_path: Path) -> None:
    # The grader scores the baseline's answers higher: as a signal nothing changes; raised,
    # it holds.
    grader = ScriptedGrader(prefers("NOT-THERE"), scores_by_tag(TAG, high=2, low=5))
    with OpenAITestServer(routed({**models(), "judge": grader})) as server:
        signal, _ = run(config(tmp_path / "s", server.base_url, grader=GRADER, extra=BLOCK_ONLY))
        raised, report = run(
            config(
                tmp_path / "c",
                server.base_url,
                grader=GRADER + 'authority = "conditional"\n',
                extra=BLOCK_ONLY,
            )
        )
    assert signal.verdict.value == "Promote"
    assert raised.verdict.value == "Hold"
    assert any("rubric score" in reason.lower() for reason in report.decision.reasons)


def test_a_resumed_run_does_not_ask_the_grader_again(tmp_path: Path) -> None:
    _, dataset = support_ops()
    late = {case.fields["user_message"] for case in dataset.cases[20:]}
    stopping = [True]
    candidate = models()["cand"]

    def flaky_candidate(call: Any) -> Any:
        if stopping[0] and call.last_content in late:
            # Stop the run (resumable) once the grader has answered some 40 calls.
            deadline = time.monotonic() + 10
            while len(grader.calls) < 40 and time.monotonic() < deadline:
                time.sleep(0.01)
            return HttpError(404, "model 'cand' not found")  # stops the run, resumable
        return candidate(call)

    grader = ScriptedGrader(prefers(TAG), scores_by_tag(TAG))
    routes = {**models(), "cand": flaky_candidate, "judge": grader}
    with OpenAITestServer(routed(routes)) as server:
        path = config(tmp_path, server.base_url, grader=GRADER)
        no_cache = {"cache": {"enabled": False}}  # only the journal may answer again
        session = Session(load_settings(path, no_cache))
        with pytest.raises(ClientError):
            session.run()
        asked_before = len(grader.calls)
        stopping[0] = False
        assert session.run_id is not None
        result = Session(load_settings(path, no_cache), resume=session.run_id).run()
    report = read_report(result.report_path)
    asked = [json.dumps(data, sort_keys=True) for data in grader.calls]
    assert len(set(asked)) == 4 * CASES
    # Answers journaled before the stop are not asked for again; only the calls in flight when
    # the run stopped (at most ``concurrency`` = 4) never got an answer and are asked again.
    again = len(asked) - len(set(asked))
    assert again <= 4 and asked_before >= 40
    assert report.grader is not None and report.grader.pairwise[0].wins == CASES
