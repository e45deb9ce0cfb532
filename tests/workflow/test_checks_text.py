"""The ``plain_text`` check kind: markup, script, links and template syntax in a free-text field
fail the case; and the bundled support-ops workflow checks its customer reply with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from modelup.config.loading import load_settings
from modelup.session.execute import execute_sync
from modelup.session.plan import plan_run
from modelup.workflow.checks import check_params_model, get_check
from modelup.workflow.checks_text import plain_text_findings


def check(reply: Any, **params: Any) -> Any:
    params.setdefault("output", "customer_reply")
    check_params_model("plain_text").model_validate(params)  # type: ignore[union-attr]
    return get_check("plain_text")({"customer_reply": reply}, {}, params)


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks for reaching out. We are on it and will update you shortly.",
        "Refunds take 3-5 days; if x < 3 and y > 2 we escalate. Email support (not a link).",
        "Use the {account} menu, then $5 is refunded at 100% <- as promised.",
        "",
    ],
)
def test_plain_text_passes(reply: str) -> None:
    outcome = check(reply)
    assert outcome.passed and outcome.note is None


@pytest.mark.parametrize(
    ("reply", "kind", "shown"),
    [
        ("Done.<script>fetch('//x')</script>", "script", "<script"),
        ("<img src=x onerror=alert(1)>", "script", "<img src=x onerror="),
        ("Click <a href='javascript:alert(1)'>here</a>", "script", "javascript:"),
        ("We <b>fixed</b> it.", "markup", "<b>"),
        ("<!-- note --> fixed", "markup", "<!--"),
        ("See https://evil.example/login for details.", "links", "https://evil.example/login"),
        ("Go to www.example.com now", "links", "www.example.com"),
        ("[reset your password](http://x.example)", "links", "[reset your password]"),
        ("Hello {{ customer.name }}", "templates", "{{"),
        ("Total: ${amount}", "templates", "${"),
        ("{% if vip %}priority{% endif %}", "templates", "{%"),
    ],
)
def test_markup_script_links_and_templates_fail(reply: str, kind: str, shown: str) -> None:
    outcome = check(reply, label="Customer reply")
    assert not outcome.passed and outcome.score == 0.0
    assert outcome.note.startswith("Customer reply is not plain text: ")
    assert f"{kind} (" in outcome.note and shown in outcome.note


def test_forbid_narrows_what_fails_and_lists_are_checked_item_by_item() -> None:
    assert check("see https://docs.example", forbid=["markup", "script"]).passed
    assert not check(["fine", "also <i>fine</i>"]).passed
    assert plain_text_findings("a {{b}} <b>c</b>") == {
        "markup": ["<b>", "</b>"],
        "templates": ["{{"],
    }
    with pytest.raises(ValidationError):
        check("x", forbid=["emoji"])
    with pytest.raises(ValidationError):
        check("x", forbid=[])


def test_a_reply_with_a_script_is_not_promoted(tmp_path: Path, support_ops_dataset: Path) -> None:
    # The candidate is perfect but for markup and a script in one reply in five: the
    # support-ops workflow's own rule (a floor of 100% plain replies, block) rolls it back.
    config = tmp_path / "modelup.toml"
    config.write_text(
        f"""
[experiment]
use_mock_client = true
dataset_path = "{support_ops_dataset}"
[mock]
baseline_profile = "perfect"
candidate_profile = "scripted"
[mock.profiles.scripted]
latency_ms = 800.0
latency_jitter_ms = 0.0
markup_in_reply = 0.2
""",
        encoding="utf-8",
    )
    report = execute_sync(plan_run(load_settings(config)))
    candidate = report.candidates[0]
    assert 0 < candidate.summary["plain_reply_rate"] < 1  # type: ignore[operator]
    assert report.baseline.summary["plain_reply_rate"] == 1.0
    rule = next(r for r in report.decision.rules if r.figure == "plain_reply_rate")
    assert (rule.status, rule.authority) == ("failed", "block")
    assert rule.reason in report.decision.reasons
    assert report.decision.verdict == "Rollback"
    notes = [note for case in candidate.cases for note in case.notes]
    assert any(note.startswith("Customer reply is not plain text: markup") for note in notes)
