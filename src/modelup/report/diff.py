"""Compare two saved reports: figure deltas, per-case changes and verdict changes per model.

Two runs are comparable case by case only over the same frozen dataset, with the same prompt and
the same workflow (its checks and contract, named by its version): otherwise a change in a
figure may be a prompt edit or a new check, not a model change. Reports that differ in any of
the three are refused unless the caller says otherwise (``allow_incomparable``; the older
``allow_different_datasets`` allows a different dataset only). Models are paired by role and
requested id; a candidate whose id changed between the runs is paired with the one in the same
position.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from modelup.errors import ReportError
from modelup.report.schema import DecisionRecord, ModelRecord, Report

ChangeKind = Literal["regression", "fix"]


@dataclass(frozen=True, slots=True)
class FigureDelta:
    figure: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass(frozen=True, slots=True)
class CaseChange:
    """A case (and epoch) whose outcome changed between the runs."""

    case_id: str
    epoch: int
    family: str
    kind: ChangeKind
    old_notes: tuple[str, ...]
    new_notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelDiff:
    role: str
    old_model: str
    new_model: str
    figures: tuple[FigureDelta, ...]
    changes: tuple[CaseChange, ...]
    only_old: tuple[str, ...]
    """Cases (``id`` or ``id#epoch``) only the old run has."""
    only_new: tuple[str, ...]

    @property
    def regressions(self) -> int:
        return sum(change.kind == "regression" for change in self.changes)

    @property
    def fixes(self) -> int:
        return sum(change.kind == "fix" for change in self.changes)


@dataclass(frozen=True, slots=True)
class VerdictChange:
    old_candidate: str
    new_candidate: str
    old_verdict: str
    new_verdict: str


@dataclass(frozen=True, slots=True)
class ReportDiff:
    old_run_id: str
    new_run_id: str
    old_dataset_sha256: str
    new_dataset_sha256: str
    models: tuple[ModelDiff, ...]
    verdicts: tuple[VerdictChange, ...]
    unmatched_old: tuple[str, ...]
    unmatched_new: tuple[str, ...]
    old_prompt_sha256: str = ""
    new_prompt_sha256: str = ""
    old_workflow: str = ""
    """``name vVERSION``."""
    new_workflow: str = ""

    @property
    def same_dataset(self) -> bool:
        return self.old_dataset_sha256 == self.new_dataset_sha256

    @property
    def same_prompt(self) -> bool:
        return self.old_prompt_sha256 == self.new_prompt_sha256

    @property
    def same_workflow(self) -> bool:
        return self.old_workflow == self.new_workflow

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["same_dataset"] = self.same_dataset
        data["same_prompt"] = self.same_prompt
        data["same_workflow"] = self.same_workflow
        for model, diff in zip(data["models"], self.models, strict=True):
            model["regressions"], model["fixes"] = diff.regressions, diff.fixes
            for figure, delta in zip(model["figures"], diff.figures, strict=True):
                figure["delta"] = delta.delta
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def diff_reports(
    old: Report,
    new: Report,
    *,
    allow_different_datasets: bool = False,
    allow_incomparable: bool = False,
) -> ReportDiff:
    """What changed from ``old`` to ``new``. Raises ``ReportError`` naming every difference
    when they ran over different datasets (unless ``allow_different_datasets`` or
    ``allow_incomparable``), prompts or workflow versions (unless ``allow_incomparable``)."""
    differences = incomparable(old, new)
    if allow_different_datasets:
        differences = [text for text in differences if not text.startswith("datasets")]
    if differences and not allow_incomparable:
        flags = "--allow-incomparable"
        if all(text.startswith("datasets") for text in differences):
            flags = "--allow-different-datasets (or --allow-incomparable)"
        raise ReportError(
            f"the reports ran with different {'; and different '.join(differences)}, so a "
            "change between them may not be a model change; pass "
            f"{flags} to compare them anyway"
        )
    pairs, unmatched_old, unmatched_new = _pair_models(old.models, new.models)
    return ReportDiff(
        old_run_id=old.run_id,
        new_run_id=new.run_id,
        old_dataset_sha256=old.dataset.sha256,
        new_dataset_sha256=new.dataset.sha256,
        models=tuple(_model_diff(a, b) for a, b in pairs),
        verdicts=_verdicts(old.decisions, new.decisions, pairs),
        unmatched_old=tuple(m.requested_model for m in unmatched_old),
        unmatched_new=tuple(m.requested_model for m in unmatched_new),
        old_prompt_sha256=old.prompt.sha256,
        new_prompt_sha256=new.prompt.sha256,
        old_workflow=_workflow(old),
        new_workflow=_workflow(new),
    )


def incomparable(old: Report, new: Report) -> list[str]:
    """What makes two reports' figures incomparable, each as ``what (old vs new)``: the
    dataset, the prompt or the workflow version differs."""
    found = []
    if old.dataset.sha256 != new.dataset.sha256:
        found.append(
            f"datasets ({old.dataset.path} sha256 {old.dataset.sha256[:12]}… vs "
            f"{new.dataset.path} sha256 {new.dataset.sha256[:12]}…)"
        )
    if old.prompt.sha256 != new.prompt.sha256:
        found.append(
            f"prompts ({old.prompt.id} sha256 {old.prompt.sha256[:12]}… vs "
            f"{new.prompt.id} sha256 {new.prompt.sha256[:12]}…)"
        )
    if _workflow(old) != _workflow(new):
        found.append(f"workflow versions ({_workflow(old)} vs {_workflow(new)})")
    return found


def _workflow(report: Report) -> str:
    return f"{report.workflow.name} v{report.workflow.version}"


def _pair_models(
    old: Sequence[ModelRecord], new: Sequence[ModelRecord]
) -> tuple[list[tuple[ModelRecord, ModelRecord]], list[ModelRecord], list[ModelRecord]]:
    pairs: list[tuple[ModelRecord, ModelRecord]] = []
    left = list(old)
    right = list(new)
    for model in list(left):
        match = next(
            (
                m
                for m in right
                if (m.role, m.requested_model) == (model.role, model.requested_model)
            ),
            None,
        )
        if match is not None:
            pairs.append((model, match))
            left.remove(model)
            right.remove(match)
    for model in list(left):
        match = next((m for m in right if m.role == model.role), None)
        if match is not None:
            pairs.append((model, match))
            left.remove(model)
            right.remove(match)
    order = {id(model): index for index, model in enumerate(old)}
    pairs.sort(key=lambda pair: order[id(pair[0])])
    return pairs, left, right


def _model_diff(old: ModelRecord, new: ModelRecord) -> ModelDiff:
    names = list(old.summary) + [name for name in new.summary if name not in old.summary]
    figures = tuple(
        FigureDelta(name, _number(old.summary.get(name)), _number(new.summary.get(name)))
        for name in names
    )
    old_cases = {(case.case_id, case.epoch): case for case in old.cases}
    new_cases = {(case.case_id, case.epoch): case for case in new.cases}
    changes = []
    for key, before in old_cases.items():
        after = new_cases.get(key)
        if after is None or after.passed == before.passed:
            continue
        changes.append(
            CaseChange(
                case_id=key[0],
                epoch=key[1],
                family=after.family,
                kind="fix" if after.passed else "regression",
                old_notes=tuple(before.notes),
                new_notes=tuple(after.notes),
            )
        )
    return ModelDiff(
        role=old.role,
        old_model=old.requested_model,
        new_model=new.requested_model,
        figures=figures,
        changes=tuple(changes),
        only_old=tuple(_key(k) for k in old_cases if k not in new_cases),
        only_new=tuple(_key(k) for k in new_cases if k not in old_cases),
    )


def _verdicts(
    old: Sequence[DecisionRecord],
    new: Sequence[DecisionRecord],
    pairs: Sequence[tuple[ModelRecord, ModelRecord]],
) -> tuple[VerdictChange, ...]:
    new_by_name = {d.candidate: d for d in new}
    paired = {a.requested_model: b.requested_model for a, b in pairs}
    out = []
    for decision in old:
        counterpart = new_by_name.get(paired.get(decision.candidate, decision.candidate))
        if counterpart is not None:
            out.append(
                VerdictChange(
                    decision.candidate,
                    counterpart.candidate,
                    decision.verdict,
                    counterpart.verdict,
                )
            )
    return tuple(out)


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _key(key: tuple[str, int]) -> str:
    return key[0] if key[1] == 0 else f"{key[0]}#{key[1]}"
