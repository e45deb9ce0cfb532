"""The store's two engines in tests: a SQLite file, and a fresh schema on the PostgreSQL server
named by ``TEST_POSTGRES_URL`` (``./scripts/test.sh`` starts a throwaway one).

Without that variable the PostgreSQL tests skip, unless ``REQUIRE_POSTGRES=1`` (CI) makes them
fail. Neither variable starts with ``MODELUP_``, so the hermetic fixture leaves them alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

POSTGRES_ENV = "TEST_POSTGRES_URL"
REQUIRE_ENV = "REQUIRE_POSTGRES"
ENGINES = ("sqlite", "postgresql")


def postgres_server_url() -> str:
    """The test server's URL; skips the test (fails it under ``REQUIRE_POSTGRES=1``) without."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    reason = (
        f"no PostgreSQL server: {POSTGRES_ENV} is not set "
        "(./scripts/test.sh starts a throwaway server when PostgreSQL's binaries are installed)"
    )
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its connections working in ``schema`` (libpq's ``options`` parameter)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL on a fresh schema of the test server, dropped after the test."""
    server = postgres_server_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    _admin(server, f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(server, schema)
    finally:
        _admin(server, f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty project store on each engine in turn: a SQLite path, a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "store" / "history.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url
