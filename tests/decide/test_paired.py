"""Paired comparison: per-case values, transitions, McNemar and bootstrap against scipy, Holm
across challengers, and the statistics as they land in the report."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from modelup.config.rules import GateRule
from modelup.decide.bootstrap import paired_bootstrap_ci
from modelup.decide.figures import paired_figures
from modelup.decide.paired import (
    PairedCases,
    StatisticsSettings,
    compare_candidates,
    per_case,
    rule_evidence,
)
from modelup.decide.stats import holm_adjust
from modelup.decide.summary import summarize
from support.gatekit import TOY, outcomes, report_of, result

SETTINGS = StatisticsSettings(confidence=0.95, resamples=2000, seed=0)


def _rng_keyword(function: Any) -> str:
    return "rng" if "rng" in inspect.signature(function).parameters else "random_state"


def _binomtest() -> Any:
    return pytest.importorskip("scipy.stats").binomtest


def test_per_case_values_average_to_the_summary_figures() -> None:
    results = [
        result("A", True),
        result("B", False, safe=False, coverage=0.5),
        result("C", False, coverage=0.0),
        result("D", False, error="timeout"),
    ]
    summary = summarize(TOY, results)
    # Over the scored cases, as the summary is: the errored one is evidence of nothing.
    values = per_case(TOY, [r for r in results if r.error is None])
    for figure in paired_figures(TOY):
        mean = sum(v.values[figure] for v in values) / len(values)
        assert mean == pytest.approx(summary[figure]), figure
    assert "quality_score" in paired_figures(TOY)
    assert "p95_latency_ms" not in paired_figures(TOY)


def test_one_trial_and_several_give_each_case_the_same_kind_of_value() -> None:
    # A case's value is the mean of its trials, a sum from 0.0: one trial's -0.0 score is 0.0.
    once = per_case(TOY, [result("A", False, coverage=-0.0), result("B", True, coverage=0.25)])
    twice = per_case(
        TOY,
        [
            *(result("A", False, coverage=-0.0, epoch=e) for e in (0, 1)),
            *(result("B", True, coverage=0.25, epoch=e) for e in (0, 1)),
        ],
    )
    for one, two in zip(once, twice, strict=True):
        assert (one.trials, two.trials) == (1, 2)
        assert list(one.values.items()) == list(two.values.items())
        assert list(one.values) == list(paired_figures(TOY))
    coverage = once[0].values["required_action_coverage"]
    assert coverage == 0.0 and str(coverage) == "0.0"  # never -0.0


def _pair(regressions: int, fixes: int, both_pass: int, both_fail: int) -> PairedCases:
    base = "P" * regressions + "F" * fixes + "P" * both_pass + "F" * both_fail
    cand = "F" * regressions + "P" * fixes + "P" * both_pass + "F" * both_fail
    return PairedCases(TOY, outcomes(base), outcomes(cand))


@pytest.mark.parametrize(("b", "c"), [(6, 2), (0, 5), (13, 9), (25, 40), (3, 3)])
def test_mcnemar_on_the_transitions_matches_scipy(b: int, c: int) -> None:
    pair = _pair(b, c, 20, 4)
    change = pair.change("pass_rate", SETTINGS)
    assert change is not None
    assert (change.regressions, change.fixes) == (b, c)
    expected = _binomtest()(b, b + c, 0.5).pvalue
    assert change.p_value == pytest.approx(expected, rel=1e-12)
    greater = _binomtest()(b, b + c, 0.5, alternative="greater").pvalue
    assert change.p_regression == pytest.approx(greater, rel=1e-12)


def test_textbook_mcnemar_six_against_two() -> None:
    # Two-sided exact: 2 * P(X <= 2), X ~ Bin(8, 1/2) = 2 * 37 / 256.
    change = _pair(6, 2, 26, 2).change("pass_rate", SETTINGS)
    assert change is not None
    assert change.p_value == 74 / 256


def test_transitions_name_every_changed_case_in_order() -> None:
    base = outcomes("PPFFPF")
    cand = outcomes("PFPFFF")
    transitions, both_passed, both_failed = PairedCases(TOY, base, cand).transitions()
    assert [(t.case_id, t.kind) for t in transitions] == [
        ("C001", "regression"),
        ("C002", "fix"),
        ("C004", "regression"),
    ]
    assert (both_passed, both_failed) == (1, 2)


def test_bootstrap_is_the_seeded_paired_bootstrap_and_agrees_with_scipy() -> None:
    np = pytest.importorskip("numpy")
    stats = pytest.importorskip("scipy.stats")
    base = outcomes("PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPFFFFFF")
    cand = outcomes("PPPPPPPPPPPPPPPPPPPPPPPFFFFFFFPPFFFF")
    pair = PairedCases(TOY, base, cand)
    change = pair.change("pass_rate", SETTINGS)
    assert change is not None
    b = [float(r.passed) for r in base]
    c = [float(r.passed) for r in cand]
    direct = paired_bootstrap_ci(b, c, resamples=2000, seed=0)
    assert (change.delta, change.low, change.high) == (direct.delta, direct.low, direct.high)
    assert change.delta == pytest.approx(-5 / 36)
    again = pair.change("pass_rate", SETTINGS)
    assert again == change  # reproducible from its seed
    ref = stats.bootstrap(
        (np.array(b), np.array(c)),
        lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=20000,
        confidence_level=0.95,
        # scipy renamed ``random_state`` to ``rng``; use whichever this version has.
        **{_rng_keyword(stats.bootstrap): np.random.default_rng(0)},
    )
    assert change.low == pytest.approx(float(ref.confidence_interval.low), abs=0.03)
    assert change.high == pytest.approx(float(ref.confidence_interval.high), abs=0.03)


def test_epochs_pair_on_the_case_with_a_sign_test() -> None:
    # Two epochs each: C000 passes 2/2 then 1/2 (a regression), C001 0/2 then 1/2 (a fix),
    # C002 1/2 both (unchanged).
    base = [result("C000", True, epoch=0), result("C000", True, epoch=1)]
    base += [result("C001", False, epoch=0), result("C001", False, epoch=1)]
    base += [result("C002", True, epoch=0), result("C002", False, epoch=1)]
    cand = [result("C000", True, epoch=0), result("C000", False, epoch=1)]
    cand += [result("C001", True, epoch=0), result("C001", False, epoch=1)]
    cand += [result("C002", False, epoch=0), result("C002", True, epoch=1)]
    pair = PairedCases(TOY, base, cand)
    change = pair.change("pass_rate", SETTINGS)
    assert change is not None
    assert (change.n, change.regressions, change.fixes) == (3, 1, 1)
    transitions, both_passed, both_failed = pair.transitions()
    assert [(t.case_id, t.kind, t.baseline, t.candidate) for t in transitions] == [
        ("C000", "regression", 1.0, 0.5),
        ("C001", "fix", 0.0, 0.5),
    ]
    assert (both_passed, both_failed) == (0, 0)


def test_cases_that_do_not_pair_are_refused() -> None:
    with pytest.raises(ValueError, match="C002"):
        PairedCases(TOY, outcomes("PPP"), outcomes("PP"))


def test_rule_evidence_is_scoped_and_holm_adjusted_across_challengers() -> None:
    subset = ("policy-sensitive",)
    base = [result(f"S{i}", True, subsets=subset) for i in range(10)]
    base += [result(f"O{i}", True) for i in range(20)]
    worse = [result(f"S{i}", i >= 7, subsets=subset) for i in range(10)]  # 7 regressions
    worse += [result(f"O{i}", True) for i in range(20)]
    slightly = [result(f"S{i}", i >= 2, subsets=subset) for i in range(10)]  # 2 regressions
    slightly += [result(f"O{i}", True) for i in range(20)]
    rules = [
        GateRule(figure="pass_rate", comparison="max_regression", threshold=0, authority="block"),
        GateRule(
            figure="pass_rate",
            comparison="max_regression",
            threshold=0,
            authority="block",
            subset="policy-sensitive",
            require_significance=True,
        ),
    ]
    paired = [PairedCases(TOY, base, worse), PairedCases(TOY, base, slightly)]
    found = rule_evidence(rules, paired, SETTINGS)
    assert all(0 not in per_candidate for per_candidate in found)  # no significance asked
    first, second = found[0][1], found[1][1]
    assert (first.n, first.regressions, second.regressions) == (10, 7, 2)
    raw = [0.5**7, 0.5**2]  # one-sided exact: every discordant pair is a regression
    assert [first.p_regression, second.p_regression] == raw
    assert [first.p_regression_adjusted, second.p_regression_adjusted] == holm_adjust(raw)
    # Holm by hand: 2 * 0.5^7 for the smallest, then max(that, 1 * 0.25).
    assert first.p_regression_adjusted == 2 * 0.5**7
    assert second.p_regression_adjusted == 0.25


def test_compare_candidates_adjusts_mcnemar_with_holm() -> None:
    base = outcomes("P" * 30 + "F" * 6)
    names = ["a", "b", "c"]
    candidates = [
        outcomes("F" * 8 + "P" * 22 + "F" * 6),  # 8 regressions
        outcomes("P" * 30 + "P" * 6),  # 6 fixes
        outcomes("F" * 1 + "P" * 29 + "P" * 1 + "F" * 5),  # 1 and 1
    ]
    comparisons = compare_candidates(
        names, [PairedCases(TOY, base, cand) for cand in candidates], SETTINGS
    )
    raw = [c.pass_rate.p_value for c in comparisons]
    assert raw == [2 * 0.5**8, 2 * 0.5**6, 1.0]
    assert [c.p_value_adjusted for c in comparisons] == [3 * 2 * 0.5**8, 2 * 2 * 0.5**6, 1.0]
    assert [(c.regressions, c.fixes) for c in comparisons] == [(8, 0), (0, 6), (1, 1)]
    assert comparisons[0].quality_score is not None


def test_the_report_carries_comparisons_ranking_and_rule_statistics() -> None:
    base = outcomes("P" * 30 + "F" * 6)
    rules = [
        GateRule(
            figure="pass_rate",
            comparison="max_regression",
            threshold=0.05,
            authority="block",
            require_significance=True,
        )
    ]
    report = report_of(
        base,
        {
            "worse": outcomes("F" * 12 + "P" * 18 + "F" * 6),
            "better": outcomes("P" * 36),
            "same": outcomes("F" + "P" * 29 + "P" + "F" * 5),
        },
        rules,
    )
    verdicts = {d.candidate: d.verdict for d in report.decisions}
    assert verdicts == {"worse": "Rollback", "better": "Promote", "same": "Hold"}
    same = next(d for d in report.decisions if d.candidate == "same")
    assert same.rules[0].status == "inconclusive"
    assert same.rules[0].statistics is not None
    assert same.rules[0].statistics.cases_to_settle is not None
    assert [r.candidate for r in report.ranking] == ["better", "same", "worse"]
    assert report.recommended is not None
    assert report.recommended.candidate == report.decision.candidate == "better"
    assert "only candidate with the verdict Promote" in report.recommended.reason
    worse = report.comparisons[0]
    assert (worse.candidate, worse.regressions, worse.fixes) == ("worse", 12, 0)
    assert [t.case_id for t in worse.transitions] == [f"C{i:03d}" for i in range(12)]
    assert worse.mcnemar_p_value_holm == pytest.approx(3 * 2 * 0.5**12)
    assert report.model("worse").trials is not None


def test_an_errored_call_is_never_a_regression() -> None:
    # The candidate's last call errored: it is left out of the pairing, not counted as a case
    # the candidate failed (McNemar and the bootstrap see three paired cases, no regression).
    base = outcomes("PPPP")
    cand = [*outcomes("PPP"), result("C003", False, error="HTTP 503")]
    comparison = compare_candidates(["cand"], [PairedCases(TOY, base, cand)], SETTINGS)[0]
    assert (comparison.case_count, comparison.regressions, comparison.transitions) == (3, 0, ())
    assert comparison.pass_rate.delta == 0.0


def test_a_candidate_with_nothing_paired_compares_as_no_evidence() -> None:
    base = outcomes("PP")
    cand = [result("C000", False, error="HTTP 503"), result("C001", False, error="HTTP 503")]
    comparison = compare_candidates(["cand"], [PairedCases(TOY, base, cand)], SETTINGS)[0]
    assert comparison.case_count == 0 and comparison.pass_rate.p_value == 1.0
