"""The shell's running parts, opened and closed by the app's lifespan: the store (used on one
thread of its own: a SQLite connection belongs to the thread that made it, and a PostgreSQL
query never blocks the event loop), the model clients, the trace recorder, what each workflow
serves now, the canary counts, the metrics, and the background task that re-reads the store
and analyses a running canary every ``refresh_s`` seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from modelup.config.settings import Settings
from modelup.errors import ModelupError, ServeError
from modelup.evaluate.scoring import Scorer
from modelup.observe.label_free import inputs_model, label_free_workflow
from modelup.observe.recorder import TraceRecorder
from modelup.observe.serve_trace import open_serve_recorder
from modelup.observe.store_sink import StoreSink
from modelup.release.service import Releases
from modelup.serve.canary import CanaryCounter, analysis, due
from modelup.serve.clients import ModelPool
from modelup.serve.metrics import ServeMetrics
from modelup.serve.options import ServeOptions
from modelup.serve.routing import on_canary, routing_key
from modelup.serve.shell import Outcome, Shell, WorkflowRuntime
from modelup.serve.state import Arm, Rollout, Target, WorkflowState, read_state, state_json
from modelup.store.serve_rows import CanaryCounts, CountKey
from modelup.store.serving import ServingStore, open_serving_store
from modelup.workflow.base import Workflow

log = logging.getLogger("modelup.serve")
T = TypeVar("T")


def workflow_runtime(workflow_id: str, workflow: Workflow) -> WorkflowRuntime:
    served, _ = label_free_workflow(workflow, "serve")
    return WorkflowRuntime(
        workflow_id=workflow_id,
        workflow=workflow,
        served=served,
        scorer=Scorer(served),
        authority=workflow.shell_authority,
        inputs=inputs_model(workflow.case_fields, workflow.input_fields),
    )


class ServeRuntime:
    def __init__(
        self,
        settings: Settings,
        workflows: Mapping[str, Workflow],
        *,
        options: ServeOptions,
        pool: ModelPool | None = None,
    ) -> None:
        if not workflows:
            raise ServeError("serve at least one workflow")
        self.settings = settings
        self.options = options
        self.runtimes = {wid: workflow_runtime(wid, wf) for wid, wf in workflows.items()}
        self.pool = pool or ModelPool(settings, max_connections=options.max_connections)
        self.metrics = ServeMetrics()
        self.counter = CanaryCounter()
        self.states: dict[str, WorkflowState] = {wid: WorkflowState(wid) for wid in workflows}
        self.actor = f"modelup serve {options.replica}"
        self._executor: ThreadPoolExecutor | None = None
        self._store: ServingStore | None = None
        self._shell: Shell | None = None
        self._recorder: TraceRecorder | None = None
        self._task: asyncio.Task[None] | None = None
        self._mirrors: set[asyncio.Task[None]] = set()
        self._read_at: float | None = None
        self._store_error: str | None = None
        self._wake = asyncio.Event()
        self._canary_served = 0
        """Canary requests this replica served since its last refresh."""

    # -- lifespan ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="modelup-store")
        url = self.settings.store_url
        self._store = await self._run(lambda: open_serving_store(url))
        models = sorted(self._models())
        secrets = tuple(self.pool.secrets(models))
        store_sink = await asyncio.to_thread(
            StoreSink, url, retention_days=self.settings.traces.retention_days
        )
        recorder, warnings = open_serve_recorder(
            self.settings,
            service_version=self.options.service_version,
            secrets=secrets,
            store_sink=store_sink,
        )
        for warning in warnings:
            log.warning("%s", warning)
        self._recorder = recorder
        self._shell = Shell(self.pool, recorder, secrets=secrets)
        await self.refresh()
        self._task = asyncio.create_task(self._maintain())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._mirrors):
            task.cancel()
        with contextlib.suppress(ModelupError):
            await self._flush()
        await self.pool.aclose()
        if self._recorder is not None:
            for warning in self._recorder.close():
                log.warning("%s", warning)
        if self._store is not None:
            store = self._store
            await self._run(store.close)
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def _models(self) -> set[str]:
        models = {self.settings.llm.baseline_model_id, *self.settings.models}
        for state in self.states.values():
            for target in (state.stable, state.last_known_good):
                if target is not None:
                    models.add(target.requested_model)
        return models

    async def _run(self, work: Callable[[], T]) -> T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    # -- keeping up with the store -------------------------------------------------------------

    def _delay(self) -> float:
        """Until the next refresh: ``refresh_s``, or a running canary's analysis interval when
        that is shorter, so every replica re-reads the state at least once per interval."""
        delay = self.options.refresh_s
        for state in self.states.values():
            canary = state.canary
            if canary is not None and canary.scope.interval.seconds is not None:
                delay = min(delay, canary.scope.interval.seconds)
        return delay

    async def _maintain(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._delay())
            self._wake.clear()
            self._canary_served = 0
            try:
                await self.refresh()
            except ModelupError as error:
                self._store_error = str(error)
                log.warning("modelup serve: cannot read the store: %s", error)
            except Exception as error:  # a bug must not stop the refreshes: say it, go on
                self._store_error = f"{type(error).__name__}: {error}"
                log.exception("modelup serve: refreshing the release state failed")

    async def refresh(self) -> None:
        """Write this replica's counts, re-read every workflow's state, and analyse each canary
        whose window is due (then read again what that changed)."""
        await self._flush()
        self.states = await self._read_states()
        if await self._analyse():
            self.states = await self._read_states()
        self._read_at = time.monotonic()
        self._store_error = None
        windows = {
            (state.rollout.release_id, state.rollout.step, state.rollout.window)
            for state in self.states.values()
            if state.rollout is not None
        }
        self.counter.keep_only(windows)

    async def _flush(self) -> None:
        taken = self.counter.take()
        if taken and self._store is not None:
            store, replica, now = self._store, self.options.replica, datetime.now(UTC)
            await self._run(lambda: store.add_counts(replica, taken, now))

    async def _read_states(self) -> dict[str, WorkflowState]:
        store = self._store
        assert store is not None
        ids = list(self.runtimes)
        return await self._run(lambda: {wid: read_state(store, wid) for wid in ids})

    async def _analyse(self) -> bool:
        acted = False
        for state in self.states.values():
            rollout = state.canary
            if rollout is not None:
                acted = await self._analyse_rollout(rollout) or acted
        return acted

    async def _analyse_rollout(self, rollout: Rollout) -> bool:
        store = self._store
        assert store is not None
        release_id, step, window = rollout.release_id, rollout.step, rollout.window

        def counts() -> tuple[CanaryCounts, CanaryCounts]:
            mine = store.counts(release_id, step=step, window=window)
            whole = store.counts(release_id)
            return mine.get("canary") or CanaryCounts(), whole.get("stable") or CanaryCounts()

        canary, stable = await self._run(counts)
        if not due(rollout, canary, datetime.now(UTC)):
            return False
        measurement = analysis(rollout, canary, stable)
        releases = Releases(store)
        await self._run(
            lambda: releases.analyze(
                release_id, measurement, step=step, window=window, actor=self.actor
            )
        )
        log.warning(
            "modelup serve: canary %s window %d: %s (%s)",
            release_id,
            window,
            measurement.status,
            "; ".join(measurement.reasons),
        )
        return True

    # -- serving -------------------------------------------------------------------------------

    async def serve(
        self, runtime: WorkflowRuntime, fields: dict[str, Any], header_key: str | None
    ) -> Outcome | None:
        """Serve one validated request; ``None`` when the workflow has nothing to serve."""
        state = self.states[runtime.workflow_id]
        if state.stable is None or self._shell is None:
            return None
        request_id = f"req-{random.getrandbits(64):016x}"
        arm: Arm = "stable"
        target: Target = state.stable
        canary = state.canary
        if canary is not None:
            key = routing_key(header_key, fields, runtime.authority.routing_key, request_id)
            if on_canary(canary.release_id, key, canary.percent):
                arm, target = "canary", canary.target
        outcome = await self._shell.serve(runtime, state, arm, target, fields, request_id)
        rollout = state.rollout
        if canary is not None and rollout is not None:
            self._count(CountKey(rollout.release_id, rollout.step, rollout.window, arm), outcome)
            if arm == "canary":
                # A request-count interval: refresh (and analyse) once this replica alone has
                # served an interval's worth of canary requests since it last read the state.
                self._canary_served += 1
                wanted = canary.scope.interval.requests
                if wanted is not None and self._canary_served >= wanted:
                    self._wake.set()
        shadow = state.shadow
        if shadow is not None:
            self._mirror(runtime, state, shadow.target, shadow.release_id, fields, request_id)
        return outcome

    def _count(self, key: CountKey, outcome: Outcome) -> None:
        self.counter.add(
            key,
            error=outcome.error in ("upstream", "timeout"),
            invalid=outcome.validation == "invalid",
            overridden=bool(outcome.overrides),
            drift=outcome.drift,
            latency_ms=outcome.first.result.latency_ms,
        )

    def _mirror(
        self,
        runtime: WorkflowRuntime,
        state: WorkflowState,
        target: Target,
        release_id: str,
        fields: dict[str, Any],
        request_id: str,
    ) -> None:
        if len(self._mirrors) >= self.options.shadow_in_flight or self._shell is None:
            self.metrics.shadow_dropped(runtime.workflow_id)
            return
        shell = self._shell

        async def mirror() -> None:
            started = time.perf_counter()
            outcome = await shell.serve(
                runtime, state, "shadow", target, fields, f"{request_id}-shadow"
            )
            self._count(CountKey(release_id, 0, 0, "shadow"), outcome)
            self.metrics.served(runtime.workflow_id, outcome, time.perf_counter() - started)

        task = asyncio.create_task(mirror())
        self._mirrors.add(task)
        task.add_done_callback(self._mirrors.discard)

    # -- reading -------------------------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        described = []
        for workflow_id, runtime in self.runtimes.items():
            authority = runtime.authority
            workflow = runtime.workflow
            described.append(
                {
                    "workflow_id": workflow_id,
                    "workflow": workflow.name,
                    "workflow_version": workflow.version,
                    "input_fields": sorted(workflow.input_fields),
                    "policy_owned": list(authority.owned_fields),
                    "on_fail": authority.on_fail,
                    **state_json(self.states[workflow_id]),
                }
            )
        return described

    def health(self) -> dict[str, Any]:
        age = None if self._read_at is None else time.monotonic() - self._read_at
        stale = age is None or age > 3 * self.options.refresh_s + 5
        ok = not stale and self._store_error is None
        return {
            "status": "ok" if ok else "degraded",
            "replica": self.options.replica,
            "state_age_s": None if age is None else round(age, 3),
            "store_error": self._store_error,
            "workflows": sorted(self.runtimes),
        }
