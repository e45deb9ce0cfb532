"""The grader's figures from hand-made judgements: rates over every trial with case-resampled
intervals, errors that count as nothing, disagreement, rubric means and change, conflicts with
the checks, and the cost."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from modelup.decide.bootstrap import paired_bootstrap_ci
from modelup.decide.grader import grader_evidence, grader_figure_names
from modelup.decide.paired import StatisticsSettings
from modelup.evaluate.grading import (
    GraderPlan,
    GraderTarget,
    Mode,
    OrderVerdict,
    PairJudgement,
    RubricJudgement,
    Tally,
)
from modelup.evaluate.grading_run import Grading
from modelup.evaluate.scoring import CaseResult
from modelup.models.pricing import Price
from modelup.workflow.base import Criterion
from support.gatekit import outcomes, result

STATS = StatisticsSettings(resamples=500, seed=3)
RUBRIC = (Criterion("clarity", ""), Criterion("tone", ""))


def plan(*, rubric: bool = True, price: Price | None = None) -> GraderPlan:
    return GraderPlan(
        GraderTarget("judge", "simulated", price=price),
        pairwise=True,
        rubric=RUBRIC if rubric else (),
        fields=("summary",),
    )


def judged(outcome: str, *, disagree: bool = False) -> PairJudgement:
    """A pair the grader answered in both orders."""
    if outcome == "error":
        orders = (OrderVerdict(True, "candidate", "r"), OrderVerdict(False, None, error="x"))
    elif outcome == "tie" and disagree:
        orders = (OrderVerdict(True, "baseline", "r"), OrderVerdict(False, "candidate", "r"))
    else:
        side = {"win": "candidate", "loss": "baseline", "tie": "tie"}[outcome]
        orders = (OrderVerdict(True, side, "r"), OrderVerdict(False, side, "r"))  # type: ignore[arg-type]
    return PairJudgement(outcome, orders)  # type: ignore[arg-type]


def grading(
    pairs: Sequence[PairJudgement],
    rubric: Sequence[Sequence[RubricJudgement]] = (),
    *,
    graded_plan: GraderPlan | None = None,
    tallies: dict[Mode, Tally] | None = None,
) -> Grading:
    return Grading(
        plan=graded_plan or plan(rubric=bool(rubric)),
        pairs=(tuple(pairs),) if pairs else (),
        rubric=tuple(tuple(r) for r in rubric),
        tallies=tallies or {"pairwise": Tally(), "rubric": Tally()},
    )


def results(n: int, epochs: int = 1) -> list[list[CaseResult]]:
    per = [
        result(f"C{case:03d}", True, epoch=epoch) for case in range(n) for epoch in range(epochs)
    ]
    return [per, list(per)]


def test_rates_count_every_trial_and_an_error_is_nothing() -> None:
    pairs = [judged(o) for o in ["win"] * 5 + ["loss"] * 2 + ["tie"] * 2 + ["error"]]
    evidence = grader_evidence(grading(pairs), results(10), ["base", "cand"], STATS)
    (figures,) = evidence.pairwise
    assert (figures.wins, figures.losses, figures.ties, figures.errors) == (5, 2, 2, 1)
    assert figures.win_rate.estimate == pytest.approx(0.5)
    assert figures.loss_rate.estimate == pytest.approx(0.2)
    assert figures.tie_rate.estimate == pytest.approx(0.2)
    assert figures.net_win_rate.estimate == pytest.approx(0.3)
    assert figures.error_rate == pytest.approx(0.1)
    for rate in (figures.win_rate, figures.loss_rate, figures.tie_rate, figures.net_win_rate):
        assert rate.low <= rate.estimate <= rate.high
    assert figures.win_rate.low < 0.5 < figures.win_rate.high  # ten cases: a wide interval
    again = grader_evidence(grading(pairs), results(10), ["base", "cand"], STATS)
    assert again.pairwise == evidence.pairwise  # seeded: the same interval every time


def test_the_interval_resamples_whole_cases_over_their_epochs() -> None:
    # Case C000 won in both epochs, C001 lost in both, C002 won one and tied one.
    pairs = [judged(o) for o in ("win", "win", "loss", "loss", "win", "tie")]
    evidence = grader_evidence(grading(pairs), results(3, epochs=2), ["base", "cand"], STATS)
    expected = paired_bootstrap_ci(
        [0.0] * 3, [1.0, 0.0, 0.5], confidence=0.95, resamples=500, seed=3
    )
    win = evidence.pairwise[0].win_rate
    assert (win.estimate, win.low, win.high) == (expected.delta, expected.low, expected.high)


def test_disagreement_is_over_the_pairs_the_grader_answered_in_both_orders() -> None:
    pairs = [
        judged("tie", disagree=True),
        judged("win"),
        judged("win"),
        judged("loss"),
        judged("error"),
        PairJudgement("win", note="the baseline gave no answer in the contract"),
    ]
    evidence = grader_evidence(grading(pairs), results(6), ["base", "cand"], STATS)
    figures = evidence.pairwise[0]
    assert figures.disagreements == 1 and figures.by_contract == 1
    assert figures.disagreement_rate == pytest.approx(1 / 4)


def test_rubric_means_counts_and_the_paired_change() -> None:
    def scores(clarity: int, tone: int) -> RubricJudgement:
        return RubricJudgement(scores={"clarity": clarity, "tone": tone}, reason="r")

    base = [scores(3, 3), scores(4, 4), RubricJudgement(error="x"), scores(2, 2)]
    cand = [scores(5, 3), scores(5, 5), scores(5, 5), RubricJudgement(skipped="none")]
    evidence = grader_evidence(
        grading([judged("tie")] * 4, [base, cand], graded_plan=plan()),
        results(4),
        ["base", "cand"],
        STATS,
    )
    base_figures, cand_figures = evidence.rubric
    assert (base_figures.graded, base_figures.errored, base_figures.skipped) == (3, 1, 0)
    assert (cand_figures.graded, cand_figures.errored, cand_figures.skipped) == (3, 0, 1)
    assert base_figures.criteria == {"clarity": 3.0, "tone": 3.0}
    assert cand_figures.criteria == {"clarity": 5.0, "tone": pytest.approx(13 / 3)}
    assert cand_figures.score == pytest.approx((4 + 5 + 5) / 3)
    (change,) = evidence.rubric_changes
    # Only C000 and C001 have both answers graded: (4 - 3 + 5 - 4) / 2.
    assert change.n == 2 and change.delta == pytest.approx(1.0)
    assert change.low <= change.delta <= change.high


def test_a_preferred_answer_that_failed_a_check_the_other_passed_is_a_conflict() -> None:
    base = outcomes("PPPPF")
    cand = [
        result("C000", False, safe=False),  # preferred, failed safety the baseline passed
        result("C001", False, safe=False),  # not preferred: no conflict
        result("C002", False, safe=False),  # preferred, but decided without the grader
        result("C003", True),
        result("C004", True),
    ]
    base[4] = result("C004", False, safe=False)  # baseline preferred, failed safety
    pairs = [
        judged("win"),
        judged("loss"),
        PairJudgement("win", note="the baseline gave no answer in the contract"),
        judged("win"),
        judged("loss"),
    ]
    evidence = grader_evidence(grading(pairs), [base, cand], ["base", "cand"], STATS)
    (conflicts,) = evidence.conflicts
    assert [(c.case_id, c.preferred, c.failed_checks) for c in conflicts] == [
        ("C000", "candidate", ("safety",)),
        ("C004", "baseline", ("safety",)),
    ]


def test_rubric_only_conflicts_come_from_the_scores() -> None:
    high = RubricJudgement(scores={"clarity": 5, "tone": 5}, reason="r")
    low = RubricJudgement(scores={"clarity": 1, "tone": 1}, reason="r")
    graded = Grading(plan(), (), ((low, high), (high, high)), {})
    base = outcomes("PP")
    cand = [result("C000", False, safe=False), result("C001", False, safe=False)]
    evidence = grader_evidence(graded, [base, cand], ["base", "cand"], STATS)
    assert [c.case_id for c in evidence.conflicts[0]] == ["C000"]


def test_grading_costs_the_tokens_at_the_graders_price() -> None:
    tallies: dict[Mode, Tally] = {
        "pairwise": Tally(calls=4, prompt_tokens=1000, completion_tokens=100),
        "rubric": Tally(calls=2, failed=1, prompt_tokens=500, completion_tokens=50),
    }
    priced = plan(price=Price(2.0, 10.0))
    evidence = grader_evidence(
        grading([judged("win")], graded_plan=priced, tallies=tallies),
        results(1),
        ["base", "cand"],
        STATS,
    )
    assert evidence.total.calls == 6 and evidence.total.failed == 1
    assert evidence.cost_usd == pytest.approx((1500 * 2.0 + 150 * 10.0) / 1e6)
    unpriced = grader_evidence(
        grading([judged("win")], tallies=tallies), results(1), ["base", "cand"], STATS
    )
    assert unpriced.cost_usd is None


def test_figure_names() -> None:
    assert grader_figure_names(plan(rubric=False))[0] == "grader_win_rate"
    assert grader_figure_names(plan())[-3:] == (
        "rubric_score",
        "rubric_clarity_score",
        "rubric_tone_score",
    )
