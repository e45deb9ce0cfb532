"""The run session: the one sequence behind both ``modelup run`` and ``modelup.run()``.

Plan (or resume from a checkpoint) → build the clients and compose their middleware (the
response cache, the run journal) → replay, spooling every case → decide → write the report and
its other formats → remove the checkpoint → record the run in history. The CLI only parses its
flags, calls this, prints what it returns and maps the verdict to an exit code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from modelup.config.loading import find_config_file, load_settings
from modelup.config.settings import Settings
from modelup.decide.decision import Decision
from modelup.decide.gate import Verdict
from modelup.errors import ConfigError, NoEvidenceError, RequestsRejected, StoreError
from modelup.evaluate.clients import make_clients
from modelup.evaluate.replay import ProgressCallback
from modelup.evaluate.scoring import CaseResult
from modelup.models.base import ModelClient
from modelup.models.cache import CachedClient
from modelup.models.journal import Journal, JournaledClient
from modelup.observe.wanted import tracing_wanted
from modelup.session.checkpoint import (
    SavedRun,
    create_checkpoint,
    load_run,
    new_run_id,
    remove_checkpoint,
    restore_settings,
    run_directory,
)
from modelup.session.execute import execute_spooled
from modelup.session.plan import RunPlan, plan_run, tool_version

if TYPE_CHECKING:
    from modelup.observe.run_trace import RunTracer
    from modelup.report.schema import CaseRecord, Report
    from modelup.store.cache import ResponseCache

# What only some runs need (tracing, a grader, a cache, the other report formats) and what only
# the end of a run needs (the report's file, history) is imported where it is used: a run's
# first call leaves sooner.

FAILURE_SAMPLE = 5
"""Failed cases per model read back for a person to see (``RunResult.failures``)."""


class RunObserver:
    """What a caller sees of a run while it happens; the CLI prints with these. The default
    sees nothing."""

    def planned(self, plan: RunPlan, *, run_id: str, resumed_calls: int | None) -> None:
        """The run is planned; ``resumed_calls`` is set when it resumes a stopped run."""

    def progress(self, plan: RunPlan) -> AbstractContextManager[ProgressCallback | None]:
        """A context around the replay, giving the callback each finished case is passed to."""
        return _no_progress()


@contextmanager
def _no_progress() -> Iterator[ProgressCallback | None]:
    yield None


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished run: where its report is, what it decided, and what a person should see."""

    run_id: str
    plan: RunPlan
    report: Report
    """The report's head: everything but the cases, which are in the file."""
    report_path: Path
    decision: Decision
    rendered: dict[str, Path] = field(default_factory=dict)
    """The other formats written, by name (``html``, ``md``, ``junit``)."""
    failures: list[tuple[int, list[CaseRecord]]] = field(default_factory=list)
    """Per model (report order): how many cases failed, and the first few of them."""
    history_warning: str | None = None
    """Why the run could not be recorded in history, if it could not (never a failure)."""
    trace_warnings: list[str] = field(default_factory=list)
    """What went wrong recording or exporting the run's traces (never a failure)."""
    traced: int = 0
    """Trace records made (``[traces] enabled`` or an OpenTelemetry endpoint)."""

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict


@dataclass
class _Recording:
    cache: ResponseCache | None = None
    journal: Journal | None = None

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        if self.journal is not None:
            self.journal.close()


