"""What every human-readable rendering of a report shares: deltas, case rows, safe text.

The HTML, Markdown and JUnit renderers differ only in syntax; what counts as a regression, which
way a delta is good, and how untrusted model text is made safe to show are decided here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from modelup.decide.figures import format_change, format_figure, lower_is_better
from modelup.report.schema import CaseRecord, ModelRecord, Report
from modelup.untrusted import clean

Direction = Literal["better", "worse", "same", "none"]


def safe_text(text: str | None, limit: int | None = None) -> str:
    """``text`` made safe to show in any format (escaping is still the renderer's job):
    forbidden characters replaced by U+FFFD, direction overrides made visible, and at most
    ``limit`` characters kept, the cut said in words (``modelup.untrusted.clean``)."""
    return clean(text, limit)


@dataclass(frozen=True, slots=True)
class Delta:
    """A candidate figure against the baseline's, as a person reads it."""

    text: str
    direction: Direction


def delta(name: str, base: float | None, cand: float | None) -> Delta:
    if base is None or cand is None or name == "case_count":
        return Delta("", "none")
    change = cand - base
    text = format_change(name, change)
    if abs(change) < 1e-12:
        return Delta(text, "same")
    better = (change < 0) if lower_is_better(name) else (change > 0)
    return Delta(text, "better" if better else "worse")


@dataclass(frozen=True, slots=True)
class FigureRow:
    name: str
    baseline: str
    candidates: tuple[tuple[str, Delta], ...]
    """Per candidate, in report order: the formatted figure and its delta."""


def figure_rows(
    baseline: dict[str, float | int | None],
    candidates: Sequence[dict[str, float | int | None]],
    names: Sequence[str] | None = None,
) -> list[FigureRow]:
    """Rows of baseline vs each candidate, over ``names`` (default: the baseline's figures)."""
    rows = []
    for name in names if names is not None else list(baseline):
        base = _number(baseline.get(name))
        cells = []
        for summary in candidates:
            cand = _number(summary.get(name))
            cells.append((format_figure(name, cand), delta(name, base, cand)))
        rows.append(FigureRow(name, format_figure(name, base), tuple(cells)))
    return rows


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case (and epoch) across every model of the run, baseline first."""

    case_id: str
    epoch: int
    family: str
    subsets: tuple[str, ...]
    records: tuple[CaseRecord | None, ...]
    """Per model of ``report.models``; ``None`` when that model has no record of the case."""

    @property
    def baseline(self) -> CaseRecord | None:
        return self.records[0]

    @property
    def failed(self) -> bool:
        """Any model failed (or lacks) this case."""
        return any(record is None or not record.passed for record in self.records)

    def regressed(self, index: int) -> bool:
        """The candidate at ``records[index]`` fails a case the baseline passes."""
        base, cand = self.records[0], self.records[index]
        return base is not None and base.passed and (cand is None or not cand.passed)

    @property
    def regression(self) -> bool:
        return any(self.regressed(index) for index in range(1, len(self.records)))

    @property
    def label(self) -> str:
        return self.case_id if self.epoch == 0 else f"{self.case_id} (epoch {self.epoch + 1})"


def case_rows(report: Report) -> list[CaseRow]:
    """Every case of the run in the baseline's order (then any seen only by a candidate)."""
    order: dict[tuple[str, int], CaseRecord] = {}
    per_model: list[dict[tuple[str, int], CaseRecord]] = []
    for model in report.models:
        keyed = {(case.case_id, case.epoch): case for case in model.cases}
        per_model.append(keyed)
        for key, case in keyed.items():
            order.setdefault(key, case)
    return [
        CaseRow(
            case_id=key[0],
            epoch=key[1],
            family=first.family,
            subsets=tuple(first.subsets),
            records=tuple(keyed.get(key) for keyed in per_model),
        )
        for key, first in order.items()
    ]


def check_names(model: ModelRecord) -> list[str]:
    """The check names in the order the workflow runs them."""
    names: dict[str, None] = {}
    for case in model.cases:
        for check in case.checks:
            names.setdefault(check.name, None)
    return list(names)


def short_hash(sha256: str) -> str:
    return sha256[:12]


def failure_summary(case: CaseRecord, limit: int = 300) -> str:
    """The first thing to say about a failed case: its error, else its notes."""
    if case.error:
        return safe_text(f"error: {case.error}", limit)
    return safe_text("; ".join(case.notes) or "failed", limit)


# Keys other parts of modelup add to the report over time are read defensively, so that a
# renderer shows what a report has and never fails on what it lacks.


@dataclass(frozen=True, slots=True)
class ComparisonView:
    """One candidate against the baseline, case by case (the report's ``comparisons``)."""

    candidate: str
    regressions: int
    fixes: int
    unchanged_passed: int
    unchanged_failed: int
    p_value: str
    changes: tuple[tuple[str, str, Direction], ...]
    """(figure label, "delta [low, high] at NN%", direction) for the pass rate and quality."""


def _interval(name: str, change: object) -> tuple[str, str, Direction] | None:
    value = getattr(change, "delta", None)
    low, high = getattr(change, "low", None), getattr(change, "high", None)
    confidence = getattr(change, "confidence", None)
    if not isinstance(value, float | int) or low is None or high is None:
        return None
    shown = delta(name, 0.0, float(value))
    bounds = delta(name, 0.0, float(low)).text, delta(name, 0.0, float(high)).text
    level = f" at {confidence * 100:.0f}%" if isinstance(confidence, float | int) else ""
    text = f"{shown.text} [{bounds[0]}, {bounds[1]}]{level}"
    # Say better or worse only when the whole interval agrees.
    direction: Direction = "same"
    if low > 0 or high < 0:
        direction = shown.direction
    return (name, text, direction)


def comparisons(report: Report) -> list[ComparisonView]:
    views = []
    for item in getattr(report, "comparisons", None) or []:
        changes = [
            _interval(name, getattr(item, name, None)) for name in ("pass_rate", "quality_score")
        ]
        p_value = getattr(item, "mcnemar_p_value_holm", None)
        views.append(
            ComparisonView(
                candidate=str(getattr(item, "candidate", "")),
                regressions=int(getattr(item, "regressions", 0)),
                fixes=int(getattr(item, "fixes", 0)),
                unchanged_passed=int(getattr(item, "unchanged_passed", 0)),
                unchanged_failed=int(getattr(item, "unchanged_failed", 0)),
                p_value=f"{p_value:.3g}" if isinstance(p_value, float | int) else "n/a",
                changes=tuple(change for change in changes if change is not None),
            )
        )
    return views


def rule_status(rule: object) -> str:
    """``pass``, ``fail``, ``inconclusive`` or ``missing`` (older reports: from ``passed``)."""
    status = getattr(rule, "status", None)
    if isinstance(status, str) and status != "passed":
        return "fail" if status == "failed" else status
    return "pass" if getattr(rule, "passed", False) else "fail"


def rule_scope(rule: object) -> str:
    for key in ("subset", "family"):
        value = getattr(rule, key, None)
        if value:
            return f"{key} {value}"
    return ""


def identity_notes(model: ModelRecord) -> list[str]:
    """What a person should know about who answered: aliases, changed fingerprints, price."""
    notes = []
    if model.alias_resolved:
        notes.append(
            f"requested {model.requested_model} but the endpoint answered as "
            + ", ".join(model.resolved_models)
        )
    fingerprints = getattr(model, "system_fingerprints", None) or []
    if getattr(model, "identity_changed", False):
        notes.append("the answering model changed during the run: " + ", ".join(fingerprints))
    return notes
