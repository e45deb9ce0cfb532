"""What every ``modelup release`` command shares: its options, opening the store's releases,
and printing (text, or ``--json``)."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from modelup import jsonbytes
from modelup._cli.common import EXIT_USAGE, fail
from modelup._cli.history import store_url
from modelup.config.store_url import parse_store_url
from modelup.errors import ModelupError, StoreError

if TYPE_CHECKING:
    from modelup.release import Release, Releases

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


def errors_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def out_console() -> Console:
    out = Console(soft_wrap=True)
    if not out.is_terminal:
        out.width = _PIPED_WIDTH  # piped or in CI: tables stay readable, as in modelup history
    return out


@contextmanager
def opened_releases(
    config: Path | None, store: str | None, *, create: bool
) -> Iterator[Releases | None]:
    """The store's releases; ``None`` when reading a store nothing was recorded in. Every
    ``ModelupError`` becomes one line and exit 2 (a store that cannot be used is bad input,
    as for ``modelup history``), or 1 for a failure outside the request."""
    from modelup.release import Releases  # the stages, only when a command runs
    from modelup.store.releases import open_releases

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


def where(releases: Releases | None, config: Path | None, store: str | None) -> str:
    """The store's public form (never its password)."""
    if releases is not None:
        return str(releases.store.url)
    return str(parse_store_url(store_url(config, store)))


def must(releases: Releases | None, release_id: str) -> Releases:
    if releases is None:
        fail_text = f"no release {release_id}: no release has been recorded in this store yet"
        errors_console().print(Text.assemble(("error: ", "bold red"), fail_text))
        raise typer.Exit(EXIT_USAGE)
    return releases


def print_json(value: Any) -> None:
    print(jsonbytes.dumps(value, indent=True).decode("utf-8"))


def actor_name(name: str | None) -> str:
    """``--as``, else the login name (which some containers do not have)."""
    if name is not None:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        message = "--as NAME: say who you are (this session has no login name)"
        errors_console().print(Text.assemble(("error: ", "bold red"), message))
        raise typer.Exit(EXIT_USAGE) from None


def done(release: Release, as_json: bool, line: str) -> None:
    if as_json:
        print_json(release.to_json())
        return
    Console(soft_wrap=True).print(Text(line))


def transition(
    config: Path | None,
    store: str | None,
    release_id: str,
    as_json: bool,
    act: Callable[[Releases], Release],
    line: Callable[[Release], str],
) -> None:
    with opened_releases(config, store, create=False) as releases:
        release = act(must(releases, release_id))
    done(release, as_json, line(release))
