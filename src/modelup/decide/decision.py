"""The ``Decision`` a run ends in: the gate's verdict on every candidate, the paired comparison
of each with the baseline, the ranking and the candidate to act on.

This is the domain answer of a run. The report records it, the CLI prints it and maps it to an
exit code, and a release record or a canary analysis can take it without building a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from modelup.config.rules import GateRule
from modelup.decide.evidence import ModelEvidence
from modelup.decide.figures import CaseLike, format_figure
from modelup.decide.gate import Judgement, RuleOutcome, Verdict, judge
from modelup.decide.paired import (
    CandidateComparison,
    PairedCases,
    StatisticsSettings,
    compare_candidates,
    rule_evidence,
)
from modelup.workflow.base import Workflow

Mode = Literal["compare", "shadow"]

SHADOW_REASON = (
    "Shadow mode keeps the baseline model authoritative while the candidate is scored offline."
)
_SEVERITY = {Verdict.PROMOTE: 0, Verdict.HOLD: 1, Verdict.ROLLBACK: 2}


@dataclass(frozen=True, slots=True)
class CandidateDecision:
    """The gate's verdict on one candidate against the baseline."""

    candidate: str
    verdict: Verdict
    reasons: tuple[str, ...]
    """Every failed or inconclusive rule and evidence gap; in shadow mode, that the baseline
    stays authoritative."""
    rules: tuple[RuleOutcome, ...]
    authoritative_model: str
    """The model that serves traffic after this run: the candidate only on Promote in compare
    mode; in shadow mode the baseline stays authoritative whatever the verdict."""


@dataclass(frozen=True, slots=True)
class Ranked:
    """One candidate's place in the ranking, with its headline evidence."""

    rank: int
    candidate: str
    verdict: Verdict
    quality_score: float | None
    pass_rate: float | None
    pass_rate_delta: float | None
    regressions: int
    fixes: int
    p_value_holm: float


@dataclass(frozen=True, slots=True)
class Decision:
    """What a run decided: a verdict per candidate (in the order given), the paired comparison
    of each with the baseline, the candidates ranked best first, and the one to act on."""

    candidates: tuple[CandidateDecision, ...]
    comparisons: tuple[CandidateComparison, ...]
    ranking: tuple[Ranked, ...]
    recommendation: str
    """Why the first-ranked candidate is the one to act on, in a sentence."""

    @property
    def recommended(self) -> CandidateDecision:
        best = self.ranking[0].candidate
        return next(c for c in self.candidates if c.candidate == best)

    @property
    def verdict(self) -> Verdict:
        """The verdict on the recommended candidate: what a pipeline acts on."""
        return self.recommended.verdict

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.recommended.reasons


def decide_run(
    workflow: Workflow,
    evidence: Sequence[ModelEvidence],
    results: Sequence[Sequence[CaseLike]],
    rules: Sequence[GateRule],
    *,
    statistics: StatisticsSettings | None = None,
    mode: Mode = "compare",
) -> Decision:
    """Judge every candidate (``evidence[1:]``, ``results[1:]``) against the baseline (the
    first) under ``rules``, compare them case by case, and rank them."""
    settings = statistics or StatisticsSettings()
    baseline = evidence[0]
    paired = [PairedCases(workflow, results[0], cand) for cand in results[1:]]
    found = rule_evidence(rules, paired, settings)
    candidates = tuple(
        _candidate_decision(
            judge(rules, baseline, model, evidence=paired_evidence, confidence=settings.confidence),
            mode,
            baseline.model,
            model.model,
        )
        for model, paired_evidence in zip(evidence[1:], found, strict=True)
    )
    comparisons = tuple(
        compare_candidates([model.model for model in evidence[1:]], paired, settings)
    )
    ranking = rank(candidates, evidence, comparisons)
    return Decision(candidates, comparisons, ranking, recommendation(ranking))


def _candidate_decision(
    judgement: Judgement, mode: Mode, baseline: str, candidate: str
) -> CandidateDecision:
    verdict = judgement.verdict
    reasons = list(judgement.reasons)
    if mode == "shadow":
        reasons.append(SHADOW_REASON)
        authoritative = baseline
    else:
        authoritative = candidate if verdict is Verdict.PROMOTE else baseline
    return CandidateDecision(
        candidate=candidate,
        verdict=verdict,
        reasons=tuple(reasons),
        rules=judgement.rules,
        authoritative_model=authoritative,
    )


def rank(
    candidates: Sequence[CandidateDecision],
    evidence: Sequence[ModelEvidence],
    comparisons: Sequence[CandidateComparison],
) -> tuple[Ranked, ...]:
    """The candidates best first: the best verdict, then the highest quality score, then the
    order given."""
    quality = {model.model: model.summary.get("quality_score") for model in evidence}
    rate = {model.model: model.summary.get("pass_rate") for model in evidence}
    by_name = {comparison.candidate: comparison for comparison in comparisons}

    def key(item: tuple[int, CandidateDecision]) -> tuple[int, float, int]:
        index, decision = item
        score = quality.get(decision.candidate)
        return (_SEVERITY[decision.verdict], -(score if score is not None else -1.0), index)

    ranking = []
    for position, (_, decision) in enumerate(sorted(enumerate(candidates), key=key), start=1):
        comparison = by_name[decision.candidate]
        ranking.append(
            Ranked(
                rank=position,
                candidate=decision.candidate,
                verdict=decision.verdict,
                quality_score=quality.get(decision.candidate),
                pass_rate=rate.get(decision.candidate),
                pass_rate_delta=comparison.pass_rate.delta,
                regressions=comparison.regressions,
                fixes=comparison.fixes,
                p_value_holm=comparison.p_value_adjusted,
            )
        )
    return tuple(ranking)


def recommendation(ranking: Sequence[Ranked]) -> str:
    """Why the first-ranked candidate is the one to act on, in a sentence."""
    best = ranking[0]
    if len(ranking) == 1:
        return f"The only candidate; the gate says {best.verdict}."
    tied = [entry for entry in ranking if entry.verdict == best.verdict]
    if len(tied) == 1:
        return f"The only candidate with the verdict {best.verdict}."
    runner_up = tied[1]
    return (
        f"Best verdict ({best.verdict}, shared by {len(tied)}), then the highest "
        f"quality score: {format_figure('quality_score', best.quality_score)} vs "
        f"{format_figure('quality_score', runner_up.quality_score)} for "
        f"{runner_up.candidate}."
    )
