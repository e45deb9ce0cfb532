"""``modelup run``: replay, score, gate, write the report; the exit code is the verdict."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from modelup._cli.common import EXIT_INTERRUPTED, VERDICT_EXIT, fail
from modelup._cli.history import record as record_history
from modelup.config.settings import find_config_file, load_settings
from modelup.errors import ClientError, ModelupError
from modelup.evaluate.plan import (
    close_recording,
    execute_spooled,
    make_clients,
    new_run_id,
    open_recording,
    plan_run,
    resume_plan,
    tool_version,
)
from modelup.evaluate.replay import Recording
from modelup.report.io import read_report, report_filename, unique_path
from modelup.report.render import terminal as view
from modelup.report.render.formats import write_formats


def run(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="modelup.toml or appsettings.json.")
    ] = None,
    dataset: Annotated[Path | None, typer.Option(help="Frozen dataset (JSON or JSONL).")] = None,
    baseline: Annotated[str | None, typer.Option(help="Baseline model id.")] = None,
    candidate: Annotated[
        list[str] | None, typer.Option(help="Candidate model id; repeat for several challengers.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1.")
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable that holds the API key.")
    ] = None,
    mock: Annotated[
        bool | None, typer.Option("--mock/--live", help="Simulated models or the live endpoint.")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="compare or shadow.")] = None,
    workflow: Annotated[
        str | None, typer.Option(help="Registered workflow name or workflow file (.toml, .yaml).")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Calls in flight per model.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Replays of each case per model.")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Directory for the report.")] = None,
    report_file: Annotated[Path | None, typer.Option(help="Exact report file path.")] = None,
    report_format: Annotated[
        list[str] | None,
        typer.Option("--format", help="json,html,md,junit: written next to the JSON report."),
    ] = None,
    history: Annotated[
        bool | None, typer.Option("--history/--no-history", help="Record the run in history.")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
    refresh_cache: Annotated[
        bool, typer.Option("--refresh-cache", help="Call again and replace cached answers.")
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(metavar="RUN_ID", help="Resume a stopped live run: only missing calls."),
    ] = None,
) -> None:
    """Replay the dataset against baseline and candidate, score, gate and write the report.

    Exit code: 0 Promote, 3 Hold, 4 Rollback, 2 bad configuration or input, 1 failure.
    """
    flags: dict[str, dict[str, object]] = {
        "experiment": {
            "use_mock_client": mock,
            "mode": mode,
            "dataset_path": dataset,
            "report_directory": report_dir,
            "workflow": workflow,
            "concurrency": concurrency,
            "epochs": epochs,
            "formats": ",".join(report_format) if report_format else None,
        },
        "history": {"enabled": history},
        "llm": {
            "baseline_model_id": baseline,
            "candidate_model_id": (candidate[0] if len(candidate) == 1 else candidate)
            if candidate
            else None,
            "base_url": base_url,
            "api_key_env": api_key_env,
        },
        "cache": {
            "enabled": False if no_cache else None,
            "refresh": True if refresh_cache else None,
        },
    }
    out = Console(soft_wrap=True)
    errors = Console(stderr=True, soft_wrap=True)
    recording: Recording | None = None
    resume_hint = "modelup run --resume {run_id}" + (f" --config {config}" if config else "")
    try:
        settings = load_settings(find_config_file(config), flags)
        saved = None
        if resume is not None:
            plan, saved = resume_plan(settings, resume)
        else:
            plan = plan_run(settings)
        clients = make_clients(plan)
        started = saved.started_at if saved is not None else datetime.now(UTC)
        run_id = saved.run_id if saved is not None else new_run_id(started)
        recording = open_recording(plan, run_id, started, saved)
        resume_hint = resume_hint.format(run_id=run_id)
        view.print_header(out, plan, tool_version())
        if saved is not None:
            out.print(
                Text(f"Resuming run {run_id}: {len(saved.outcomes)} call(s) already done", "dim")
            )
        with view.progress_bar(errors, plan) as on_result:
            spooled = asyncio.run(
                execute_spooled(
                    plan,
                    clients,
                    on_result=on_result,
                    recording=recording,
                    run_id=run_id,
                    started_at=started,
                )
            )
        with spooled:
            report = spooled.head
            path = report_file or unique_path(
                settings.experiment.report_directory,
                report_filename(
                    report.started_at,
                    report.mode,
                    plan.baseline.model,
                    [target.model for target in plan.candidates],
                ),
            )
            spooled.write(path)
            failures = spooled.failures(view.SAMPLE_FAILURES)
        # The other formats render the whole report: read back from the file just written,
        # so that the run itself never holds every case.
        formats = [name for name in settings.experiment.formats if name != "json"]
        rendered = write_formats(read_report(path), path, formats) if formats else {}
        if recording.journal is not None:
            recording.journal.remove()
    except ModelupError as error:
        exit_ = fail(error)
        if isinstance(error, ClientError) and recording and recording.journal is not None:
            errors.print(Text(f"Results so far are saved. Resume with: {resume_hint}"))
        raise exit_ from None
    except KeyboardInterrupt:
        if recording is not None and recording.journal is not None:
            errors.print(Text(f"Interrupted: results so far are saved. Resume with: {resume_hint}"))
        else:
            errors.print("Interrupted: no report written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if recording is not None:
            close_recording(recording)
    view.print_results(out, report, failures)
    record_history(out, settings, report, path)
    for name, other in rendered.items():
        out.print(f"Report ({name}): {other}", markup=False, highlight=False)
    out.print(f"Report: {path}", markup=False, highlight=False)
    raise typer.Exit(VERDICT_EXIT[report.decision.verdict])
