"""What every rendering shows of the grader: its headline, its tables, and per case what it said
beside each answer. Text the grader wrote is untrusted like any model's: it goes through
``safe_text`` here and is escaped by each renderer."""

from __future__ import annotations

from collections.abc import Sequence

from modelup.decide.grader import PAIRWISE_FIGURES, RUBRIC_SCORE, rubric_figure
from modelup.report.grader_schema import (
    GradedCaseRecord,
    GraderRecord,
    PairCaseRecord,
    RateRecord,
    RubricCaseRecord,
)
from modelup.report.schema import Report
from modelup.report.view import safe_text

REASON_LIMIT = 600
_OUTCOME = {
    "win": "candidate preferred",
    "loss": "baseline preferred",
    "tie": "tie",
    "error": "errored",
}


def grader_of(report: Report) -> GraderRecord | None:
    return getattr(report, "grader", None)


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def rate_text(rate: RateRecord, *, signed: bool = False) -> str:
    """``12.5% [4.2%, 20.8%]``; signed for the net win rate."""
    if signed:
        return f"{rate.estimate * 100:+.1f} pts [{rate.low * 100:+.1f}, {rate.high * 100:+.1f}]"
    return f"{percent(rate.estimate)} [{percent(rate.low)}, {percent(rate.high)}]"


def score_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def headline(grader: GraderRecord) -> str:
    """One line: who graded, how, what it read, and what it cost."""
    usage = grader.usage
    cost = "no price" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"
    modes = " and ".join(grader.modes)
    text = (
        f"Grader {grader.model} ({grader.endpoint}): {modes}, reading "
        f"{', '.join(grader.fields)}; {usage.calls} calls ({usage.failed} failed, "
        f"{usage.cached} cached), {usage.prompt_tokens:,} + {usage.completion_tokens:,} tokens, "
        f"cost {cost}."
    )
    if grader.unavailable:
        text += f" The grader became unavailable: {grader.unavailable}"
    return safe_text(text, 2000)


def pairwise_rows(grader: GraderRecord) -> list[tuple[str, ...]]:
    """Per candidate: candidate, wins/losses/ties/errors, win, loss, tie, net win (with
    intervals), order disagreement."""
    return [
        (
            p.candidate,
            f"{p.wins}/{p.losses}/{p.ties}/{p.errors} of {p.pairs}",
            rate_text(p.win_rate),
            rate_text(p.loss_rate),
            rate_text(p.tie_rate),
            rate_text(p.net_win_rate, signed=True),
            f"{percent(p.disagreement_rate)} ({p.disagreements})",
        )
        for p in grader.pairwise
    ]


PAIRWISE_HEADER = (
    "Candidate",
    "Won/lost/tied/errored",
    "Win rate",
    "Loss rate",
    "Tie rate",
    "Net win",
    "Orders disagreed",
)


def rubric_header(grader: GraderRecord) -> tuple[str, ...]:
    return ("Model", *(c.name for c in grader.rubric), "Rubric score", "Graded")


def rubric_rows(grader: GraderRecord) -> list[tuple[str, ...]]:
    rows = []
    for scores in grader.rubric_scores:
        graded = f"{scores.graded}"
        if scores.errored or scores.skipped:
            graded += f" ({scores.errored} errored, {scores.skipped} not answered)"
        rows.append(
            (
                scores.model,
                *(score_text(scores.criteria.get(c.name)) for c in grader.rubric),
                score_text(scores.score),
                graded,
            )
        )
    return rows


def rubric_change_lines(grader: GraderRecord) -> list[str]:
    level = f"{grader.confidence:.0%}"
    return [
        f"{c.candidate}: rubric score {c.delta:+.2f} [{c.low:+.2f}, {c.high:+.2f}] at {level} "
        f"against the baseline, over {c.n} cases"
        for c in grader.rubric_changes
    ]


