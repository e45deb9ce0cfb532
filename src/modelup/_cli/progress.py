"""What a person sees of a run while it happens: its header, then a progress bar per model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.text import Text

from modelup._cli.heap import settle_heap
from modelup.evaluate.replay import ProgressCallback
from modelup.evaluate.scoring import CaseResult
from modelup.session.plan import RunPlan, tool_version
from modelup.session.session import RunObserver


class ConsoleObserver(RunObserver):
    """The header on ``out`` once the run is planned; the progress bars on ``errors``."""

    def __init__(self, out: Console, errors: Console) -> None:
        self.out = out
        self.errors = errors

    def planned(self, plan: RunPlan, *, run_id: str, resumed_calls: int | None) -> None:
        print_header(self.out, plan, tool_version())
        settle_heap()  # the calls start next: this process is the command's own
        if resumed_calls is not None:
            self.out.print(
                Text(f"Resuming run {run_id}: {resumed_calls} call(s) already done", "dim")
            )

    def progress(self, plan: RunPlan) -> Any:
        return progress_bar(self.errors, plan)


def print_header(console: Console, plan: RunPlan, version: str) -> None:
    settings = plan.settings
    console.print(Text(f"Model Upgrade Gates — modelup {version}", style="bold"))
    rows = [
        ("Mode", plan.client_kind),
        ("Evaluation flow", settings.experiment.mode),
        ("Workflow", f"{plan.workflow.name} v{plan.workflow.version}"),
        ("Dataset", f"{len(plan.dataset)} frozen cases  {plan.dataset.path}"),
        *((("Epochs", str(settings.experiment.epochs)),) if settings.experiment.epochs > 1 else ()),
        ("Baseline", plan.baseline.model),
        *(("Candidate", target.model) for target in plan.candidates),
        ("Endpoint", plan.baseline.endpoint),
        *(
            (("Grader", f"{plan.grader.target.model} ({' and '.join(plan.grader.modes)})"),)
            if plan.grader is not None
            else ()
        ),
    ]
    for name, value in rows:
        console.print(Text.assemble((f"{name}: ", "dim"), value))
    if settings.experiment.mode == "shadow":
        console.print(
            Text(
                "Shadow: the baseline stays authoritative; the candidate is scored offline.", "dim"
            )
        )


@contextmanager
def progress_bar(console: Console, plan: RunPlan) -> Iterator[ProgressCallback]:
    """A bar per model on ``console`` (stderr): cases done of total, errors, cached answers,
    calls per second and ETA. The bar is redrawn at most ten times a second per model, so a
    run answered from the cache is not slowed down by its own progress bar."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TextColumn("{task.fields[cached]}"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("ETA {task.fields[eta]}"),
        console=console,
        transient=False,
    )
    total = len(plan.dataset) * plan.settings.experiment.epochs
    meters = [_Meter(total) for _ in plan.targets]
    tasks: list[TaskID] = [
        progress.add_task(
            escape(f"{target.role} {target.model}"),  # a model id is not markup
            total=total,
            errors=0,
            cached="",
            rate="",
            eta="-",
        )
        for target in plan.targets
    ]

    def advance(index: int, result: CaseResult) -> None:
        meter = meters[index]
        if meter.add(result):
            progress.update(tasks[index], completed=meter.done, **meter.fields())

    with progress:
        yield advance


class _Meter:
    """One model's progress: counts, and the rate of calls actually made (cached answers and
    resumed results arrive at once and would make the ETA meaningless)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = self.errors = self.cached = self.calls = 0
        self.first_call: float | None = None
        self.shown = 0.0

    def add(self, result: CaseResult) -> bool:
        """Count ``result``; True when the bar is due for a redraw."""
        now = time.monotonic()
        self.done += 1
        self.errors += result.error is not None
        if result.cached:
            self.cached += 1
        else:
            self.calls += 1
            if self.first_call is None:
                self.first_call = now
        if self.done < self.total and now - self.shown < 0.1:
            return False
        self.shown = now
        return True

    def fields(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.first_call if self.first_call is not None else 0.0
        rate = self.calls / elapsed if elapsed > 0 and self.calls > 1 else None
        remaining = self.total - self.done
        if remaining == 0:
            eta = "0s"
        elif rate:
            eta = f"{remaining / rate:.0f}s"
        else:
            eta = "-"
        return {
            "errors": self.errors,
            "cached": f"{self.cached} cached" if self.cached else "",
            "rate": f"{rate:.1f} calls/s" if rate else "",
            "eta": eta,
        }
