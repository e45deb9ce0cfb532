"""Replay a planned run with its clients, decide, and build the report's head.

Each case record goes to a temporary spool as it arrives and only slim results are kept for the
figures and statistics, so memory does not grow with the number of cases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from modelup._warm import import_in_background
from modelup.errors import NoEvidenceError
from modelup.evaluate.clients import make_clients
from modelup.evaluate.replay import ProgressCallback, ResultSink, replay_to
from modelup.evaluate.scoring import CaseResult, Scorer
from modelup.models.base import ModelClient
from modelup.report.stream import CaseSpool, Slimmer, SpooledReport, case_bytes
from modelup.session.checkpoint import new_run_id
from modelup.session.plan import RunPlan, tool_version
from modelup.untrusted import clean_line

if TYPE_CHECKING:
    from modelup.decide.decision import Decision
    from modelup.decide.evidence import ModelEvidence
    from modelup.decide.grader import GraderEvidence
    from modelup.evaluate.grading_run import GradingRun
    from modelup.report.schema import LabelFreeRecord, Report

END_OF_RUN = (
    "jsonschema",  # the contract's words for an invalid answer (its first use)
    "modelup.decide.decision",
    "modelup.decide.evidence",
    "modelup.report.build",
    "modelup.report.io",
    "modelup.report.render.terminal",
    "modelup.store.history",
)
"""What a run needs once its calls are answered: imported while the calls are in flight
(``import_in_background``), so that neither the first call nor the verdict waits for it."""


def _prepare_statistics(plan: RunPlan) -> None:
    """numpy imported and the paired bootstrap's draws made, for as many cases as the dataset
    has (every case pairs unless a call errors): while the calls are in flight, so that the
    decision does not wait for them."""
    from modelup.decide import bootstrap

    statistics = plan.statistics
    bootstrap.prepare_draws(len(plan.dataset.cases), statistics.resamples, statistics.seed)


@dataclass(frozen=True, slots=True)
class Executed:
    """A finished run: the report (its head, cases spooled), the evidence and the decision."""

    report: SpooledReport
    evidence: tuple[ModelEvidence, ...]
    decision: Decision
    grader: GraderEvidence | None = None
    """What the grader's judgements show, when the run had a grader."""


async def execute_spooled(
    plan: RunPlan,
    clients: Sequence[ModelClient],
    *,
    on_result: ProgressCallback | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
    spool_directory: Path | None = None,
    grader_client: ModelClient | None = None,
) -> Executed:
    """Replay ``plan`` with ``clients`` (one per target; closed afterwards), decide, and build
    the report's head. Write the report with ``Executed.report.write`` and close it to delete
    the spool (in ``spool_directory``, default the system's temporary directory). When the
    plan has a grader, ``grader_client`` (default: the plan's own) grades the answers as they
    arrive."""
    started = started_at or datetime.now(UTC)
    scorer = Scorer(plan.workflow)
    epochs = max(1, plan.settings.experiment.epochs)
    trials = len(plan.dataset.cases) * epochs
    prices = [target.price for target in plan.targets]
    spool = CaseSpool(len(plan.targets), trials, spool_directory)
    slim: list[list[CaseResult | None]] = [[None] * trials for _ in plan.targets]
    slim_result = Slimmer()
    grading: GradingRun | None = None
    closing = list(clients)
    if plan.grader is not None:
        if grader_client is None:
            from modelup.evaluate.grader_setup import make_grader_client

            grader_client = make_grader_client(plan.settings, plan.grader)
        closing.append(grader_client)
        from modelup.evaluate.grading import Grader
        from modelup.evaluate.grading_run import GradingRun

        grading = GradingRun(
            Grader(plan.grader, plan.workflow, grader_client),
            plan.dataset,
            len(plan.targets),
            epochs=epochs,
            concurrency=plan.settings.experiment.concurrency,
        )

    agreement = None
    if plan.label_free is not None:
        from modelup.observe.label_free import Agreement

        agreement = Agreement(plan.label_free.agreement_fields, len(plan.targets))

    def keep(index: int, position: int, result: CaseResult) -> None:
        spool.add(index, position, case_bytes(result, prices[index]))
        slim[index][position] = slim_result(result)
        if agreement is not None:
            agreement.on_result(index, result)

    sink: ResultSink = keep if grading is None else _both(keep, grading.add)

    graded = None
    import_in_background(END_OF_RUN, then=lambda: _prepare_statistics(plan))
    try:
        try:
            if grading is not None:
                grading.start()
            await replay_to(
                plan.dataset,
                scorer,
                list(zip(plan.targets, clients, strict=True)),
                sink,
                concurrency=plan.settings.experiment.concurrency,
                epochs=epochs,
                on_result=on_result,
            )
            if grading is not None:
                graded = await grading.finish()
        finally:
            if grading is not None:
                await grading.stop()
            for client in {id(client): client for client in closing}.values():
                await client.aclose()
        finished = datetime.now(UTC)
        from modelup.decide.decision import decide_run
        from modelup.decide.evidence import measure
        from modelup.report.build import build_report

        results = [_every(per_target) for per_target in slim]
        _require_evidence(plan, results)
        evidence = tuple(
            measure(plan.workflow, target, per_target)
            for target, per_target in zip(plan.targets, results, strict=True)
        )
        if agreement is not None:  # a replay's figure that needs both models' answers
            evidence = tuple(
                replace(model, summary={**model.summary, **agreement.figures(index)})
                for index, model in enumerate(evidence)
            )
        grader = None
        if graded is not None:
            from modelup.decide.grader import grader_evidence
            from modelup.decide.grader_rules import with_grader_figures

            models = [target.model for target in plan.targets]
            grader = grader_evidence(graded, results, models, plan.statistics)
            evidence = with_grader_figures(evidence, grader)
        decision = decide_run(
            plan.workflow,
            evidence,
            results,
            plan.rules,
            statistics=plan.statistics,
            mode=plan.settings.experiment.mode,
        )
        head = build_report(
            run_id=run_id or new_run_id(started),
            tool_version=tool_version(),
            started_at=started,
            finished_at=finished,
            mode=plan.settings.experiment.mode,
            client=plan.client_kind,
            workflow=plan.workflow,
            dataset=plan.dataset,
            config=plan.settings.redacted(),
            targets=plan.targets,
            evidence=evidence,
            decision=decision,
            label_free=_label_free_record(plan),
            grader=grader,
        )
    except BaseException:
        spool.close()
        raise
    return Executed(SpooledReport(head, spool, results), evidence, decision, grader)