class Session:
    """One run, from settings to a recorded report. ``run_id`` and ``resumable`` are set as
    soon as they are known, so a caller that catches a failure can say how to resume."""

    def __init__(
        self,
        settings: Settings,
        *,
        resume: str | None = None,
        report_file: Path | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self.settings = settings
        self.resume = resume
        self.report_file = report_file
        self.observer = observer or RunObserver()
        self.run_id: str | None = None
        self.resumable = False
        """A checkpoint of this run is on disk: a failed run can be resumed."""

    def run(self) -> RunResult:
        saved = None
        if self.resume is not None:
            plan, saved = resume_plan(self.settings, self.resume)
        else:
            plan = plan_run(self.settings)
        clients = make_clients(plan.settings, plan.workflow, plan.dataset, plan.targets)
        started = saved.started_at if saved is not None else datetime.now(UTC)
        self.run_id = run_id = saved.run_id if saved is not None else new_run_id(started)
        report_file = self.report_file or (saved.report_file if saved is not None else None)
        recording = self._open_recording(plan, run_id, started, saved, report_file)
        tracer: RunTracer | None = None
        trace_warnings: list[str] = []
        try:
            clients = _compose(plan, clients, recording, saved)
            if tracing_wanted(plan.settings):  # else the recorder is not even imported
                from modelup.observe.run_trace import open_run_tracer

                tracer = open_run_tracer(
                    plan.settings,
                    workflow=plan.workflow,
                    dataset=plan.dataset,
                    targets=plan.targets,
                    run_id=run_id,
                    client=plan.client_kind,
                    service_version=tool_version(),
                )
            grader = None
            if plan.grader is not None:
                # The grader gets the same middleware as the models under test.
                from modelup.evaluate.grader_setup import make_grader_client

                grader = _wrap(
                    make_grader_client(plan.settings, plan.grader),
                    plan.grader.target.endpoint,
                    recording,
                    saved,
                )
            resumed = len(saved.outcomes) if saved is not None else None
            self.observer.planned(plan, run_id=run_id, resumed_calls=resumed)
            try:
                with self.observer.progress(plan) as on_result:
                    executed = asyncio.run(
                        execute_spooled(
                            plan,
                            clients,
                            on_result=_both(on_result, tracer),
                            run_id=run_id,
                            started_at=started,
                            grader_client=grader,
                        )
                    )
            except NoEvidenceError as error:
                self._drop_empty_checkpoint(recording, saved, error)
                raise
            except RequestsRejected:
                # Resuming would send the same refused requests (the saved plan wins): the
                # configuration must change, and the run start again (answers stay cached).
                self._drop_checkpoint(recording)
                raise
            if tracer is not None:
                tracer.decided(executed.decision)
                tracer.finish()  # the store writes the last records while the report is made
            from modelup.report.io import read_report, report_filename, unique_path

            with executed.report as spooled:
                report = spooled.head
                path = report_file or unique_path(
                    plan.settings.experiment.report_directory,
                    report_filename(
                        report.started_at,
                        report.mode,
                        plan.baseline.model,
                        [target.model for target in plan.candidates],
                    ),
                )
                spooled.write(path)
                failures = spooled.failures(FAILURE_SAMPLE)
            # The other formats render the whole report: read back from the file just
            # written, so that the run itself never holds every case.
            formats = [name for name in plan.settings.experiment.formats if name != "json"]
            rendered = {}
            if formats:
                from modelup.report.render.formats import write_formats

                rendered = write_formats(read_report(path), path, formats)
            if recording.journal is not None:
                recording.journal.close()
                remove_checkpoint(recording.journal.directory)
                self.resumable = False
        finally:
            recording.close()
            if tracer is not None:
                trace_warnings = tracer.close()
        return RunResult(
            run_id=run_id,
            plan=plan,
            report=report,
            report_path=path,
            decision=executed.decision,
            rendered=rendered,
            failures=failures,
            history_warning=_record_history(plan.settings, report, path),
            trace_warnings=trace_warnings,
            traced=tracer.recorder.recorded if tracer is not None else 0,
        )

    def _drop_empty_checkpoint(
        self, recording: _Recording, saved: SavedRun | None, error: NoEvidenceError
    ) -> None:
        """No evidence: keep the checkpoint only when resuming could give some, i.e. the failed
        calls were not kept as evidence and some call was answered; else remove it, so that
        nobody is offered to resume an empty run."""
        journal = recording.journal
        if journal is None:
            return
        answered = journal.answered
        if saved is not None:
            answered += sum(outcome.response is not None for outcome in saved.outcomes.values())
        if error.retryable and answered:
            return
        self._drop_checkpoint(recording)

    def _drop_checkpoint(self, recording: _Recording) -> None:
        if recording.journal is not None:
            recording.journal.close()
            remove_checkpoint(recording.journal.directory)
        self.resumable = False

    def _open_recording(
        self,
        plan: RunPlan,
        run_id: str,
        started: datetime,
        saved: SavedRun | None,
        report_file: Path | None,
    ) -> _Recording:
        """For a live run: the response cache (unless disabled) and the run's journal, new or,
        for a resumed run, reopened. Mock runs record nothing: their answers cost nothing to
        redo."""
        if plan.client_kind == "mock":
            return _Recording()
        settings = plan.settings
        recording = _Recording()
        if settings.cache.enabled:
            from modelup.store.cache import ResponseCache

            recording.cache = ResponseCache(settings.cache.path, refresh=settings.cache.refresh)
        runs = settings.experiment.runs_directory
        try:
            if saved is not None:
                recording.journal = Journal(run_directory(runs, saved.run_id))
            else:
                recording.journal = create_checkpoint(
                    runs,
                    run_id=run_id,
                    started_at=started,
                    settings=settings.redacted(),
                    dataset_sha256=plan.dataset.sha256,
                    models=tuple(target.model for target in plan.targets),
                    report_file=report_file,
                )
        except BaseException:
            recording.close()
            raise
        self.resumable = True
        return recording


def _both(on_result: ProgressCallback | None, tracer: RunTracer | None) -> ProgressCallback | None:
    """The replay's one result callback: the caller's progress, then the tracer. Without a
    tracer it is the caller's own, so a run without tracing pays nothing for it."""
    if tracer is None:
        return on_result
    if on_result is None:
        return tracer.on_result
    progress, trace = on_result, tracer.on_result

    def both(index: int, result: CaseResult) -> None:
        progress(index, result)
        trace(index, result)

    return both


def _compose(
    plan: RunPlan,
    clients: Sequence[ModelClient],
    recording: _Recording,
    saved: SavedRun | None,
) -> list[ModelClient]:
    """Each distinct client wrapped once: the journal outermost (a resumed call is answered
    from it first), then the cache, then the client. Targets that share a client share its
    wrapper, so it is closed once."""
    wrapped: dict[int, ModelClient] = {}
    composed: list[ModelClient] = []
    for target, client in zip(plan.targets, clients, strict=True):
        if id(client) not in wrapped:
            wrapped[id(client)] = _wrap(client, target.endpoint, recording, saved)
        composed.append(wrapped[id(client)])
    return composed


def _wrap(
    client: ModelClient, endpoint: str, recording: _Recording, saved: SavedRun | None
) -> ModelClient:
    outer: ModelClient = client
    if recording.cache is not None:
        outer = CachedClient(outer, recording.cache, endpoint=endpoint)
    if recording.journal is not None:
        resumed = saved.outcomes if saved is not None else None
        outer = JournaledClient(outer, recording.journal, endpoint=endpoint, resumed=resumed)
    return outer


def resume_plan(current: Settings, run_id: str) -> tuple[RunPlan, SavedRun]:
    """The plan of a stopped run, from its checkpoint; the dataset must be unchanged."""
    saved = load_run(current.experiment.runs_directory, run_id)
    plan = plan_run(restore_settings(saved, current))
    if plan.dataset.sha256 != saved.dataset_sha256:
        raise ConfigError(
            f"--resume: {plan.dataset.path} changed since run {run_id} started "
            f"(sha256 {plan.dataset.sha256[:12]}, was {saved.dataset_sha256[:12]})"
        )
    if tuple(target.model for target in plan.targets) != saved.models:
        raise ConfigError(f"--resume: run {run_id} was planned for other models")
    return plan, saved


def _record_history(settings: Settings, report: Report, path: Path) -> str | None:
    """Record a finished run when history is enabled. A store that cannot be written is a
    warning, never a failure: the run's verdict and its report stand without it."""
    if not settings.history.enabled:
        return None
    try:
        from modelup.store.history import record_run

        record_run(report, path, settings.store_url)
    except StoreError as error:
        return f"run not recorded: {error}"
    return None


def run(
    settings: Settings | None = None,
    *,
    config: Path | None = None,
    resume: str | None = None,
    report_file: Path | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Exactly what ``modelup run`` does, from Python: plan (or resume) the run of ``settings``
    (default: ``config``, else ``./modelup.toml``, with the ``MODELUP_`` environment), replay it
    with the response cache and the run journal, decide, write the report, record history."""
    if settings is None:
        settings = load_settings(find_config_file(config))
    return Session(settings, resume=resume, report_file=report_file, observer=observer).run()
