"""What one model's scored cases show: its figures overall, per task family and per gate subset,
its repeated-trial figures, and who actually answered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelup.decide.identity import ExpectedIdentity, Identity, identities
from modelup.decide.summary import summarize, summarize_groups
from modelup.decide.trials import TrialsSummary, summarize_trials
from modelup.evaluate.scoring import CaseResult
from modelup.evaluate.targets import ModelTarget, Role
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
    )
