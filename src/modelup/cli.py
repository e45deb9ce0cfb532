"""The command line: one function per command that parses, calls the library, prints, and maps
the outcome to an exit code.

Exit codes: 0 Promote, 3 Hold, 4 Rollback, 2 bad configuration, usage or input, 1 an unexpected
failure (with its traceback: that is a bug).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from modelup import console as view
from modelup.config import find_config_file, load_settings
from modelup.dataset import load_dataset
from modelup.errors import (
    ConfigError,
    DatasetError,
    ModelNotFoundError,
    ModelupError,
    WorkflowError,
)
from modelup.experiment import execute, make_clients, plan_run, tool_version
from modelup.report.io import report_filename, unique_path, write_report
from modelup.workflow.registry import get_workflow, workflow_names

EXIT_PROMOTE = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_HOLD = 3
EXIT_ROLLBACK = 4
VERDICT_EXIT = {"Promote": EXIT_PROMOTE, "Hold": EXIT_HOLD, "Rollback": EXIT_ROLLBACK}
_USAGE_ERRORS = (ConfigError, DatasetError, WorkflowError, ModelNotFoundError)

app = typer.Typer(
    name="modelup",
    help="Treat an LLM model upgrade as a release: replay, score, gate (Promote / Hold / Rollback).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(error: ModelupError) -> typer.Exit:
    Console(stderr=True).print(Text.assemble(("error: ", "bold red"), str(error)))
    return typer.Exit(EXIT_USAGE if isinstance(error, _USAGE_ERRORS) else EXIT_FAILURE)


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="modelup.toml or appsettings.json.")
    ] = None,
    dataset: Annotated[Path | None, typer.Option(help="Frozen dataset (JSON or JSONL).")] = None,
    baseline: Annotated[str | None, typer.Option(help="Baseline model id.")] = None,
    candidate: Annotated[str | None, typer.Option(help="Candidate model id.")] = None,
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
    report_dir: Annotated[Path | None, typer.Option(help="Directory for the report.")] = None,
    report_file: Annotated[Path | None, typer.Option(help="Exact report file path.")] = None,
) -> None:
    """Replay the dataset against baseline and candidate, score, gate and write the report."""
    flags = {
        "experiment": {
            "use_mock_client": mock,
            "mode": mode,
            "dataset_path": dataset,
            "report_directory": report_dir,
            "workflow": workflow,
            "concurrency": concurrency,
        },
        "llm": {
            "baseline_model_id": baseline,
            "candidate_model_id": candidate,
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
                report.started_at, report.mode, plan.targets[0].model, plan.targets[1].model
            ),
        )
        write_report(report, path)
    except ModelupError as error:
        raise _fail(error) from None
    except KeyboardInterrupt:
        Console(stderr=True).print("Interrupted: no report written.")
        raise typer.Exit(130) from None
    view.print_results(out, report)
    out.print(f"Report: {path}", markup=False, highlight=False)
    raise typer.Exit(VERDICT_EXIT[report.decision.verdict])


@app.command("validate-dataset")
def validate_dataset(
    file: Annotated[Path, typer.Argument(help="Dataset file to check.")],
    workflow: Annotated[str, typer.Option(help="Workflow whose case fields apply.")] = "support-ops",
) -> None:
    """Check a dataset file against a workflow's case fields; exit 2 with the problem if bad."""
    try:
        loaded = load_dataset(file, get_workflow(workflow))
    except ModelupError as error:
        raise _fail(error) from None
    families: dict[str, int] = {}
    for case in loaded.cases:
        families[case.family] = families.get(case.family, 0) + 1
    spread = ", ".join(f"{name} {count}" for name, count in sorted(families.items()))
    print(f"{file}: {len(loaded)} valid cases for workflow {workflow} ({spread})")
    print(f"sha256 {loaded.sha256}")


@app.command()
def workflows() -> None:
    """List the registered workflows."""
    for name in workflow_names():
        definition = get_workflow(name)
        print(f"{name}  v{definition.version}  {definition.description}")


@app.command()
def version() -> None:
    """Print modelup's version."""
    print(tool_version())


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
