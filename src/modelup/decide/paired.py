"""Paired comparison of a candidate with the baseline, case by case.

Both models answered the same cases, so every statistic here is paired on the case: per-case
transitions (a regression is a case the baseline passed and the candidate failed, a fix the
reverse), McNemar's exact test on the discordant cases, and a seeded paired bootstrap interval on
the change in pass rate and quality score. With repeated trials (epochs) the unit is still the
case: its figure is the mean over its epochs (its pass probability, for the pass rate), the
bootstrap resamples whole cases, and the exact test is the sign test on per-case changes, which
is McNemar's test when there is one epoch.

Per-case values (``modelup.decide.figures.case_values``) are defined so that their mean over
cases is the summary figure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from modelup.config.rules import BOUND_COMPARISONS, GateRule
from modelup.decide.bootstrap import BootstrapResult, paired_bootstrap_ci
from modelup.decide.figures import CaseLike, case_values, mean_figures, paired_figures
from modelup.decide.significance import PairedEvidence
from modelup.decide.stats import holm_adjust, mcnemar_exact
from modelup.workflow.base import Workflow

TransitionKind = Literal["regression", "fix"]


@dataclass(frozen=True, slots=True)
class StatisticsSettings:
    """How intervals are computed; recorded in the report so a decision can be replayed."""

    confidence: float = 0.95
    resamples: int = 2000
    seed: int = 0


def mean_interval(values: Sequence[float], settings: StatisticsSettings) -> BootstrapResult:
    """The mean of per-case ``values`` (``delta``) and its percentile bootstrap interval: the
    paired bootstrap against zeros, which is the same seeded resampling of cases."""
    return paired_bootstrap_ci(
        [0.0] * len(values),
        values,
        confidence=settings.confidence,
        resamples=settings.resamples,
        seed=settings.seed,
    )


@dataclass(frozen=True, slots=True)
class CaseValues:
    """One case's per-case figures for one model, averaged over its epochs."""

    case_id: str
    family: str
    subsets: tuple[str, ...]
    trials: int
    values: Mapping[str, float]


def per_case(workflow: Workflow, cases: Iterable[CaseLike]) -> list[CaseValues]:
    """Per-case figures in case order, each the mean over that case's epochs."""
    figures = paired_figures(workflow)
    groups: dict[str, list[CaseLike]] = {}
    for case in cases:
        groups.setdefault(case.case_id, []).append(case)
    out = []
    # Equal per-case values share one read-only mapping: most cases of a large run have one of
    # a few outcome patterns, and a dict per case and model is most of the memory at 100,000.
    shared: dict[tuple[float, ...], Mapping[str, float]] = {}
    means = mean_figures(workflow)
    for case_id, trials in groups.items():
        first = trials[0]
        if len(trials) == 1:
            # The mean of one trial is its value, exactly; only a score of -0.0 differs from
            # the sum from 0.0 the mean is otherwise made of (0.0 + -0.0 is 0.0).
            values = case_values(workflow, first)
            for figure in means:
                values[figure] += 0.0
        else:
            sums = dict.fromkeys(figures, 0.0)
            for trial in trials:
                for figure, value in case_values(workflow, trial).items():
                    sums[figure] += value
            values = {figure: total / len(trials) for figure, total in sums.items()}
        key = tuple(values.values())
        found = shared.get(key)
        if found is None:
            found = values
            if len(shared) < 100_000:
                shared[key] = values
        out.append(CaseValues(case_id, first.family, tuple(first.subsets), len(trials), found))
    return out


@dataclass(frozen=True, slots=True)
class Transition:
    """A case whose outcome changed; the values are pass probabilities (0 or 1 with one
    epoch)."""

    case_id: str
    family: str
    subsets: tuple[str, ...]
    kind: TransitionKind
    baseline: float
    candidate: float


@dataclass(frozen=True, slots=True)
class FigureChange:
    """Candidate - baseline on one figure: the paired bootstrap interval and the exact test."""

    figure: str
    n: int
    delta: float
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int
    regressions: int
    fixes: int
    p_value: float
    """Two-sided exact test (McNemar for pass/fail figures)."""
    p_regression: float
    p_improvement: float


