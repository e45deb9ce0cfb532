"""The gate: raw rules as the seed writes them, scopes, evidence gaps, and significance."""

from __future__ import annotations

import pytest

from modelup.config.rules import AUTHORITIES, COMPARISONS, GateRule
from modelup.decide.gate import ON_FAIL, Figures, Verdict, judge
from modelup.decide.rules import seed_policy, with_evidence_rules
from modelup.decide.significance import PairedEvidence

BASE = {
    "case_count": 36,
    "pass_rate": 0.8,
    "structured_output_rate": 1.0,
    "safety_pass_rate": 1.0,
    "p95_latency_ms": 1000.0,
    "quality_score": 0.80,
    "error_count": 0,
    "identity_drift": 0,
    "identity_changes": 0,
}


def cand(**changes: float | None) -> dict[str, float | None]:
    return {**BASE, **changes}


def test_seed_policy_promotes_a_clear_improvement() -> None:
    decision = judge(seed_policy(), BASE, cand(pass_rate=0.9, quality_score=0.85))
    assert decision.verdict is Verdict.PROMOTE
    assert [o.status for o in decision.rules] == ["passed"] * 5


@pytest.mark.parametrize(
    ("changes", "verdict", "failing"),
    [
        ({"safety_pass_rate": 0.97, "quality_score": 0.9}, Verdict.ROLLBACK, "safety"),
        (
            {"structured_output_rate": 0.99, "quality_score": 0.9},
            Verdict.ROLLBACK,
            "structured output",
        ),
        ({"pass_rate": 0.79, "quality_score": 0.9}, Verdict.ROLLBACK, "pass rate"),
        ({"p95_latency_ms": 1351.0, "quality_score": 0.9}, Verdict.HOLD, "p95 latency"),
        ({"quality_score": 0.805}, Verdict.HOLD, "quality score"),
    ],
)
def test_each_seed_rule_fails_to_its_authority(
    changes: dict[str, float], verdict: Verdict, failing: str
) -> None:
    decision = judge(seed_policy(), BASE, cand(**changes))
    assert decision.verdict is verdict
    assert [o.rule.title for o in decision.rules if not o.passed] == [failing]


def test_max_regression_is_written_as_the_seed_writes_it() -> None:
    # 0.3 + 0.1 == 0.4 in floating point, but 0.4 - 0.1 > 0.3: the seed passes this candidate.
    rule = GateRule(
        figure="pass_rate", comparison="max_regression", threshold=0.1, authority="block"
    )
    assert judge([rule], {"pass_rate": 0.4}, {"pass_rate": 0.3}).verdict is Verdict.PROMOTE
    assert judge([rule], {"pass_rate": 0.4}, {"pass_rate": 0.29}).verdict is Verdict.ROLLBACK


def test_relative_comparisons_follow_mlflow() -> None:
    gain = GateRule(
        figure="quality_score",
        comparison="min_relative_improvement",
        threshold=0.05,
        authority="conditional",
    )
    assert judge([gain], {"quality_score": 0.8}, {"quality_score": 0.85}).verdict == "Promote"
    held = judge([gain], {"quality_score": 0.8}, {"quality_score": 0.82})
    assert held.verdict is Verdict.HOLD
    assert "+2.5%" in held.reasons[0]
    drop = GateRule(
        figure="pass_rate", comparison="max_relative_regression", threshold=0.10, authority="block"
    )
    assert judge([drop], {"pass_rate": 0.5}, {"pass_rate": 0.45}).verdict == "Promote"
    assert judge([drop], {"pass_rate": 0.5}, {"pass_rate": 0.44}).verdict == "Rollback"


def test_floor_ceiling_and_signal() -> None:
    rules = [
        GateRule(figure="pass_rate", comparison="floor", threshold=0.85, authority="signal"),
        GateRule(
            figure="p95_latency_ms", comparison="ceiling", threshold=900, authority="conditional"
        ),
    ]
    decision = judge(rules, BASE, cand())
    assert decision.verdict is Verdict.HOLD  # the signal failure is reported, not acted on
    assert [o.passed for o in decision.rules] == [False, False]
    assert len(decision.reasons) == 1 and "ceiling" in decision.reasons[0]


def test_scoped_rules_read_their_subset_or_family() -> None:
    base = Figures(BASE, {"billing": {"pass_rate": 1.0}}, {"policy-sensitive": {"pass_rate": 1.0}})
    worse = Figures(BASE, {"billing": {"pass_rate": 0.5}}, {"policy-sensitive": {"pass_rate": 1.0}})
    subset = GateRule(
        figure="pass_rate",
        comparison="max_regression",
        threshold=0,
        authority="block",
        subset="policy-sensitive",
    )
    family = GateRule(
        figure="pass_rate",
        comparison="max_regression",
        threshold=0,
        authority="conditional",
        family="billing",
    )
    decision = judge([subset, family], base, worse)
    assert [o.status for o in decision.rules] == ["passed", "failed"]
    assert decision.verdict is Verdict.HOLD
    assert "(family billing)" in decision.reasons[0]
    assert family.title == "pass_rate in family billing max_regression"


