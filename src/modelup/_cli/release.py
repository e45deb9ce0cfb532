"""``modelup release``: a model change as a release: propose, gate, sign, promote, roll back.

Each command parses, calls ``modelup.release.Releases`` on the project store, prints (or
``--json``) and exits: 2 on a bad request (an invalid transition, a signer who is not the
owner, a conflicting release); ``release gate`` exits with the verdict (0, 3, 4).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from modelup import jsonbytes
from modelup._cli.common import EXIT_USAGE, VERDICT_EXIT, fail
from modelup._cli.history import store_url
from modelup._cli.progress import ConsoleObserver
from modelup._cli.release_view import print_pins, print_release, print_releases
from modelup.config.store_url import parse_store_url
from modelup.errors import ModelupError, StoreError
from modelup.release import Release, Releases, State, export
from modelup.release.ledger import pin_json
from modelup.store.releases import open_releases

release_app = typer.Typer(
    name="release",
    help="A model change as a release: propose, gate, approve, promote, roll back.",
    no_args_is_help=True,
)

Store = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="The store: a path, sqlite:///path or postgresql://user:pass@host/db. "
        "Default: store.url, else history.path, else .modelup/history.sqlite.",
    ),
]
Config = Annotated[
    Path | None, typer.Option("--config", "-c", help="modelup.toml naming the store.")
]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ReleaseId = Annotated[str, typer.Argument(metavar="ID", help="The release, e.g. rel-3.")]
Actor = Annotated[
    str | None,
    typer.Option("--as", metavar="NAME", help="Who acts (default: your login name)."),
]
Signer = Annotated[str, typer.Option("--as", metavar="NAME", help="Who signs: the release owner.")]


_PIPED_WIDTH = 220


def _errors() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _out() -> Console:
    out = Console(soft_wrap=True)
    if not out.is_terminal:
        out.width = _PIPED_WIDTH  # piped or in CI: tables stay readable, as in modelup history
    return out


@contextmanager
def _releases(config: Path | None, store: str | None, *, create: bool) -> Iterator[Releases | None]:
    """The store's releases; ``None`` when reading a store nothing was recorded in. Every
    ``ModelupError`` becomes one line and exit 2 (a store that cannot be used is bad input,
    as for ``modelup history``), or 1 for a failure outside the request."""
    try:
        url = parse_store_url(store_url(config, store))
        opened = open_releases(url, create=create)
        if opened is None:
            yield None
            return
        with opened:
            yield Releases(opened)
    except StoreError as error:
        fail(error)
        raise typer.Exit(EXIT_USAGE) from None
    except ModelupError as error:
        raise fail(error) from None


def _where(releases: Releases | None, config: Path | None, store: str | None) -> str:
    """The store's public form (never its password)."""
    if releases is not None:
        return str(releases.store.url)
    return str(parse_store_url(store_url(config, store)))


def _must(releases: Releases | None, release_id: str) -> Releases:
    if releases is None:
        fail_text = f"no release {release_id}: no release has been recorded in this store yet"
        _errors().print(Text.assemble(("error: ", "bold red"), fail_text))
        raise typer.Exit(EXIT_USAGE)
    return releases


def _print_json(value: Any) -> None:
    print(jsonbytes.dumps(value, indent=True).decode("utf-8"))


def _actor(name: str | None) -> str:
    return name if name is not None else getpass.getuser()


def _done(release: Release, as_json: bool, line: str) -> None:
    if as_json:
        _print_json(release.to_json())
        return
    Console(soft_wrap=True).print(Text(line))


def _transition(
    config: Path | None,
    store: str | None,
    release_id: str,
    as_json: bool,
    act: Callable[[Releases], Release],
    line: Callable[[Release], str],
) -> None:
    with _releases(config, store, create=False) as releases:
        release = act(_must(releases, release_id))
    _done(release, as_json, line(release))


