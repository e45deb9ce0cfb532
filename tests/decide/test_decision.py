"""The run's Decision: the ranking of several candidates and the sentence that recommends one.

Ties are broken by strictness (strict structured output rate, then repair rate), never by the
order on the command line, and the recommendation says which criterion decided."""

from __future__ import annotations

import dataclasses

import pytest

from modelup.decide.decision import RANKING_CRITERIA
from modelup.decide.rules import seed_policy
from modelup.evaluate.scoring import CaseResult
from support.gatekit import outcomes, report_of

RULES = seed_policy(min_quality_score_improvement=0.0)
BASE = outcomes("PPPPPPPF")


def repaired(results: list[CaseResult], count: int) -> list[CaseResult]:
    """The same outcomes, the first ``count`` answers having needed a repair to parse."""
    fence = ("extracted JSON from a markdown code fence",)
    return [
        dataclasses.replace(r, strict_valid=False, repairs=fence) if index < count else r
        for index, r in enumerate(results)
    ]


def test_an_answer_that_needed_repair_is_never_recommended_over_a_strict_one() -> None:
    same = outcomes("PPPPPPPF")
    report = report_of(BASE, {"sloppy": repaired(same, 3), "strict": same}, RULES)
    assert [d.verdict for d in report.decisions] == ["Promote", "Promote"]
    assert [r.candidate for r in report.ranking] == ["strict", "sloppy"]
    assert report.ranking[0].decided_by == "strict_structured_output_rate"
    assert report.ranking[0].strict_structured_output_rate == 1.0
    assert report.ranking[1].strict_structured_output_rate == pytest.approx(5 / 8)
    assert report.recommended is not None and report.recommended.candidate == "strict"
    reason = report.recommended.reason
    assert "highest strict structured output rate" in reason and "100.0% vs 62.5%" in reason


def test_the_repair_rate_breaks_a_tie_in_strictness() -> None:
    # Both are strict on 5 of 8 answers; "more" needed 3 repairs, "fewer" only 1 (its two
    # other non-strict answers were accepted without a recorded repair).
    same = outcomes("PPPPPPPF")
    fewer = [
        dataclasses.replace(r, strict_valid=False) if index in (3, 4) else r
        for index, r in enumerate(repaired(same, 1))
    ]
    report = report_of(BASE, {"more": repaired(same, 3), "fewer": fewer}, RULES)
    assert [r.candidate for r in report.ranking] == ["fewer", "more"]
    assert report.ranking[0].decided_by == "repair_rate"
    assert report.recommended is not None
    assert "then the lowest repair rate: 12.5% vs 37.5%" in report.recommended.reason


def test_the_order_given_is_the_last_resort_and_says_so() -> None:
    same = outcomes("PPPPPPPF")
    report = report_of(BASE, {"first": same, "second": list(same)}, RULES)
    assert [r.candidate for r in report.ranking] == ["first", "second"]
    assert report.ranking[0].decided_by == "order given"
    assert report.ranking[1].decided_by is None
    assert report.recommended is not None
    assert "ranked by the order given, the last resort" in report.recommended.reason


def test_the_verdict_then_the_quality_score_come_first() -> None:
    report = report_of(BASE, {"worse": outcomes("PPPPPPFF"), "better": outcomes("PPPPPPPP")}, RULES)
    assert [r.candidate for r in report.ranking] == ["better", "worse"]
    assert report.ranking[0].decided_by == "verdict"
    assert RANKING_CRITERIA[:2] == ("verdict", "quality_score")