@dataclass(frozen=True, slots=True)
class CandidateComparison:
    """Everything paired about one candidate against the baseline."""

    candidate: str
    case_count: int
    transitions: tuple[Transition, ...]
    both_passed: int
    """Cases passed by both in every epoch."""
    both_failed: int
    """Cases failed by both in every epoch."""
    pass_rate: FigureChange
    quality_score: FigureChange | None
    p_value_adjusted: float
    """``pass_rate.p_value`` Holm-adjusted across the challengers (itself with one)."""

    @property
    def regressions(self) -> int:
        return sum(t.kind == "regression" for t in self.transitions)

    @property
    def fixes(self) -> int:
        return sum(t.kind == "fix" for t in self.transitions)


class PairedCases:
    """The baseline's and one candidate's per-case values, aligned on the case, over their
    scored trials: a case is paired when both models have at least one scored (non-errored)
    trial of it, since an errored call is evidence of nothing about the model's answers."""

    def __init__(
        self, workflow: Workflow, baseline: Iterable[CaseLike], candidate: Iterable[CaseLike]
    ) -> None:
        self.workflow = workflow
        base_all, cand_all = list(baseline), list(candidate)
        base_ids = list(dict.fromkeys(c.case_id for c in base_all))
        cand_ids = list(dict.fromkeys(c.case_id for c in cand_all))
        if base_ids != cand_ids:
            missing = sorted(set(base_ids) ^ set(cand_ids))
            detail = f"cases {', '.join(missing[:5])} differ" if missing else "case order differs"
            raise ValueError(f"baseline and candidate did not answer the same cases: {detail}")
        base = per_case(workflow, (c for c in base_all if c.error is None))
        cand = per_case(workflow, (c for c in cand_all if c.error is None))
        both = {c.case_id for c in base} & {c.case_id for c in cand}
        self.baseline = [c for c in base if c.case_id in both]
        self.candidate = [c for c in cand if c.case_id in both]

    def _select(self, rule: GateRule | None) -> list[tuple[CaseValues, CaseValues]]:
        pairs = list(zip(self.baseline, self.candidate, strict=True))
        if rule is None:
            return pairs
        return [p for p in pairs if rule.covers(p[0].family, p[0].subsets)]

    def change(
        self, figure: str, settings: StatisticsSettings, rule: GateRule | None = None
    ) -> FigureChange | None:
        """Candidate - baseline on ``figure`` over the cases in ``rule``'s scope (all by
        default); None when the figure has no per-case value or the scope no cases."""
        pairs = self._select(rule)
        if not pairs or figure not in pairs[0][0].values:
            return None
        base = [b.values[figure] for b, _ in pairs]
        cand = [c.values[figure] for _, c in pairs]
        boot = paired_bootstrap_ci(
            base,
            cand,
            confidence=settings.confidence,
            resamples=settings.resamples,
            seed=settings.seed,
        )
        regressions = sum(c < b for b, c in zip(base, cand, strict=True))
        fixes = sum(c > b for b, c in zip(base, cand, strict=True))
        test = mcnemar_exact(regressions, fixes)
        return FigureChange(
            figure=figure,
            n=len(pairs),
            delta=boot.delta,
            low=boot.low,
            high=boot.high,
            confidence=settings.confidence,
            resamples=settings.resamples,
            seed=settings.seed,
            regressions=regressions,
            fixes=fixes,
            p_value=test.p_value,
            p_regression=test.p_value_regression,
            p_improvement=test.p_value_improvement,
        )

    def evidence(self, rule: GateRule, settings: StatisticsSettings) -> PairedEvidence | None:
        """The statistics ``rule`` is judged on when it requires significance."""
        if rule.comparison not in BOUND_COMPARISONS:
            found = self.change(rule.figure, settings, rule)
            if found is None:
                return None
            return PairedEvidence(
                n=found.n,
                estimate=found.delta,
                low=found.low,
                high=found.high,
                confidence=found.confidence,
                regressions=found.regressions,
                fixes=found.fixes,
                p_regression=found.p_regression,
                p_improvement=found.p_improvement,
                p_regression_adjusted=found.p_regression,
                p_improvement_adjusted=found.p_improvement,
            )
        pairs = self._select(rule)
        if not pairs or rule.figure not in pairs[0][1].values:
            return None
        values = [c.values[rule.figure] for _, c in pairs]
        boot = mean_interval(values, settings)  # the candidate's own figure
        return PairedEvidence(
            n=len(values),
            estimate=boot.delta,
            low=boot.low,
            high=boot.high,
            confidence=settings.confidence,
        )

    def transitions(self) -> tuple[tuple[Transition, ...], int, int]:
        """Changed cases in case order, and the counts of cases passed and failed by both."""
        changed = []
        both_passed = both_failed = 0
        for base, cand in zip(self.baseline, self.candidate, strict=True):
            b, c = base.values["pass_rate"], cand.values["pass_rate"]
            if c < b or c > b:
                kind: TransitionKind = "regression" if c < b else "fix"
                changed.append(Transition(base.case_id, base.family, base.subsets, kind, b, c))
            elif b == 1.0:
                both_passed += 1
            elif b == 0.0:
                both_failed += 1
        return tuple(changed), both_passed, both_failed


