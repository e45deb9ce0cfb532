"""Tracing a run: the session hands every scored case to ``RunTracer.on_result`` (the replay's
result callback) and the decision to ``decided``; the replay and the scoring know nothing of it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

from modelup.config.settings import Settings
from modelup.decide.decision import Decision
from modelup.evaluate.dataset import Dataset
from modelup.evaluate.scoring import CaseResult
from modelup.evaluate.targets import ModelTarget
from modelup.observe.build import CallFacts, Keep
from modelup.observe.otel import header_secrets, open_otel_sink
from modelup.observe.record import RequestParameters
from modelup.observe.recorder import GateOutcome, TraceRecorder, TraceSink
from modelup.observe.store_sink import StoreSink
from modelup.workflow.base import Workflow

SIMULATED_PROVIDER = "modelup.simulated"
_BATCH = 32
"""Results noted before their records are made: enough for the records' code to stay in the
CPU's caches, few enough that making them holds the event loop up for a few milliseconds only
(answers arriving meanwhile wait to be read, which their measured latency would show)."""


class RunTracer:
    """Records a trace of every call of one run: the calls of a case (every model, every
    epoch) share one trace."""

    def __init__(
        self,
        recorder: TraceRecorder,
        *,
        workflow: Workflow,
        dataset: Dataset,
        targets: Sequence[ModelTarget],
        epochs: int,
        run_id: str,
        client: Literal["mock", "live"],
        warnings: Sequence[str] = (),
    ) -> None:
        self.recorder = recorder
        self.workflow = workflow
        self.targets = tuple(targets)
        self.run_id = run_id
        self.provider = SIMULATED_PROVIDER if client == "mock" else "openai"
        self._fields = {case.id: case.fields for case in dataset.cases}
        self._size = len(self.targets) * max(1, epochs)
        self.warnings = list(warnings)
        self._pending: list[tuple[int, CaseResult, float]] = []
        self._requests = [
            RequestParameters(
                temperature=target.temperature, max_tokens=target.max_tokens, seed=target.seed
            )
            for target in self.targets
        ]

    def on_result(self, index: int, result: CaseResult) -> None:
        """Note the result and when it arrived; records are made ``_BATCH`` at a time."""
        self._pending.append((index, result, time.time()))
        if len(self._pending) >= _BATCH:
            self._record_pending()

    def _record_pending(self) -> None:
        # In batches: made one after another, the records' code and data stay in the CPU's
        # caches; made between the replay's other work, each cost about three times as much
        # (docs/benchmarks.md).
        pending, self._pending = self._pending, []
        for index, result, arrived in pending:
            target = self.targets[index]
            facts = CallFacts(
                workflow=self.workflow,
                result=result,
                fields=self._fields.get(result.case_id, {}),
                requested_model=target.model,
                endpoint=target.endpoint,
                source="run",
                provider=self.provider,
                finished_at=arrived,
                role=target.role,
                run_id=self.run_id,
                price=target.price,
                request=self._requests[index],
            )
            self.recorder.record(facts, group=result.case_id, size=self._size)

    def decided(self, decision: Decision) -> None:
        self._record_pending()
        outcomes = [
            GateOutcome(c.candidate, c.verdict.value, c.reasons) for c in decision.candidates
        ]
        self.recorder.gate(self.workflow.name, self.run_id, outcomes)

    def finish(self) -> None:
        """The calls are over: the sinks send what they hold, without waiting (``close``
        waits), so the store writes while the report is made."""
        self._record_pending()
        self.recorder.finish()

    def close(self) -> list[str]:
        self._record_pending()  # none after finish(), which made them
        return self.warnings + self.recorder.close()


def open_run_tracer(
    settings: Settings,
    *,
    workflow: Workflow,
    dataset: Dataset,
    targets: Sequence[ModelTarget],
    run_id: str,
    client: Literal["mock", "live"],
    service_version: str,
) -> RunTracer | None:
    """The tracer a run's settings ask for (``[traces] enabled``, an OpenTelemetry endpoint),
    or ``None``: then nothing is traced and nothing costs anything."""
    sinks: list[TraceSink] = []
    warnings: list[str] = []
    if settings.traces.enabled:
        sinks.append(StoreSink(settings.store_url, retention_days=settings.traces.retention_days))
    exporter, warning = open_otel_sink(settings, service_version=service_version)
    if exporter is not None:
        sinks.append(exporter)
    if warning is not None:
        warnings.append(warning)
    if not sinks:
        return None if not warnings else _warn_only(warnings, workflow, dataset, targets, run_id)
    secrets = [settings.api_key(target.model) for target in targets if client == "live"]
    keep = Keep(
        answers=settings.traces.keep_answers,
        inputs=settings.traces.keep_inputs,
        secrets=tuple(s for s in (*secrets, *header_secrets(settings)) if s),
    )
    return RunTracer(
        TraceRecorder(sinks, keep=keep),
        workflow=workflow,
        dataset=dataset,
        targets=targets,
        epochs=settings.experiment.epochs,
        run_id=run_id,
        client=client,
        warnings=warnings,
    )


def _warn_only(
    warnings: list[str],
    workflow: Workflow,
    dataset: Dataset,
    targets: Sequence[ModelTarget],
    run_id: str,
) -> RunTracer:
    """Nothing to record to, but something to say (an exporter asked for and missing)."""
    return RunTracer(
        TraceRecorder([]),
        workflow=workflow,
        dataset=dataset,
        targets=targets,
        epochs=1,
        run_id=run_id,
        client="mock",
        warnings=warnings,
    )
