"""Repeated trials: per-case pass probability, pass@k, pass^k and flaky cases."""

from __future__ import annotations

import pytest

from modelup.decide.rules import seed_policy
from modelup.decide.trials import case_trials, summarize_trials
from modelup.evaluate.scoring import CaseResult
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