def _none(figure: str, settings: StatisticsSettings) -> FigureChange:
    """The change over no paired case (every call of one side errored): no change seen, and
    no test could say otherwise (p = 1)."""
    return FigureChange(
        figure=figure,
        n=0,
        delta=0.0,
        low=0.0,
        high=0.0,
        confidence=settings.confidence,
        resamples=settings.resamples,
        seed=settings.seed,
        regressions=0,
        fixes=0,
        p_value=1.0,
        p_regression=1.0,
        p_improvement=1.0,
    )


def rule_evidence(
    rules: Sequence[GateRule], paired: Sequence[PairedCases], settings: StatisticsSettings
) -> list[dict[int, PairedEvidence]]:
    """Evidence by rule index for every candidate, for the rules that require significance,
    with one-sided p-values Holm-adjusted across the challengers (one family per rule)."""
    found: list[dict[int, PairedEvidence]] = [{} for _ in paired]
    for index, rule in enumerate(rules):
        if not rule.require_significance:
            continue
        for position, pair in enumerate(paired):
            evidence = pair.evidence(rule, settings)
            if evidence is not None:
                found[position][index] = evidence
        holders = [position for position in range(len(paired)) if index in found[position]]
        regression = holm_adjust([found[p][index].p_regression for p in holders])
        improvement = holm_adjust([found[p][index].p_improvement for p in holders])
        for position, p_reg, p_imp in zip(holders, regression, improvement, strict=True):
            found[position][index] = dataclasses.replace(
                found[position][index],
                p_regression_adjusted=p_reg,
                p_improvement_adjusted=p_imp,
            )
    return found


def compare_candidates(
    names: Sequence[str], paired: Sequence[PairedCases], settings: StatisticsSettings
) -> list[CandidateComparison]:
    """The headline paired comparison of each candidate, with McNemar's two-sided p-value on
    the pass rate Holm-adjusted across the challengers."""
    changes = []
    for pair in paired:
        changes.append(pair.change("pass_rate", settings) or _none("pass_rate", settings))
    adjusted = holm_adjust([change.p_value for change in changes])
    out = []
    for name, pair, change, p_adj in zip(names, paired, changes, adjusted, strict=True):
        transitions, both_passed, both_failed = pair.transitions()
        out.append(
            CandidateComparison(
                candidate=name,
                case_count=change.n,
                transitions=transitions,
                both_passed=both_passed,
                both_failed=both_failed,
                pass_rate=change,
                quality_score=pair.change("quality_score", settings),
                p_value_adjusted=p_adj,
            )
        )
    return out
