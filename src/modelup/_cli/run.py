"""``modelup run``: replay, score, gate, write the report; the exit code is the verdict."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from modelup._cli.common import EXIT_INTERRUPTED, VERDICT_EXIT, fail
from modelup._warm import import_in_background
from modelup.errors import ClientError, ModelupError

if TYPE_CHECKING:
    from modelup.session.session import Session


def run(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", metavar="PATH", help="modelup.toml or appsettings.json."),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Frozen dataset (JSON or JSONL).")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(metavar="MODEL", help="Baseline model id.")
    ] = None,
    candidate: Annotated[
        list[str] | None,
        typer.Option(metavar="MODEL", help="Candidate model id; repeat for several challengers."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1."
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(metavar="VARIABLE", help="Environment variable that holds the API key."),
    ] = None,
    mock: Annotated[
        bool | None,
        typer.Option("--mock/--live", metavar="", help="Simulated models or the live endpoint."),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(metavar="compare|shadow", help="compare or shadow.")
    ] = None,
    workflow: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|FILE",
            help="Registered workflow name or workflow file (.toml, .yaml).",
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(metavar="N", help="Calls in flight per endpoint, shared by the models on it."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(metavar="N", help="Replays of each case per model.")
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Directory for the report.")
    ] = None,
    report_file: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Exact report file path.")
    ] = None,
    report_format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            metavar="FORMATS",
            help="json,html,md,junit: written next to the JSON report.",
        ),
    ] = None,
    history: Annotated[
        bool | None,
        typer.Option("--history/--no-history", metavar="", help="Record the run in history."),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", metavar="", help="Neither read nor write the response cache."),
    ] = False,
    refresh_cache: Annotated[
        bool,
        typer.Option("--refresh-cache", metavar="", help="Call again and replace cached answers."),
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(metavar="RUN_ID", help="Resume a stopped live run: only missing calls."),
    ] = None,
    trace: Annotated[
        bool | None,
        typer.Option("--trace/--no-trace", help="Record a trace of every call in the store."),
    ] = None,
    grader: Annotated[
        str | None,
        typer.Option(
            metavar="MODEL", help="Grader model beside the gate (a signal): pairwise, rubric."
        ),
    ] = None,
) -> None:
    """Replay the dataset against baseline and candidate, score, gate and write the report.

    Exit code: 0 Promote, 3 Hold, 4 Rollback, 2 bad configuration or input (or requests the
    endpoint refuses), 5 no evidence (every call of a model failed), 1 failure, 130
    interrupted.

    \b
    Examples:
      modelup run                      # ./modelup.toml: the bundled example, simulated
      modelup run --live --base-url http://localhost:11434/v1 \\
          --baseline gpt-oss:20b --candidate qwen3:8b   # two models on Ollama
    """
    # The HTTP client's import loads the TLS certificates outside the GIL: on a thread, that
    # overlaps the configuration's and the stages' imports below.
    import_in_background(("aiohttp",))
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
        "traces": {"enabled": trace},
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
        "grader": {"model": grader},
    }
    # The stages are imported here, not with the module: ``modelup --help`` never needs them.
    from modelup._cli.progress import ConsoleObserver
    from modelup.config.loading import find_config_file, load_settings
    from modelup.session.session import Session

    out = Console(soft_wrap=True)
    errors = Console(stderr=True, soft_wrap=True)
    session: Session | None = None
    try:
        settings = load_settings(find_config_file(config), flags)
        session = Session(
            settings,
            resume=resume,
            report_file=report_file,
            observer=ConsoleObserver(out, errors),
        )
        result = session.run()
    except ModelupError as error:
        exit_ = fail(error)
        if isinstance(error, ClientError) and session is not None and session.resumable:
            errors.print(Text(f"Results so far are saved. {_resume_hint(session, config)}"))
        raise exit_ from None
    except KeyboardInterrupt:
        if session is not None and session.resumable:
            hint = _resume_hint(session, config)
            errors.print(Text(f"Interrupted: results so far are saved. {hint}"))
        else:
            errors.print("Interrupted: no report written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    # Imported after the run (a thread imports it while the calls are in flight): the first
    # call does not wait for the terminal report's modules.
    from modelup.report.render import terminal as view

    view.print_results(out, result.report, result.failures)
    label_free = result.report.label_free
    if label_free is not None:
        out.print(
            Text(
                f"Label-free replay of {label_free.source}: judged on label-free figures only "
                f"({', '.join(label_free.figures)}). Not run (they need expectations): "
                f"{', '.join(label_free.skipped_checks) or 'none'}; rules not judged: "
                f"{', '.join(label_free.skipped_rules) or 'none'}."
            )
        )
    warnings = [result.history_warning] if result.history_warning is not None else []
    for warning in [*warnings, *result.trace_warnings]:
        out.print(Text.assemble(("warning: ", "bold yellow"), warning))
    if result.traced and result.plan.settings.traces.enabled:
        out.print(Text(f"Traces: {result.traced} call(s) recorded (modelup traces list)."))
    for name, other in result.rendered.items():
        out.print(f"Report ({name}): {other}", markup=False, highlight=False)
    out.print(f"Report: {result.report_path}", markup=False, highlight=False)
    raise typer.Exit(VERDICT_EXIT[result.verdict])


def _resume_hint(session: Session, config: Path | None) -> str:
    command = f"modelup run --resume {session.run_id}" + (f" --config {config}" if config else "")
    return f"Resume with: {command}"
