"""The grader's rules: signals by default, which never change a verdict; raised on purpose to
conditional they may Hold, never overturn a deterministic Block; never block themselves."""

from __future__ import annotations

import dataclasses
import random

import pytest

from modelup.config.rules import GateRule
from modelup.decide.evidence import measure
from modelup.decide.gate import Verdict, judge
from modelup.decide.grader import RUBRIC_SCORE, grader_evidence
from modelup.decide.grader_rules import (
    check_grader_figures,
    default_grader_rules,
    with_grader_figures,
    with_grader_rules,
)
from modelup.decide.paired import StatisticsSettings
from modelup.decide.rules import seed_policy
from modelup.errors import ConfigError
from modelup.evaluate.grading import GraderPlan, GraderTarget, OrderVerdict, PairJudgement
from modelup.evaluate.grading_run import Grading
from modelup.evaluate.targets import ModelTarget
from modelup.workflow.base import CheckSpec, Criterion
from support.gatekit import TOY, outcomes

PLAN = GraderPlan(
    GraderTarget("judge", "simulated"),
    pairwise=True,
    rubric=(Criterion("clarity", ""),),
    fields=("summary",),
)


def rule(figure: str, authority: str = "conditional", **extra: object) -> GateRule:
    return GateRule.model_validate(
        {"figure": figure, "comparison": "floor", "threshold": 0.0, "authority": authority} | extra
    )


def test_the_default_rules_are_signals_one_per_mode() -> None:
    rules = default_grader_rules(PLAN)
    assert [(r.name, r.figure, r.authority) for r in rules] == [
        ("grader preference", "grader_net_win_rate", "signal"),
        ("grader rubric", RUBRIC_SCORE, "signal"),
    ]
    raised = default_grader_rules(PLAN, "conditional")
    assert {r.authority for r in raised} == {"conditional"}


def test_defaults_follow_the_run_rules_unless_a_rule_reads_a_grader_figure() -> None:
    seed = seed_policy()
    assert with_grader_rules(seed, PLAN) == (*seed, *default_grader_rules(PLAN))
    own = (*seed, rule("grader_win_rate", threshold=0.4))
    assert with_grader_rules(own, PLAN) == own


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"authority": "block"}, "a grader figure cannot block"),
        ({"subset": "policy-sensitive"}, "judged over the whole run, not a subset"),
        ({"family": "billing"}, "not a family billing"),
        (
            {"require_significance": True, "comparison": "min_improvement"},
            "cannot require significance",
        ),
    ],
)
def test_a_grader_rule_that_would_block_or_pretend_is_refused(
    extra: dict[str, object], message: str
) -> None:
    bad = rule("rubric_score", **extra)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=rf"gate.rules\[1\] \(.*\): .*{message}"):
        with_grader_rules((seed_policy()[0], bad), PLAN)


def test_a_grader_figure_may_not_shadow_a_workflow_figure() -> None:
    clash = GraderPlan(PLAN.target, False, (Criterion("x", ""),), ("summary",))
    check_grader_figures(clash, TOY)  # no clash
    workflow = dataclasses.replace(
        TOY, checks=(*TOY.checks, CheckSpec("odd", "toy", "rubric_x_score"))
    )
    with pytest.raises(ConfigError, match="'rubric_x_score' is already one of"):
        check_grader_figures(clash, workflow)


def test_grader_figures_enter_every_summary() -> None:
    base, cand = outcomes("PPPP"), outcomes("PPPP")
    targets = [
        ModelTarget("baseline", "base", "simulated"),
        ModelTarget("candidate", "cand", "simulated"),
    ]
    evidence = [measure(TOY, t, r) for t, r in zip(targets, (base, cand), strict=True)]
    pairs = tuple(
        PairJudgement("win", (OrderVerdict(True, "candidate"), OrderVerdict(False, "candidate")))
        for _ in range(4)
    )
    graded = Grading(GraderPlan(PLAN.target, True, (), ("summary",)), (pairs,), (), {})
    found = grader_evidence(graded, [base, cand], ["base", "cand"], StatisticsSettings())
    updated = with_grader_figures(evidence, found)
    assert list(updated[1].summary)[: len(evidence[1].summary)] == list(evidence[1].summary)
    assert updated[1].summary["grader_win_rate"] == 1.0
    assert updated[1].summary["grader_net_win_rate"] == 1.0
    assert updated[0].summary["grader_win_rate"] is None  # the baseline is not its own rival
    assert "rubric_score" not in updated[0].summary


def _summary(rng: random.Random, grader: bool) -> dict[str, float | None]:
    figures: dict[str, float | None] = {
        "case_count": 40,
        "error_count": float(rng.random() < 0.1),
        "safety_pass_rate": rng.choice([0.9, 0.95, 1.0]),
        "structured_output_rate": rng.choice([0.95, 1.0]),
        "pass_rate": rng.choice([0.7, 0.8, 0.9]),
        "p95_latency_ms": rng.uniform(800, 1600),
        "quality_score": rng.uniform(0.7, 0.95),
    }
    if grader:
        figures["grader_net_win_rate"] = rng.choice([None, -0.5, -0.1, 0.0, 0.3])
        figures[RUBRIC_SCORE] = rng.choice([None, 1.5, 3.0, 4.5])
    return figures


def test_a_signal_rule_never_changes_a_verdict_and_a_raised_one_never_overturns_a_block() -> None:
    rng = random.Random(15)
    deterministic = seed_policy()
    severity = {Verdict.PROMOTE: 0, Verdict.HOLD: 1, Verdict.ROLLBACK: 2}
    changed_by_raised = 0
    for _ in range(2000):
        base, cand = _summary(rng, True), _summary(rng, True)
        alone = judge(deterministic, base, cand)
        signal = judge(with_grader_rules(deterministic, PLAN, "signal"), base, cand)
        raised = judge(with_grader_rules(deterministic, PLAN, "conditional"), base, cand)
        assert signal.verdict == alone.verdict
        assert signal.reasons == alone.reasons
        assert severity[raised.verdict] >= severity[alone.verdict]
        if alone.verdict is Verdict.ROLLBACK:
            assert raised.verdict is Verdict.ROLLBACK
        changed_by_raised += raised.verdict != alone.verdict
    assert changed_by_raised > 0  # raised on purpose, grader rules do decide sometimes
