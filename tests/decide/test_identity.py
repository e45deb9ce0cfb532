"""Who answered: an alias that resolves to another model, or an identity that changes during the
run, holds the release (never a Promote, never a Rollback) unless the configuration declares the
expected resolution; a drifted baseline makes the comparison unsound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.decide.decision import decide_run
from modelup.decide.evidence import measure
from modelup.decide.identity import ExpectedIdentity, Identity, describe, identities
from modelup.decide.rules import seed_policy
from modelup.evaluate.targets import ModelTarget
from modelup.models.chat import ChatResponse
from support.gatekit import TOY, outcomes

runner = CliRunner()


def test_expected_identity_is_the_requested_id_or_a_declared_name_or_pattern() -> None:
    assert ExpectedIdentity("m-x").expects("m-x")
    assert not ExpectedIdentity("m-x").expects("m-x-2026-05-18")
    assert ExpectedIdentity("m-x", "m-x-2026-05-18").expects("m-x-2026-05-18")
    assert not ExpectedIdentity("m-x", "m-x-2026-05-18").expects("m-x")
    dated = ExpectedIdentity("m-x", "m-x-2026-*")
    assert dated.expects("m-x-2026-05-18") and not dated.expects("m-x-2025-12-01")
    assert ExpectedIdentity("m-x", "m-x-2026-0[5-6]-??").expects("m-x-2026-06-01")


def test_identities_are_counted_in_order_and_described_safely() -> None:
    seen = identities(
        [
            ChatResponse("", 1, resolved_model="b", system_fingerprint="fp\x00\ud800"),
            ChatResponse("", 1, resolved_model="a"),
            ChatResponse("", 1, resolved_model="b", system_fingerprint="fp\x00\ud800"),
            ChatResponse("", 1),  # reported nothing: not an identity
        ]
    )
    assert seen == (Identity("b", "fp\x00\ud800", 2), Identity("a", None, 1))
    text = describe(seen)
    assert text == "'b' with fingerprint 'fp\ufffd\ufffd' (2 calls), 'a' (1 call)"
    text.encode("utf-8")  # printable and storable: no lone surrogate, no NUL
    assert describe(()) == "none reported"


def _decide(base_resolved: str | None, cand_resolved: str | None, expect: str | None = None) -> Any:
    base = [
        r.__class__(**{**_fields(r), "resolved_model": base_resolved}) for r in outcomes("PPPP")
    ]
    cand = [
        r.__class__(**{**_fields(r), "resolved_model": cand_resolved}) for r in outcomes("PPPP")
    ]
    targets = [
        ModelTarget("baseline", "base", "simulated"),
        ModelTarget("candidate", "m-x", "simulated", expect_resolved=expect),
    ]
    evidence = [measure(TOY, t, r) for t, r in zip(targets, (base, cand), strict=True)]
    rules = seed_policy(min_quality_score_improvement=0.0)
    return decide_run(TOY, evidence, [base, cand], rules).candidates[0]


def _fields(result: Any) -> dict[str, Any]:
    return {name: getattr(result, name) for name in result.__slots__}


def test_an_alias_that_resolves_elsewhere_holds_naming_every_identity() -> None:
    decided = _decide("base", "m-x-2026-05-18")
    assert decided.verdict == "Hold"
    drift = next(o for o in decided.rules if o.rule.figure == "identity_drift")
    assert drift.status == "failed" and drift.candidate == 4
    assert drift.reason in decided.reasons
    assert "4 call(s) answered by a model other than 'm-x'" in drift.reason
    assert "identities seen: 'm-x-2026-05-18' (4 calls)" in drift.reason
    assert '[models."m-x"] expect_resolved' in drift.reason


@pytest.mark.parametrize("expect", ["m-x-2026-05-18", "m-x-2026-*"])
def test_a_declared_resolution_passes(expect: str) -> None:
    assert _decide("base", "m-x-2026-05-18", expect).verdict == "Promote"


def test_a_declared_resolution_that_does_not_match_still_holds() -> None:
    assert _decide("base", "m-x-2026-05-18", "m-x-2025-*").verdict == "Hold"


def test_a_drifted_baseline_makes_the_comparison_unsound() -> None:
    decided = _decide("base-2026-01-01", "m-x")
    assert decided.verdict == "Hold"
    [reason] = decided.reasons
    assert reason.startswith("Baseline identity drift: 4 call(s) answered by a model other")
    assert reason.endswith("the comparison is unsound.")


def _mock_config(tmp_path: Path, dataset: Path, extra: str) -> Path:
    path = tmp_path / "modelup.toml"
    path.write_text(
        f"""
[experiment]
use_mock_client = true
mode = "compare"
dataset_path = "{dataset}"
report_directory = "{tmp_path / "reports"}"
[llm]
baseline_model_id = "base"
candidate_model_id = "m-x"
[mock]
baseline_profile = "steady"
candidate_profile = "aliased"
[mock.profiles.aliased]
latency_ms = 800.0
latency_jitter_ms = 0.0
resolved_model = "m-x-2026-05-18"
{extra}
""",
        encoding="utf-8",
    )
    return path


def _report(output: str) -> dict[str, Any]:
    last = output.strip().splitlines()[-1]
    assert last.startswith("Report: "), output
    data: dict[str, Any] = json.loads(Path(last.removeprefix("Report: ")).read_text())
    return data


def test_a_run_whose_candidate_alias_moved_exits_3_not_0(
    tmp_path: Path, support_ops_dataset: Path
) -> None:
    # The candidate is perfect, so the figures alone would promote it; but it answered as
    # another model than the one requested.
    held = runner.invoke(
        app, ["run", "--config", str(_mock_config(tmp_path, support_ops_dataset, ""))]
    )
    assert held.exit_code == 3, held.output
    report = _report(held.output)
    candidate = report["models"][1]
    assert candidate["summary"]["identity_drift"] == 36
    assert candidate["identities"] == [
        {"model": "m-x-2026-05-18", "system_fingerprint": None, "calls": 36}
    ]
    assert any("identity drift" in reason for reason in report["decision"]["reasons"])
    pinned = _mock_config(
        tmp_path, support_ops_dataset, '[models."m-x"]\nexpect_resolved = "m-x-2026-*"\n'
    )
    promoted = runner.invoke(app, ["run", "--config", str(pinned)])
    assert promoted.exit_code == 0, promoted.output
    report = _report(promoted.output)
    assert report["models"][1]["expect_resolved"] == "m-x-2026-*"
    assert report["models"][1]["summary"]["identity_drift"] == 0
