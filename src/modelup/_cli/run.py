"""``modelup run``: replay, score, gate, write the report; the exit code is the verdict."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelup import console as view
from modelup._cli.common import EXIT_INTERRUPTED, VERDICT_EXIT, fail
from modelup.config import find_config_file, load_settings
from modelup.errors import ModelupError
from modelup.experiment import execute, make_clients, plan_run, tool_version
from modelup.report.io import report_filename, unique_path, write_report


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
    workflow: Annotated[str | None, typer.Option(help="Registered workflow name.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Calls in flight per model.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Replays of each case per model.")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Directory for the report.")] = None,
    report_file: Annotated[Path | None, typer.Option(help="Exact report file path.")] = None,
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
        },
        "llm": {
            "baseline_model_id": baseline,
            "candidate_model_id": (candidate[0] if len(candidate) == 1 else candidate)
            if candidate
            else None,
            "base_url": base_url,
            "api_key_env": api_key_env,
        },
    }
    out = Console(soft_wrap=True)
    try:
        settings = load_settings(find_config_file(config), flags)
        plan = plan_run(settings)
        clients = make_clients(plan)
        view.print_header(out, plan, tool_version())
        with view.progress_bar(Console(stderr=True), plan) as on_result:
            report = asyncio.run(execute(plan, clients, on_result=on_result))
        path = report_file or unique_path(
            settings.experiment.report_directory,
            report_filename(
                report.started_at,
                report.mode,
                plan.baseline.model,
                [target.model for target in plan.candidates],
            ),
        )
        write_report(report, path)
    except ModelupError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        Console(stderr=True).print("Interrupted: no report written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    view.print_results(out, report)
    out.print(f"Report: {path}", markup=False, highlight=False)
    raise typer.Exit(VERDICT_EXIT[report.decision.verdict])