@release_app.command()
def new(
    file: Annotated[Path, typer.Argument(help="The release record (release.toml).")],
    actor: Actor = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Propose a release from its record; print its id."""
    with _releases(config, store, create=True) as releases:
        assert releases is not None  # create=True always opens one
        release = releases.new(file, actor=_actor(actor))
    if as_json:
        _print_json(release.to_json())
        return
    print(release.release_id)
    _errors().print(
        Text(
            f"Release {release.release_id} proposed: {release.row.workflow_id}, "
            f"{release.row.previous_model} → {release.row.candidate_model} (owner "
            f"{release.row.release_owner}). Next: modelup release gate {release.release_id}"
        )
    )


@release_app.command()
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
    errors = _errors()
    observer = None if as_json else ConsoleObserver(errors, errors)
    with _releases(config, store, create=False) as releases:
        gated = _must(releases, release_id).gate(
            release_id, actor=_actor(actor), report=report, observer=observer
        )
    evidence = gated.evidence
    if as_json:
        _print_json(gated.release.to_json())
    else:
        out = Console(soft_wrap=True)
        out.print(Text.assemble(f"Release {release_id} gated: ", (evidence.verdict, "bold")))
        for reason in evidence.reasons:
            out.print(Text(f"  - {reason}"))
        out.print(Text(f"Report: {evidence.report_path}"))
    raise typer.Exit(VERDICT_EXIT[evidence.verdict])


@release_app.command()
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

    _transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.approve(release_id, actor=actor, note=note, override=override),
        line,
    )


@release_app.command()
def reject(
    release_id: ReleaseId,
    actor: Signer,
    reason: Annotated[str, typer.Option(help="Why the release is rejected.")],
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """The release owner rejects the release (final)."""
    _transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.reject(release_id, actor=actor, reason=reason),
        lambda release: f"Release {release.release_id} rejected by {actor}: {reason}",
    )


@release_app.command()
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
        if release.state in (State.CANARY, State.SHADOW):
            return (
                f"Release {release.release_id} is in {release.state} ({pinned}); the "
                f"workflow's pin stays on its last-known-good until it is promoted again."
            )
        return (
            f"Release {release.release_id} promoted: {release.row.workflow_id} now serves "
            f"{pinned} (pinned)."
        )

    _transition(
        config,
        store,
        release_id,
        as_json,
        lambda r: r.promote(release_id, actor=_actor(actor)),
        line,
    )


@release_app.command()
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
        release = releases.rollback(release_id, actor=_actor(actor), reason=reason)
        pins = releases.pins(release.row.workflow_id)
        if pins:
            pin = pins[0]
            restored.append(f"{pin.identity.model} (release {pin.release_id or 'none'})")
        return release

    def line(release: Release) -> str:
        back = f"; {release.row.workflow_id} serves {restored[0]}" if restored else ""
        return f"Release {release.release_id} rolled back{back}."

    _transition(config, store, release_id, as_json, act, line)


@release_app.command("list")
def list_releases(
    workflow: Annotated[str | None, typer.Option(help="Only releases of this workflow_id.")] = None,
    state: Annotated[str | None, typer.Option(help="Only releases in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Releases to list, newest first.")] = 50,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """List releases, newest first."""
    with _releases(config, store, create=False) as releases:
        found = (
            releases.releases(workflow_id=workflow, state=state, limit=limit) if releases else []
        )
        where = _where(releases, config, store)
    if as_json:
        _print_json({"releases": [_summary(release) for release in found]})
    elif releases is None:
        _out().print(Text(f"No releases recorded yet ({where})."))
    else:
        print_releases(_out(), found, where)


def _summary(release: Release) -> dict[str, Any]:
    full = release.to_json()
    keys = ("release_id", "workflow_id", "state", "verdict", "override", "release_owner")
    return {
        **{key: full[key] for key in keys},
        "previous_model": full["previous_model"],
        "candidate_model": full["candidate_model"],
        "updated_at": full["updated_at"],
    }


@release_app.command()
def show(
    release_id: ReleaseId,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Show a release: its record, verdict and reasons, sign-off, pin and event log."""
    with _releases(config, store, create=False) as releases:
        release = _must(releases, release_id).get(release_id)
    if as_json:
        _print_json(release.to_json())
        return
    print_release(_out(), release)


@release_app.command()
def pinned(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow_id.")] = None,
    store: Store = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """The identity each workflow is pinned to, and its previous last-known-good."""
    with _releases(config, store, create=False) as releases:
        pins = releases.pins(workflow) if releases else []
        where = _where(releases, config, store)
    if as_json:
        _print_json({"pins": [pin_json(pin) for pin in pins]})
        return
    print_pins(_out(), pins, where)


@release_app.command("export")
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
    if as_json:
        fmt = "json"
    if fmt not in ("md", "json"):
        raise typer.BadParameter("md or json", param_hint="--format")
    with _releases(config, store, create=False) as releases:
        release = _must(releases, release_id).get(release_id)
    text = export(release, "md" if fmt == "md" else "json")
    if output is None:
        print(text, end="")
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _errors().print(Text(f"error: {output}: cannot write: {exc.strerror or exc}"))
        raise typer.Exit(EXIT_USAGE) from None
    Console(soft_wrap=True).print(Text(f"Exported release {release_id}: {output}"))
