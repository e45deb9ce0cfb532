"""``modelup release list``, ``show``, ``pinned`` and ``export``: reading releases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from modelup._cli.common import EXIT_USAGE
from modelup._cli.release_options import (
    Config,
    Json,
    ReleaseId,
    Store,
    errors_console,
    must,
    opened_releases,
    out_console,
    print_json,
    where,
)

if TYPE_CHECKING:
    from modelup.release import Release

# The stages (releases, their views) are imported in the commands: ``modelup --help`` never
# needs them.


def list_releases(
    workflow: Annotated[str | None, typer.Option(help="Only releases of this workflow_id.")] = None,
    state: Annotated[str | None, typer.Option(help="Only releases in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Releases to list, newest first.")] = 50,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """List releases, newest first."""
    from modelup._cli.release_view import print_releases

    with opened_releases(config, store, create=False) as releases:
        found = (
            releases.releases(workflow_id=workflow, state=state, limit=limit) if releases else []
        )
        shown = where(releases, config, store)
    if as_json:
        print_json({"releases": [_summary(release) for release in found]})
    elif releases is None:
        out_console().print(Text(f"No releases recorded yet ({shown})."))
    else:
        print_releases(out_console(), found, shown)


def _summary(release: Release) -> dict[str, Any]:
    full = release.to_json()
    keys = ("release_id", "workflow_id", "state", "verdict", "override", "release_owner")
    return {
        **{key: full[key] for key in keys},
        "previous_model": full["previous_model"],
        "candidate_model": full["candidate_model"],
        "updated_at": full["updated_at"],
    }


def show(
    release_id: ReleaseId,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Show a release: its record, verdict and reasons, sign-off, pin and event log."""
    from modelup._cli.release_view import print_release

    with opened_releases(config, store, create=False) as releases:
        release = must(releases, release_id).get(release_id)
    if as_json:
        print_json(release.to_json())
        return
    print_release(out_console(), release)


def pinned(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow_id.")] = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """The identity each workflow is pinned to, and its previous last-known-good."""
    from modelup._cli.release_view import print_pins
    from modelup.release.ledger import pin_json

    with opened_releases(config, store, create=False) as releases:
        pins = releases.pins(workflow) if releases else []
        shown = where(releases, config, store)
    if as_json:
        print_json({"pins": [pin_json(pin) for pin in pins]})
        return
    print_pins(out_console(), pins, shown)


def export_release(
    release_id: ReleaseId,
    fmt: Annotated[
        str, typer.Option("--format", metavar="md|json", help="Markdown for a PR, or JSON.")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
    store: Store = None,
    config: Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
) -> None:
    """Export a release as a reviewer reads it: fields, evidence, verdict, who signed what."""
    from modelup.release import export

    if as_json:
        fmt = "json"
    if fmt not in ("md", "json"):
        raise typer.BadParameter("md or json", param_hint="--format")
    with opened_releases(config, store, create=False) as releases:
        release = must(releases, release_id).get(release_id)
    text = export(release, "md" if fmt == "md" else "json")
    if output is None:
        print(text, end="")
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        errors_console().print(Text(f"error: {output}: cannot write: {exc.strerror or exc}"))
        raise typer.Exit(EXIT_USAGE) from None
    out_console().print(Text(f"Exported release {release_id}: {output}"))