def test_a_scope_without_cases_never_promotes() -> None:
    rule = GateRule(
        figure="pass_rate",
        comparison="max_regression",
        threshold=0,
        authority="block",
        subset="tool-posture",
    )
    decision = judge([rule], Figures(BASE, {}, {}), Figures(BASE, {}, {}))
    assert decision.verdict is Verdict.HOLD
    assert decision.rules[0].status == "missing"
    assert "no cases in subset tool-posture" in decision.reasons[0]


def test_missing_figure_and_errors_hold() -> None:
    decision = judge(seed_policy(), BASE, cand(p95_latency_ms=None, quality_score=0.9))
    assert decision.verdict is Verdict.HOLD
    rules = with_evidence_rules(seed_policy())
    errored = judge(rules, BASE, cand(quality_score=0.9, error_count=2))
    assert errored.verdict is Verdict.HOLD
    failed = [outcome for outcome in errored.rules if outcome.status != "passed"]
    assert [outcome.rule.name for outcome in failed] == ["errored calls"]
    assert errored.reasons == (failed[0].reason,)
    assert "Candidate has 2 errored call(s) out of 36" in errored.reasons[0]
    assert "never promoted on errored evidence" in errored.reasons[0]


def test_an_errored_baseline_holds_too() -> None:
    errored = judge(
        with_evidence_rules(seed_policy()), cand(error_count=1), cand(quality_score=0.9)
    )
    assert errored.verdict is Verdict.HOLD
    assert "Baseline has 1 errored call(s) out of 36" in errored.reasons[0]
    assert "the comparison is unsound" in errored.reasons[0]


def test_a_rule_on_the_evidence_holds_and_never_rolls_back() -> None:
    # Block authority blocks the release; evidence that is not about the model says nothing
    # about it, so it cannot prove a regression: Hold, not Rollback.
    rule = GateRule(figure="error_rate", comparison="ceiling", threshold=0.05, authority="block")
    held = judge([rule], cand(error_rate=0.0), cand(error_rate=0.5, error_count=18))
    assert held.verdict is Verdict.HOLD and held.rules[0].status == "failed"
    tolerated = judge([rule], cand(error_rate=0.0), cand(error_rate=0.03, error_count=1))
    assert tolerated.verdict is Verdict.PROMOTE


def test_rollback_trigger_acts_as_block_offline() -> None:
    rule = GateRule(
        figure="pass_rate", comparison="max_regression", threshold=0, authority="rollback_trigger"
    )
    assert judge([rule], BASE, cand(pass_rate=0.7)).verdict is Verdict.ROLLBACK
    assert judge([rule], BASE, cand(pass_rate=0.8)).verdict is Verdict.PROMOTE


def test_every_authority_gives_a_verdict() -> None:
    assert set(ON_FAIL) == set(AUTHORITIES)
    assert "rollback_trigger" in AUTHORITIES


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_a_passing_rule_reads_as_a_pass_with_its_figures_and_threshold(comparison: str) -> None:
    threshold = {"floor": 0.5, "ceiling": 0.95, "max_increase_percent": 35.0}.get(comparison, 0.0)
    rule = GateRule.model_validate(
        {"figure": "pass_rate", "comparison": comparison, "threshold": threshold}
        | {"authority": "block"}
    )
    outcome = judge([rule], BASE, cand(pass_rate=0.9)).rules[0]
    assert outcome.status == "passed"
    for word in ("regressed", "is below the", "is above the", "exceeded", "fell", "gain is below"):
        assert word not in outcome.reason, outcome.reason
    assert "90.0%" in outcome.reason  # the candidate's figure
    if comparison not in ("floor", "ceiling"):
        assert "80.0%" in outcome.reason  # and the baseline's


def test_the_seed_rules_read_as_passes_when_they_pass() -> None:
    decision = judge(seed_policy(), BASE, cand(pass_rate=0.9, quality_score=0.85))
    reasons = [outcome.reason for outcome in decision.rules]
    assert reasons[0] == (
        "Safety pass rate 100.0% vs baseline 100.0%: within the allowed regression 0.0%."
    )
    assert reasons[3] == (
        "P95 latency 1000 ms vs 1350 ms allowed (baseline 1000 ms + 35%): within the limit."
    )
    assert reasons[4] == (
        "Quality score 0.850 vs baseline 0.800: the gain +0.050 meets the minimum +0.010."
    )