def conflict_lines(grader: GraderRecord, limit: int = 10) -> list[str]:
    """Where the grader preferred an answer that failed checks the other passed."""
    lines = []
    for candidate, conflicts in grader.conflicts.items():
        for conflict in conflicts[:limit]:
            label = conflict.case_id + (f" (epoch {conflict.epoch + 1})" if conflict.epoch else "")
            lines.append(
                f"{candidate} {label}: the grader preferred the {conflict.preferred}'s answer, "
                f"which failed {', '.join(conflict.failed_checks)} (the other answer passed)"
            )
        if len(conflicts) > limit:
            lines.append(f"{candidate}: and {len(conflicts) - limit} more")
    return [safe_text(line, 1000) for line in lines]


def rule_lines(report: Report) -> list[str]:
    """How each rule on a grader figure fared, per candidate, with its authority."""
    grader = grader_of(report)
    if grader is None:
        return []
    figures = set(PAIRWISE_FIGURES if grader.pairwise else ())
    if grader.rubric_scores:
        figures |= {RUBRIC_SCORE, *(rubric_figure(c.name) for c in grader.rubric)}
    lines = []
    for decision in report.decisions:
        for rule in decision.rules:
            if rule.figure in figures:
                lines.append(f"{decision.candidate}: {rule.name} ({rule.authority}): {rule.status}")
    return [safe_text(line, 500) for line in lines]


def graded_cases(report: Report) -> dict[tuple[str, int], GradedCaseRecord]:
    grader = grader_of(report)
    if grader is None:
        return {}
    return {(case.case_id, case.epoch): case for case in grader.cases}


def pair_text(pair: PairCaseRecord) -> str:
    """The pair's outcome and why: the grader's reasons in both orders, or what decided it."""
    outcome = _OUTCOME[pair.outcome]
    if not pair.orders:
        return safe_text(f"{outcome}: {pair.note or 'decided without the grader'}", REASON_LIMIT)
    parts = []
    verdicts = {order.preferred for order in pair.orders if order.preferred is not None}
    if pair.outcome == "tie" and len(verdicts) > 1:
        outcome = "tie (the two orders disagreed)"
    for order in pair.orders:
        shown = f"baseline shown {order.baseline_shown}"
        if order.error is not None:
            parts.append(f"{shown}: {order.error}")
        else:
            parts.append(f"{shown}: {order.preferred}. {order.reason or ''}".strip())
    return safe_text(f"{outcome}. " + " | ".join(parts), REASON_LIMIT)


def rubric_text(judged: RubricCaseRecord) -> str:
    if judged.skipped is not None:
        return safe_text(f"not graded: {judged.skipped}", REASON_LIMIT)
    if judged.error is not None:
        return safe_text(f"errored: {judged.error}", REASON_LIMIT)
    scores = ", ".join(f"{name} {value}" for name, value in (judged.scores or {}).items())
    return safe_text(f"{score_text(judged.mean)} ({scores}). {judged.reason or ''}", REASON_LIMIT)


def case_lines(graded: GradedCaseRecord | None, model: str, role: str) -> tuple[str, ...]:
    """Beside one model's answer: its rubric judgement, and for a candidate the pair's."""
    if graded is None:
        return ()
    lines = [f"rubric {rubric_text(r)}" for r in graded.rubric if r.model == model]
    if role == "candidate":
        lines += [f"pairwise {pair_text(p)}" for p in graded.pairwise if p.candidate == model]
    return tuple(lines)


def judgement_rows(report: Report, limit: int) -> tuple[list[tuple[str, str, str]], int]:
    """(case, candidate, what the grader said) for every pair it did not call a plain tie,
    first ``limit`` of them, and how many there are."""
    rows: list[tuple[str, str, str]] = []
    total = 0
    grader = grader_of(report)
    for case in grader.cases if grader is not None else ():
        label = case.case_id + (f" (epoch {case.epoch + 1})" if case.epoch else "")
        for pair in case.pairwise:
            if pair.outcome == "tie" and not _disagreed(pair):
                continue
            total += 1
            if len(rows) < limit:
                rows.append((label, pair.candidate, pair_text(pair)))
    return rows, total


def _disagreed(pair: PairCaseRecord) -> bool:
    verdicts: Sequence[str | None] = [order.preferred for order in pair.orders]
    return len(set(verdicts)) > 1
