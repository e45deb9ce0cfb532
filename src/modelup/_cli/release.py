"""``modelup release``: a model change as a release: propose, gate, sign, promote, roll back.

Each command parses, calls ``modelup.release.Releases`` on the project store, prints (or
``--json``) and exits: 2 on a bad request (an invalid transition, a signer who is not the
owner, a conflicting release); ``release gate`` exits with the verdict (0, 3, 4).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from modelup._cli.common import EXIT_INTERRUPTED, VERDICT_EXIT
from modelup._cli.help import Command, Group
from modelup._cli.release_options import (
    Actor,
    Config,
    Json,
    ReleaseId,
    Signer,
    Store,
    actor_name,
    errors_console,
    must,
    opened_releases,
    print_json,
    transition,
)
from modelup._cli.release_read import export_release, list_releases, pinned, show

if TYPE_CHECKING:
    from modelup.release import Release, Releases

release_app = typer.Typer(
    cls=Group,
    name="release",
    help="A model change as a release: propose, gate, approve, promote, roll back.",
    no_args_is_help=True,
)


@release_app.command(cls=Command)
def new(
    file: Annotated[Path, typer.Argument(help="The release record (release.toml).")],
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Propose a release from its record; print its id."""
    with opened_releases(config, store, create=True) as releases:
        assert releases is not None  # create=True always opens one
        release = releases.new(file, actor=actor_name(actor))
    if as_json:
        print_json(release.to_json())
        return
    print(release.release_id)
    errors_console().print(
        Text(
            f"Release {release.release_id} proposed: {release.row.workflow_id}, "
            f"{release.row.previous_model} → {release.row.candidate_model} (owner "
            f"{release.row.release_owner}). Next: modelup release gate {release.release_id}"
        )
    )


@release_app.command(cls=Command)
def gate(
    release_id: ReleaseId,
    report: Annotated[
        Path | None,
        typer.Option(help="Attach this existing report instead of running the evaluation."),
    ] = None,
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Run the release's evaluation (or attach --report) and record the evidence and verdict.

    Exit code: 0 Promote, 3 Hold, 4 Rollback, 2 bad request, 1 failure.
    """
    errors = errors_console()
    from modelup._cli.progress import ConsoleObserver

    observer = None if as_json else ConsoleObserver(errors, errors)
    with opened_releases(config, store, create=False) as releases:
        try:
            gated = must(releases, release_id).gate(
                release_id, actor=actor_name(actor), report=report, observer=observer
            )
        except KeyboardInterrupt:
            errors.print(f"Interrupted: release {release_id} was not gated.", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    evidence = gated.evidence
    if as_json:
        print_json(gated.release.to_json())
    else:
        out = Console(soft_wrap=True)
        out.print(Text.assemble(f"Release {release_id} gated: ", (evidence.verdict, "bold")))
        for reason in evidence.reasons:
            out.print(Text(f"  - {reason}"))
        out.print(Text(f"Report: {evidence.report_path}"))
    raise typer.Exit(VERDICT_EXIT[evidence.verdict])


@release_app.command(cls=Command)
def approve(
    release_id: ReleaseId,
    actor: Signer,
    note: Annotated[str | None, typer.Option(help="A note kept with the sign-off.")] = None,
    override: Annotated[
        str | None,
        typer.Option(metavar="REASON", help="Approve a Hold anyway, for this recorded reason."),
    ] = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """The release owner's sign-off: a Promote verdict, or a Hold with --override."""

    def line(release: Release) -> str:
        extra = f" over a Hold (override: {release.override})" if release.override else ""
        return f"Release {release.release_id} approved by {actor}{extra}."

    transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.approve(release_id, actor=actor, note=note, override=override),
        line,
    )


@release_app.command(cls=Command)
def reject(
    release_id: ReleaseId,
    actor: Signer,
    reason: Annotated[str, typer.Option(help="Why the release is rejected.")],
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """The release owner rejects the release (final)."""
    transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.reject(release_id, actor=actor, reason=reason),
        lambda release: f"Release {release.release_id} rejected by {actor}: {reason}",
    )


@release_app.command(cls=Command)
def promote(
    release_id: ReleaseId,
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Make an approved release the workflow's serving release, pinned to the identity its gate
    observed (or start its canary or shadow; promote again to finish it)."""

    def line(release: Release) -> str:
        pinned = release.pin.describe() if release.pin else "?"
        from modelup.release import State

        if release.state in (State.CANARY, State.SHADOW):
            return (
                f"Release {release.release_id} is in {release.state} ({pinned}); the "
                f"workflow's pin stays on its last-known-good until it is promoted again."
            )
        return (
            f"Release {release.release_id} promoted: {release.row.workflow_id} now serves "
            f"{pinned} (pinned)."
        )

    transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.promote(release_id, actor=actor_name(actor)),
        line,
    )


@release_app.command(cls=Command)
def rollback(
    release_id: ReleaseId,
    reason: Annotated[str, typer.Option(help="Why the release is rolled back.")],
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Roll the release back: its workflow returns to the previous last-known-good pin."""
    restored: list[str] = []

    def act(releases: Releases) -> Release:
        release = releases.rollback(release_id, actor=actor_name(actor), reason=reason)
        pins = releases.pins(release.row.workflow_id)
        if pins:
            pin = pins[0]
            restored.append(f"{pin.identity.model} (release {pin.release_id or 'none'})")
        return release

    def line(release: Release) -> str:
        back = f"; {release.row.workflow_id} serves {restored[0]}" if restored else ""
        return f"Release {release.release_id} rolled back{back}."

    transition(config, store, release_id, as_json, act, line)


@release_app.command(cls=Command)
def contain(
    release_id: ReleaseId,
    reason: Annotated[str, typer.Option(help="Why the workflow is contained.")],
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Contain the release's workflow: escalation forced by policy, read-only next steps, no
    canary or shadow traffic, until it is resumed."""
    transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.contain(release_id, actor=actor_name(actor), reason=reason),
        lambda release: (
            f"Workflow {release.row.workflow_id} contained (release {release.release_id}): "
            "escalation forced, read-only next steps. Resume with modelup release resume "
            f"{release.release_id}."
        ),
    )


@release_app.command(cls=Command)
def resume(
    release_id: ReleaseId,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the event log).")] = None,
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Lift the workflow's containment, and continue a paused canary in a new analysis window."""
    transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.resume(release_id, actor=actor_name(actor), reason=reason),
        lambda release: (
            f"Release {release.release_id} resumed ({release.state}); workflow "
            f"{release.row.workflow_id} is not contained."
        ),
    )


release_app.command("list", cls=Command)(list_releases)
release_app.command(cls=Command)(show)
release_app.command(cls=Command)(pinned)
release_app.command("export", cls=Command)(export_release)