def test_a_scope_where_every_call_errored_says_so() -> None:
    rule = GateRule(
        figure="safety_pass_rate", comparison="max_regression", threshold=0, authority="block"
    )
    outcome = judge([rule], BASE, cand(safety_pass_rate=None, error_count=36, case_count=36)).rules[
        0
    ]
    assert outcome.status == "missing"
    assert "every candidate call errored (36), so nothing was scored" in outcome.reason


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="not both"):
        GateRule(
            figure="pass_rate",
            comparison="floor",
            threshold=0.5,
            authority="block",
            subset="a",
            family="b",
        )
    with pytest.raises(ValueError, match="finite"):
        GateRule(figure="pass_rate", comparison="floor", threshold=float("nan"), authority="block")
    with pytest.raises(ValueError, match="significance"):
        GateRule(
            figure="p95_latency_ms",
            comparison="max_increase_percent",
            threshold=35,
            authority="conditional",
            require_significance=True,
        )


# --- significance --------------------------------------------------------------------------


def evidence(
    low: float, high: float, estimate: float, *, p_reg: float = 1.0, p_imp: float = 1.0
) -> PairedEvidence:
    return PairedEvidence(
        n=36,
        estimate=estimate,
        low=low,
        high=high,
        confidence=0.95,
        p_regression=p_reg,
        p_improvement=p_imp,
        p_regression_adjusted=p_reg,
        p_improvement_adjusted=p_imp,
    )


SIG_REGRESSION = GateRule(
    figure="pass_rate",
    comparison="max_regression",
    threshold=0.05,
    authority="block",
    require_significance=True,
)


def test_significant_regression_blocks() -> None:
    decision = judge(
        [SIG_REGRESSION],
        BASE,
        cand(pass_rate=0.6),
        evidence={0: evidence(-0.33, -0.08, -0.2, p_reg=0.001)},
    )
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.rules[0].status == "failed"
    assert "regressed significantly" in decision.reasons[0]


def test_a_regression_that_is_not_significant_is_inconclusive_with_a_case_estimate() -> None:
    decision = judge(
        [SIG_REGRESSION],
        BASE,
        cand(pass_rate=0.7),
        evidence={0: evidence(-0.22, 0.02, -0.1, p_reg=0.2)},
    )
    outcome = decision.rules[0]
    assert decision.verdict is Verdict.HOLD
    assert outcome.status == "inconclusive"
    # Half-width 0.12, distance 0.05 from the limit: n' > 36 * (0.12 / 0.05)^2 = 207.36.
    assert outcome.cases_to_settle == 208
    assert "inconclusive" in decision.reasons[0]
    assert "about 208 cases would settle it (36 now)" in decision.reasons[0]


def test_a_clear_interval_passes_a_significance_rule() -> None:
    decision = judge(
        [SIG_REGRESSION], BASE, cand(pass_rate=0.8), evidence={0: evidence(-0.04, 0.04, 0.0)}
    )
    assert decision.rules[0].status == "passed"
    assert decision.verdict is Verdict.PROMOTE


def test_an_interval_past_the_limit_without_a_significant_test_is_inconclusive() -> None:
    decision = judge(
        [SIG_REGRESSION],
        BASE,
        cand(pass_rate=0.6),
        evidence={0: evidence(-0.3, -0.1, -0.2, p_reg=0.06)},
    )
    assert decision.rules[0].status == "inconclusive"
    assert "not significant" in decision.reasons[0]


def test_a_required_gain_must_be_significant() -> None:
    rule = GateRule(
        figure="quality_score",
        comparison="min_improvement",
        threshold=0.01,
        authority="conditional",
        require_significance=True,
    )
    up = cand(quality_score=0.85)
    promoted = judge([rule], BASE, up, evidence={0: evidence(0.02, 0.08, 0.05, p_imp=0.001)})
    assert promoted.verdict is Verdict.PROMOTE
    not_sig = judge([rule], BASE, up, evidence={0: evidence(0.02, 0.08, 0.05, p_imp=0.2)})
    assert not_sig.verdict is Verdict.HOLD and not_sig.rules[0].status == "inconclusive"
    short = judge([rule], BASE, up, evidence={0: evidence(-0.05, 0.005, -0.02)})
    assert short.rules[0].status == "failed" and short.verdict is Verdict.HOLD


def test_a_significance_rule_without_statistics_never_promotes() -> None:
    decision = judge([SIG_REGRESSION], BASE, cand(pass_rate=0.9))
    assert decision.verdict is Verdict.HOLD
    assert decision.rules[0].status == "missing"


def test_a_signal_rule_never_changes_the_verdict_even_when_inconclusive() -> None:
    rule = GateRule(
        figure="pass_rate",
        comparison="floor",
        threshold=0.75,
        authority="signal",
        require_significance=True,
    )
    decision = judge([rule], BASE, cand(), evidence={0: evidence(0.7, 0.9, 0.8)})
    assert decision.rules[0].status == "inconclusive"
    assert decision.verdict is Verdict.PROMOTE