async def execute(
    plan: RunPlan,
    clients: Sequence[ModelClient] | None = None,
    *,
    on_result: ProgressCallback | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
    grader_client: ModelClient | None = None,
) -> Report:
    """The whole report in memory, every case included, for small runs and tests: ``plan``
    replayed with ``clients`` (default: the plan's own bare clients, no cache, no journal, no
    history) and graded with ``grader_client`` when the plan has a grader (default: the
    plan's own). ``modelup.run`` is what ``modelup run`` does."""
    if clients is None:
        clients = make_clients(plan.settings, plan.workflow, plan.dataset, plan.targets)
    executed = await execute_spooled(
        plan,
        clients,
        on_result=on_result,
        run_id=run_id,
        started_at=started_at,
        grader_client=grader_client,
    )
    with executed.report as spooled:
        return spooled.full()


def execute_sync(plan: RunPlan, *, on_result: ProgressCallback | None = None) -> Report:
    """``execute`` with the plan's own clients, from synchronous code."""
    return asyncio.run(execute(plan, on_result=on_result))


def _label_free_record(plan: RunPlan) -> LabelFreeRecord | None:
    info = plan.label_free
    if info is None:
        return None
    from modelup.report.schema import LabelFreeRecord

    return LabelFreeRecord(
        source=info.source,
        figures=list(info.figures),
        skipped_checks=list(info.skipped_checks),
        skipped_rules=list(info.skipped_rules),
        agreement_fields=list(info.agreement_fields),
    )


def _both(first: ResultSink, second: ResultSink) -> ResultSink:
    """A sink handing each result to ``first``, then to ``second``."""

    def sink(index: int, position: int, result: CaseResult) -> None:
        first(index, position, result)
        second(index, position, result)

    return sink


def _require_evidence(plan: RunPlan, results: Sequence[Sequence[CaseResult]]) -> None:
    """Raise ``NoEvidenceError`` when every call of a model failed: nothing of it can be
    judged, and a report of nothing but errors would only look like a verdict."""
    for target, per_target in zip(plan.targets, results, strict=True):
        if per_target and all(result.error is not None for result in per_target):
            raise NoEvidenceError(
                f"no evidence: every call of {target.role} {clean_line(target.model, 200)!r} "
                f"failed ({len(per_target)} of {len(per_target)}), the first with: "
                f"{clean_line(per_target[0].error, 300)}; nothing to judge, no report written",
                retryable=False,
            )


def _every(results: list[CaseResult | None]) -> list[CaseResult]:
    if any(result is None for result in results):
        raise AssertionError("a case finished without a result")
    return [result for result in results if result is not None]
