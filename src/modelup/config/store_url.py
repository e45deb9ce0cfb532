"""Where a store lives, as a URL: a plain path or ``sqlite:///path`` for a SQLite file,
``postgresql://user:password@host:port/database`` (or ``postgres://``) for PostgreSQL.

A ``sqlite:`` URL follows SQLAlchemy's spelling: three slashes then the path, so
``sqlite:///.modelup/history.sqlite`` is relative and ``sqlite:////srv/history.sqlite`` absolute.
A PostgreSQL URL is handed to libpq as it is, query parameters included (``?sslmode=require``,
``?options=-csearch_path%3Dteam``). Its password is kept for connecting only: the public form
(``str``, ``repr`` and every message) never carries it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from modelup.errors import StoreError

Engine = Literal["sqlite", "postgresql"]
_ENGINES: dict[str, Engine] = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_FORMS = "a path, sqlite:///path or postgresql://user:password@host:port/database"


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A parsed store URL. ``str()`` is its public form: a SQLite store's file path, or a
    PostgreSQL URL without its password."""

    engine: Engine
    public: str
    path: Path | None = None
    """The SQLite file (``None`` for PostgreSQL)."""
    conninfo: str = field(default="", repr=False)
    """What the PostgreSQL driver connects with; it may hold the password: never show it."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """The password as written and decoded, to scrub from a driver's messages."""

    def __str__(self) -> str:
        return self.public

    def scrub(self, text: str) -> str:
        """``text`` (a driver's message) with the password replaced, on one line."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return " ".join(text.split())


StoreLocation = StoreUrl | str | os.PathLike[str]
"""A store URL, parsed or not; a ``Path`` is a SQLite file."""


def parse_store_url(url: StoreLocation) -> StoreUrl:
    """Parse ``url``: a path (``str`` or ``Path``), ``sqlite:///path`` or ``postgresql://...``.
    An unknown scheme is a ``StoreError``; the message never repeats the URL's password."""
    if isinstance(url, StoreUrl):
        return url
    if not isinstance(url, str):
        path = Path(url)
        return StoreUrl("sqlite", str(path), path)
    text = url.strip()
    match = _SCHEME.match(text)
    if match is None:
        if not text:
            raise StoreError(f"an empty store URL (use {_FORMS})")
        return StoreUrl("sqlite", text, Path(text))
    scheme = match.group(1).lower()
    engine = _ENGINES.get(scheme)
    if engine is None:
        raise StoreError(f"store URL scheme {scheme!r} is not supported (use {_FORMS})")
    if engine == "sqlite":
        path = _sqlite_path(text)
        return StoreUrl("sqlite", str(path), path)
    secrets = _passwords(text)
    return StoreUrl("postgresql", redact_url(text), conninfo=text, secrets=secrets)


def checked_store_url(url: str | None) -> str | None:
    """``url`` unchanged if it parses; else a ``ValueError`` (for a settings validator)."""
    if url is not None:
        try:
            parse_store_url(url)
        except StoreError as exc:
            raise ValueError(str(exc)) from None
    return url


def _sqlite_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise StoreError(
            f"{url}: a sqlite URL is sqlite:///relative/path or sqlite:////absolute/path"
        )
    return Path(unquote(parts.path[1:]))


def _passwords(url: str) -> tuple[str, ...]:
    parts = urlsplit(url)
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    found += [
        value for key, value in parse_qsl(parts.query, keep_blank_values=True) if key == "password"
    ]
    raw = [secret for secret in found if secret]
    # Longest first, so that a password containing another is replaced whole.
    return tuple(sorted({*raw, *(unquote(secret) for secret in raw)}, key=len, reverse=True))


_SECRET_PARAMETERS = frozenset(
    {
        "password",
        "sslpassword",
        "api_key",
        "api-key",
        "apikey",
        "key",
        "token",
        "access_token",
        "secret",
        "sig",
    }
)
"""Query parameters that carry a credential (compared without case)."""


def redact_url(url: str) -> str:
    """``url`` without its credentials: the password of its user part, and any query parameter
    that carries one (``password``, ``api_key``, ``key``, ``token``...): the form that may be
    printed, logged or saved. A path or a URL without credentials is unchanged."""
    if _SCHEME.match(url.strip()) is None:
        return url
    parts = urlsplit(url.strip())
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = f"{userinfo.split(':', 1)[0]}@{host}" if at else host
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in _SECRET_PARAMETERS for key, _ in pairs):
            query = urlencode(
                [(key, value) for key, value in pairs if key.lower() not in _SECRET_PARAMETERS]
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def resolve_store_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base`` (the directory of the
    configuration file that names it); a PostgreSQL URL, or anything unparsable, is unchanged."""
    try:
        parsed = parse_store_url(url)
    except StoreError:
        return url  # validation reports it, against the file
    if parsed.path is None or parsed.path.is_absolute():
        return url
    absolute = (base / parsed.path).resolve()
    return f"sqlite:///{absolute}" if _SCHEME.match(url.strip()) else str(absolute)
