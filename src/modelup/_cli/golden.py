"""``modelup golden add --from-traces``: failed production cases into the golden set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from modelup._cli.common import fail
from modelup._cli.help import Command, Group
from modelup._cli.history import store_url
from modelup._cli.traces import DriftOption, FailedOption, OverriddenOption, SinceOption, query
from modelup.errors import ConfigError, ModelupError

golden = typer.Typer(
    cls=Group, help="Grow the golden set from production traces.", no_args_is_help=True
)


@golden.command(cls=Command, name="add")
def add(
    to: Annotated[Path, typer.Option("--to", metavar="DATASET", help="The golden dataset.")],
    from_traces: Annotated[
        bool, typer.Option("--from-traces", help="Propose cases from recorded traces.")
    ] = False,
    failed: FailedOption = False,
    overridden: OverriddenOption = False,
    drift: DriftOption = False,
    since: SinceOption = None,
    workflow: Annotated[
        str | None,
        typer.Option(help="The workflow (default: experiment.workflow of the configuration)."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Expectations a person filled in, by proposal id."),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="The review file. Default: DATASET.review.jsonl."),
    ] = None,
    accept_: Annotated[
        bool, typer.Option("--accept", help="Append the complete proposals to the dataset.")
    ] = False,
    store: Annotated[
        str | None, typer.Option(metavar="URL", help="The store holding the traces.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="modelup.toml (workflow and store).")
    ] = None,
) -> None:
    """Propose golden cases from recorded traces (inputs, expectations from the policy or a
    label file, provenance), write them to a review file, and with --accept append them to
    the dataset, skipping any whose inputs it already holds."""
    # Imported here, not with the module: ``modelup --help`` never needs the stages.
    from modelup.config.loading import find_config_file, load_settings
    from modelup.evaluate.dataset import load_dataset
    from modelup.observe.golden import accept, propose, read_labels, write_review
    from modelup.workflow.catalog import get_workflow

    out = Console(soft_wrap=True)
    try:
        if not from_traces:
            raise ConfigError("give --from-traces: traces are the only source of new cases")
        settings = load_settings(find_config_file(config))
        flow = get_workflow(workflow or settings.experiment.workflow)
        dataset = load_dataset(to, flow)
        selected = query(flow.name, since, failed, overridden, drift)
        given = read_labels(labels) if labels is not None else None
        found = propose(store_url(config, store), flow, selected, dataset, labels=given)
        review_file = review or to.with_name(f"{to.stem}.review.jsonl")
        write_review(review_file, found.proposals)
        complete = [p for p in found.proposals if not p.missing]
        out.print(
            Text(
                f"{len(found.proposals)} proposal(s) from traces of {flow.name} "
                f"({found.already_in_dataset} already in {to}), written to {review_file}"
            )
        )
        for proposal in found.proposals:
            if proposal.missing:
                out.print(Text(f"  {proposal.id}: needs labels for {', '.join(proposal.missing)}"))
        if found.without_inputs:
            out.print(Text(f"  {found.without_inputs} trace(s) kept no inputs: not proposable"))
        if not accept_:
            if found.proposals:
                out.print(Text("Review them, then run again with --accept to append them."))
            return
        before = dataset.sha256
        updated = accept(to, flow, found.proposals)
    except ModelupError as error:
        raise fail(error) from None
    out.print(
        Text(
            f"Appended {len(complete)} case(s) to {to}: {len(updated)} cases, sha256 "
            f"{updated.sha256[:12]} (was {before[:12]}): a new frozen set."
        )
    )
