"""Repeated trials: per-case pass probability, pass@k, pass^k and flaky cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.decide.rules import seed_policy
from modelup.decide.trials import case_trials, summarize_trials, trial_figures
from modelup.evaluate.scoring import CaseResult
from modelup.report.io import read_report
from support.gatekit import outcomes, report_of, result


def _epochs(case_id: str, pattern: str) -> list[CaseResult]:
    return [result(case_id, mark == "P", epoch=i) for i, mark in enumerate(pattern)]


def test_pass_probability_and_flaky_cases() -> None:
    results = _epochs("A", "PPP") + _epochs("B", "PFP") + _epochs("C", "FFF")
    cases = case_trials(results)
    assert [(c.case_id, c.trials, c.passes) for c in cases] == [
        ("A", 3, 3),
        ("B", 3, 2),
        ("C", 3, 0),
    ]
    assert [c.pass_probability for c in cases] == [1.0, 2 / 3, 0.0]
    assert summarize_trials(results).flaky_cases == ("B",)


def test_pass_at_k_and_pass_hat_k_known_answers() -> None:
    # Case A passes 3/3, B 1/3. Per case, pass@k = 1 - C(n-c, k)/C(n, k), pass^k = C(c, k)/C(n, k).
    # B: pass@1 = 1/3, pass@2 = 1 - C(2,2)/C(3,2) = 2/3, pass@3 = 1; pass^1 = 1/3, pass^2 = 0.
    results = _epochs("A", "PPP") + _epochs("B", "FPF")
    trials = summarize_trials(results, temperature=0.7, seed=11)
    assert trials.epochs == 3
    assert trials.pass_at_k == pytest.approx({1: (1 + 1 / 3) / 2, 2: (1 + 2 / 3) / 2, 3: 1.0})
    assert trials.pass_hat_k == pytest.approx({1: (1 + 1 / 3) / 2, 2: 0.5, 3: 0.5})
    assert (trials.temperature, trials.seed) == (0.7, 11)


def test_one_epoch_is_the_pass_rate() -> None:
    trials = summarize_trials(outcomes("PPFP"))
    assert trials.epochs == 1
    assert trials.pass_at_k == {1: 0.75} == trials.pass_hat_k
    assert trials.flaky_cases == ()


def test_the_report_records_trials_with_temperature_and_seed() -> None:
    base = _epochs("A", "PP") + _epochs("B", "PF")
    cand = _epochs("A", "PF") + _epochs("B", "FF")
    report = report_of(base, {"cand": cand}, seed_policy(), temperature=0.7, seed=5)
    trials = report.model("cand").trials
    assert trials is not None
    assert (trials.epochs, trials.temperature, trials.seed) == (2, 0.7, 5)
    assert trials.flaky_cases == ["A"]
    assert trials.pass_at_k == {"1": 0.25, "2": 0.5}
    assert trials.pass_hat_k == {"1": 0.25, "2": 0.0}
    assert [(c.case_id, c.pass_probability) for c in trials.cases] == [("A", 0.5), ("B", 0.0)]
    # Paired on the case: A went from 2/2 to 1/2, B from 1/2 to 0/2: two regressions.
    assert report.comparisons[0].regressions == 2


def test_rules_can_judge_repeated_trial_figures(tmp_path: Path, support_ops_dataset: Path) -> None:
    """pass^K, pass@K (K = epochs) and the flaky-case count are figures a rule may name."""
    config = tmp_path / "modelup.toml"
    config.write_text(
        f"""
[experiment]
use_mock_client = true
mode = "compare"
dataset_path = "{support_ops_dataset}"
epochs = 3

[llm]
temperature = 0.7

[mock]
baseline_profile = "steady"
candidate_profile = "drifting"

[[gate.rules]]
figure = "pass_hat_k"
comparison = "floor"
threshold = 0.99
authority = "conditional"

[[gate.rules]]
figure = "pass_at_k"
comparison = "max_regression"
threshold = 1
authority = "signal"

[[gate.rules]]
figure = "flaky_case_count"
comparison = "ceiling"
threshold = 100
authority = "block"
""",
        encoding="utf-8",
    )
    report_file = tmp_path / "report.json"
    outcome = CliRunner().invoke(
        app, ["run", "--config", str(config), "--report-file", str(report_file)]
    )
    assert outcome.exit_code == 3, outcome.output
    report = read_report(report_file)
    candidate = report.candidates[0]
    assert candidate.trials is not None
    assert candidate.summary["pass_hat_k"] == candidate.trials.pass_hat_k["3"]
    assert candidate.summary["pass_at_k"] == candidate.trials.pass_at_k["3"]
    assert candidate.summary["flaky_case_count"] == len(candidate.trials.flaky_cases)
    hat, at, flaky = report.decision.rules[:3]
    assert (hat.status, at.status, flaky.status) == ("failed", "passed", "passed")
    assert "pass^k" in hat.reason and report.decision.reasons == [hat.reason]


def test_errored_trials_are_left_out_not_failed() -> None:
    # B's second epoch errored: B has two scored trials, both passed. pass@3 and pass^3 are
    # over A only (the one case with three scored trials); B is not flaky.
    results = [
        *_epochs("A", "PFP"),
        result("B", True, epoch=0),
        result("B", False, epoch=1, error="HTTP 503"),
        result("B", True, epoch=2),
    ]
    trials = summarize_trials(results)
    assert trials.epochs == 3
    assert [(c.case_id, c.trials, c.passes) for c in trials.cases] == [("A", 3, 2), ("B", 2, 2)]
    assert trials.pass_hat_k[2] == pytest.approx((1 / 3 + 1) / 2)
    assert trials.pass_at_k[3] == 1.0 and trials.pass_hat_k[3] == 0.0
    assert trials.flaky_cases == ("A",)
    figures = trial_figures(results)
    assert figures == {"pass_at_k": 1.0, "pass_hat_k": 0.0, "flaky_case_count": 1}
