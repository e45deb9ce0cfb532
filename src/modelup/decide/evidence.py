"""What one model's scored cases show: its figures overall, per task family and per gate subset,
its repeated-trial figures, and who actually answered."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, replace

from modelup.decide.figures import EVIDENCE_FIGURES
from modelup.decide.identity import ExpectedIdentity, Identity, identities
from modelup.decide.summary import summarize, summarize_groups
from modelup.decide.trials import TrialsSummary, summarize_trials
from modelup.evaluate.scoring import CaseResult
from modelup.evaluate.targets import ModelTarget, Role
from modelup.models.pricing import Price
from modelup.workflow.base import Workflow

Figures = dict[str, float | None]


@dataclass(frozen=True, slots=True)
class ModelEvidence:
    """One model's figures and identity, computed from its results (``measure``)."""

    role: Role
    model: str
    """The model id that was requested."""
    summary: Figures
    families: Mapping[str, Figures]
    subsets: Mapping[str, Figures]
    trials: TrialsSummary | None
    """Repeated-trial figures; None when the model answered nothing."""
    resolved_models: tuple[str, ...]
    """Every distinct model name the endpoint reported answering with, in order first seen."""
    system_fingerprints: tuple[str, ...]
    """Every distinct ``system_fingerprint`` the endpoint reported, in order first seen."""
    identities: tuple[Identity, ...] = ()
    """Every distinct (resolved model, fingerprint) reported, with the calls it answered."""
    expected: ExpectedIdentity | None = None
    """Who was expected to answer: the requested id, or ``expect_resolved``."""
    price: Price | None = None
    """The price the cost figures were computed at."""

    @property
    def alias_resolved(self) -> bool:
        """An answer came from a model other than the one requested (alias resolution)."""
        return any(name != self.model for name in self.resolved_models)

    @property
    def identity_changed(self) -> bool:
        """The answering model's name or fingerprint changed during the run."""
        return len(self.identities) > 1 or (
            len(self.resolved_models) > 1 or len(self.system_fingerprints) > 1
        )


def measure(
    workflow: Workflow, target: ModelTarget, results: Sequence[CaseResult]
) -> ModelEvidence:
    """The evidence of ``target``'s results (full or slim: only what figures need is read)."""
    price = target.price
    expected = ExpectedIdentity(target.model, target.expect_resolved)
    resolved = tuple(dict.fromkeys(r.resolved_model for r in results if r.resolved_model))
    fingerprints = tuple(
        dict.fromkeys(r.system_fingerprint for r in results if r.system_fingerprint)
    )
    trials = (
        summarize_trials(results, temperature=target.temperature, seed=target.seed)
        if results
        else None
    )
    return ModelEvidence(
        role=target.role,
        model=target.model,
        summary=summarize(workflow, results, price=price, expected=expected),
        families=summarize_groups(workflow, results, by="family", price=price, expected=expected),
        subsets=summarize_groups(workflow, results, by="subset", price=price, expected=expected),
        trials=trials,
        resolved_models=resolved,
        system_fingerprints=fingerprints,
        identities=identities(results),
        expected=expected,
        price=price,
    )


def on_common_cases(
    workflow: Workflow,
    evidence: ModelEvidence,
    results: Sequence[CaseResult],
    common: Container[tuple[str, int]],
) -> ModelEvidence:
    """``evidence`` with its figures recomputed over the ``common`` (case id, epoch) trials
    only, except the figures about the evidence itself (``EVIDENCE_FIGURES``) and the call
    count, which stay those of every call."""
    kept = [result for result in results if (result.case_id, result.epoch) in common]
    price, expected = evidence.price, evidence.expected
    summary = summarize(workflow, kept, price=price, expected=expected)
    families = summarize_groups(workflow, kept, by="family", price=price, expected=expected)
    subsets = summarize_groups(workflow, kept, by="subset", price=price, expected=expected)
    return replace(
        evidence,
        summary=_keep_evidence(summary, evidence.summary),
        families={k: _keep_evidence(families.get(k, {}), v) for k, v in evidence.families.items()},
        subsets={k: _keep_evidence(subsets.get(k, {}), v) for k, v in evidence.subsets.items()},
    )


def _keep_evidence(
    figures: Mapping[str, float | None], every_call: Mapping[str, float | None]
) -> Figures:
    kept = ("case_count", *EVIDENCE_FIGURES)
    return {**figures, **{name: every_call.get(name) for name in kept}}
