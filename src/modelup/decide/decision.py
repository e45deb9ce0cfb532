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
from modelup.decide.evidence import ModelEvidence, on_common_cases
from modelup.decide.figures import format_figure
from modelup.decide.gate import Judgement, RuleOutcome, Verdict, judge
from modelup.decide.paired import (
    CandidateComparison,
    PairedCases,
    StatisticsSettings,
    compare_candidates,
    rule_evidence,
)
from modelup.decide.rules import with_evidence_rules
from modelup.evaluate.scoring import CaseResult
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
    strict_structured_output_rate: float | None = None
    repair_rate: float | None = None
    decided_by: str | None = None
    """The criterion that put it above the next candidate (``RANKING_CRITERIA``); None for the
    last one."""


RANKING_CRITERIA = (
    "verdict",
    "quality_score",
    "strict_structured_output_rate",
    "repair_rate",
    "order given",
)
"""How candidates are ranked, in order: the best verdict, the highest quality score, the
highest strict structured output rate (an answer that needed no repair beats an identical one
that did), the lowest repair rate, and only then the order they were given in."""


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
    results: Sequence[Sequence[CaseResult]],
    rules: Sequence[GateRule],
    *,
    statistics: StatisticsSettings | None = None,
    mode: Mode = "compare",
) -> Decision:
    """Judge every candidate (``evidence[1:]``, ``results[1:]``) against the baseline (the
    first) under ``rules`` (followed by the evidence rules they leave out), compare them case by
    case, and rank them."""
    settings = statistics or StatisticsSettings()
    rules = with_evidence_rules(rules)
    baseline = evidence[0]
    paired = [PairedCases(workflow, results[0], cand) for cand in results[1:]]
    found = rule_evidence(rules, paired, settings)
    candidates = tuple(
        _candidate_decision(
            judge(
                rules,
                *_comparable(workflow, baseline, results[0], model, cand_results),
                evidence=paired_evidence,
                confidence=settings.confidence,
            ),
            mode,
            baseline.model,
            model.model,
        )
        for model, cand_results, paired_evidence in zip(
            evidence[1:], results[1:], found, strict=True
        )
    )
    comparisons = tuple(
        compare_candidates([model.model for model in evidence[1:]], paired, settings)
    )
    ranking = rank(candidates, evidence, comparisons)
    return Decision(candidates, comparisons, ranking, recommendation(ranking))


def _comparable(
    workflow: Workflow,
    baseline: ModelEvidence,
    base_results: Sequence[CaseResult],
    candidate: ModelEvidence,
    cand_results: Sequence[CaseResult],
) -> tuple[ModelEvidence, ModelEvidence]:
    """The two models' evidence as the gate compares it: over the trials both scored. A call
    that errored on either side takes that trial out of both, so that an outage never moves a
    comparison of quality (the errors are judged on their own, by the evidence rules)."""
    if not (baseline.summary.get("error_count") or candidate.summary.get("error_count")):
        return baseline, candidate
    common = {(r.case_id, r.epoch) for r in base_results if r.error is None} & {
        (r.case_id, r.epoch) for r in cand_results if r.error is None
    }
    return (
        on_common_cases(workflow, baseline, base_results, common),
        on_common_cases(workflow, candidate, cand_results, common),
    )


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
    """The candidates best first, by ``RANKING_CRITERIA``; each says which criterion put it
    above the next."""
    summaries = {model.model: model.summary for model in evidence}
    by_name = {comparison.candidate: comparison for comparison in comparisons}

    def key(item: tuple[int, CandidateDecision]) -> tuple[float, ...]:
        index, decision = item
        summary = summaries.get(decision.candidate, {})
        return (
            _SEVERITY[decision.verdict],
            -_known(summary.get("quality_score"), -1.0),
            -_known(summary.get("strict_structured_output_rate"), -1.0),
            _known(summary.get("repair_rate"), 2.0),
            index,
        )

    ordered = sorted(enumerate(candidates), key=key)
    keys = [key(item) for item in ordered]
    ranking = []
    for position, (_, decision) in enumerate(ordered, start=1):
        summary = summaries.get(decision.candidate, {})
        comparison = by_name[decision.candidate]
        decided = None
        if position < len(ordered):
            this, after = keys[position - 1], keys[position]
            decided = next(
                name for name, a, b in zip(RANKING_CRITERIA, this, after, strict=True) if a != b
            )
        ranking.append(
            Ranked(
                rank=position,
                candidate=decision.candidate,
                verdict=decision.verdict,
                quality_score=summary.get("quality_score"),
                pass_rate=summary.get("pass_rate"),
                pass_rate_delta=comparison.pass_rate.delta,
                regressions=comparison.regressions,
                fixes=comparison.fixes,
                p_value_holm=comparison.p_value_adjusted,
                strict_structured_output_rate=summary.get("strict_structured_output_rate"),
                repair_rate=summary.get("repair_rate"),
                decided_by=decided,
            )
        )
    return tuple(ranking)


def _known(value: float | None, missing: float) -> float:
    return missing if value is None else value


def recommendation(ranking: Sequence[Ranked]) -> str:
    """Why the first-ranked candidate is the one to act on, in a sentence naming the criterion
    that decided."""
    best = ranking[0]
    if len(ranking) == 1:
        return f"The only candidate; the gate says {best.verdict}."
    runner_up = ranking[1]
    tied = [entry for entry in ranking if entry.verdict == best.verdict]
    if best.decided_by == "verdict":
        return f"The only candidate with the verdict {best.verdict}."
    shared = f"Best verdict ({best.verdict}, shared by {len(tied)})"
    quality = (
        f"{format_figure('quality_score', best.quality_score)} vs "
        f"{format_figure('quality_score', runner_up.quality_score)} for {runner_up.candidate}"
    )
    if best.decided_by == "quality_score":
        return f"{shared}, then the highest quality score: {quality}."
    figure = "strict_structured_output_rate"
    strict = (
        f"{format_figure(figure, best.strict_structured_output_rate)} vs "
        f"{format_figure(figure, runner_up.strict_structured_output_rate)}"
    )
    if best.decided_by == "strict_structured_output_rate":
        return (
            f"{shared} and the same quality score ({quality}), then the highest strict "
            f"structured output rate (answers that needed no repair): {strict}."
        )
    repairs = (
        f"{format_figure('repair_rate', best.repair_rate)} vs "
        f"{format_figure('repair_rate', runner_up.repair_rate)}"
    )
    if best.decided_by == "repair_rate":
        return (
            f"{shared}, the same quality score and strict structured output rate ({strict}), "
            f"then the lowest repair rate: {repairs}."
        )
    return (
        f"{shared}, and {runner_up.candidate} ties it on quality score, strict structured "
        f"output rate and repair rate: ranked by the order given, the last resort."
    )
