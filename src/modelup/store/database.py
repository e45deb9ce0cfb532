"""The one seam between the store and a database engine: SQLite through the standard library,
PostgreSQL through psycopg 3 (the ``postgres`` extra, imported only when a store asks for it).

Store code writes one SQL dialect: ``?`` placeholders, SQLite's column types in upper case in
schema statements (``TEXT``, ``REAL``, ``INTEGER``), and ``INSERT ... ON CONFLICT (key) DO UPDATE
SET column = excluded.column`` for an upsert, which both engines read alike (see ``upsert``).
What must differ is here, in ``Dialect`` and ``Database``:

- placeholders: ``?`` becomes ``%s`` for psycopg (and a literal ``%`` becomes ``%%``);
- column types (``Database.execute_ddl``): PostgreSQL's ``TEXT COLLATE "C"`` sorts text by its
  bytes as SQLite does, whatever the database's locale; ``REAL`` is ``DOUBLE PRECISION``
  (PostgreSQL's ``REAL`` is single precision); ``INTEGER`` is ``BIGINT``;
- insertion order: SQLite's ``rowid``; a PostgreSQL table whose row order matters gets an
  identity column ``seq`` (``Dialect.row_order`` names the one to sort by);
- transactions: SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock at once (one writer at
  a time, waiting up to the busy timeout); PostgreSQL runs ordinary transactions, with row locks
  (``Dialect.lock_rows``, ``SELECT ... FOR UPDATE``) and, to migrate, a transaction-scoped
  advisory lock (``Database.lock_exclusively``).

Driver errors are not converted here: the caller knows what it was doing and catches
``Database.errors`` to say so in a ``StoreError``. Connecting is converted here, because a
driver's message may quote the connection string: the password is scrubbed from it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from modelup.config.store_url import Engine, StoreLocation, StoreUrl, parse_store_url
from modelup.errors import StoreError

POSTGRES_EXTRA = "pip install 'modelup[postgres]'"
_MIGRATION_LOCK = 0x6D6F64656C7570  # "modelup": the advisory lock every migrating process takes
_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?|%")
_SCHEMA_TYPE = re.compile(r"\b(TEXT|REAL|INTEGER)\b")
_POSTGRES_TYPES = {"TEXT": 'TEXT COLLATE "C"', "REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the SQL of one engine needs that the other's does not."""

    name: Engine
    row_order: str
    """The column that orders a table's rows as they were inserted."""
    lock_rows: str
    """Appended to a ``SELECT`` whose rows the transaction goes on to change."""

    def sql(self, text: str) -> str:
        """``text`` in this engine's placeholders."""
        return text if self.name == "sqlite" else _percent_placeholders(text)

    def ddl(self, text: str) -> str:
        """A schema statement in this engine's column types."""
        if self.name == "sqlite":
            return text
        return _SCHEMA_TYPE.sub(lambda match: _POSTGRES_TYPES[match.group(1)], text)


SQLITE = Dialect("sqlite", row_order="rowid", lock_rows="")
POSTGRESQL = Dialect("postgresql", row_order="seq", lock_rows=" FOR UPDATE")


@lru_cache(maxsize=256)
def _percent_placeholders(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")  # psycopg reads every % outside its own placeholders

    return _LITERAL_OR_MARK.sub(replace, text)


def upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """``INSERT`` of ``columns`` into ``table`` that updates the row already holding ``key``:
    the same text on both engines (SQLite 3.24 and later). On PostgreSQL a concurrent writer of
    the same key waits for this transaction and then updates, instead of failing."""
    update = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
    )


class Database:
    """An open connection to a store, in autocommit mode outside ``transaction()``.

    Used from one thread at a time. ``errors`` is what the driver raises (catch it to convert).
    """

    def __init__(
        self,
        connection: Any,
        dialect: Dialect,
        url: StoreUrl,
        errors: tuple[type[Exception], ...],
        conflicts: tuple[type[Exception], ...] = (),
    ) -> None:
        # Any: sqlite3.Connection or psycopg.Connection, whose execute() both return a cursor
        # with fetchone() and fetchall(); the placeholders are what differs, handled here.
        self._connection = connection
        self.dialect = dialect
        self.url = url
        self.errors = errors
        self.conflicts = conflicts
        """What the driver raises when a write breaks a constraint (a unique key a concurrent
        writer took first): a subset of ``errors``."""
        self._in_transaction = False

    def __repr__(self) -> str:
        return f"<Database {self.dialect.name} {self.url.public}>"

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self._connection.execute(self.dialect.sql(sql), tuple(params))

    def execute_ddl(self, sql: str) -> None:
        """A schema statement written with SQLite's column types (see the module docstring)."""
        self._connection.execute(self.dialect.sql(self.dialect.ddl(sql)), ())

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        cursor = self._connection.cursor()
        try:
            cursor.executemany(self.dialect.sql(sql), batch)
        finally:
            cursor.close()

    def query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        rows: list[Row] = self._connection.execute(self.dialect.sql(sql), tuple(params)).fetchall()
        return rows

    def query_one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row: Row | None = self._connection.execute(self.dialect.sql(sql), tuple(params)).fetchone()
        return row

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One transaction: committed when the block ends, rolled back if it raises. On SQLite
        it holds the file's write lock from the start. Transactions do not nest."""
        if self._in_transaction:
            raise RuntimeError("store transactions do not nest")
        self._in_transaction = True
        try:
            if self.dialect.name == "sqlite":
                with _sqlite_transaction(self._connection):
                    yield self
            else:
                with self._connection.transaction():
                    yield self
        finally:
            self._in_transaction = False

    def lock_exclusively(self) -> None:
        """Within a transaction: hold the store's one exclusive lock until it ends, so that one
        process at a time migrates. SQLite's ``BEGIN IMMEDIATE`` already holds it."""
        if not self._in_transaction:
            raise RuntimeError("lock_exclusively() needs a transaction")
        if self.dialect.name == "postgresql":
            self.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def table_exists(self, name: str) -> bool:
        """Whether ``name`` is a table of this store (on PostgreSQL: on the search path)."""
        if self.dialect.name == "sqlite":
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            return self.query_one(sql, (name,)) is not None
        row = self.query_one("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(row and row[0])

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _sqlite_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def connect(url: StoreLocation, *, timeout: float = 10.0, create: bool = True) -> Database:
    """Open the store at ``url``. A SQLite file's directory is made when ``create`` is true;
    ``timeout`` is how long to wait for a locked SQLite file, or to connect to PostgreSQL."""
    location = parse_store_url(url)
    if location.engine == "sqlite":
        return _connect_sqlite(location, timeout, create)
    return _connect_postgres(location, timeout)


def _connect_sqlite(url: StoreUrl, timeout: float, create: bool) -> Database:
    assert url.path is not None  # a SQLite URL always has its path
    if create:
        try:
            url.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{url}: cannot create the store: {exc.strerror}") from exc
    try:
        connection = sqlite3.connect(url.path, isolation_level=None, timeout=timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"{url}: cannot open the store: {exc}") from exc
    connection.execute("PRAGMA foreign_keys = ON")
    return Database(connection, SQLITE, url, (sqlite3.Error,), (sqlite3.IntegrityError,))


def _connect_postgres(url: StoreUrl, timeout: float) -> Database:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            f"{url}: a PostgreSQL store needs the psycopg driver: {POSTGRES_EXTRA}"
        ) from None
    try:
        connection = psycopg.connect(
            url.conninfo, autocommit=True, connect_timeout=max(1, round(timeout))
        )
    except psycopg.Error as exc:
        # Not chained: the driver's own message may quote the connection string.
        raise StoreError(f"{url}: cannot connect: {url.scrub(str(exc))}") from None
    return Database(connection, POSTGRESQL, url, (psycopg.Error,), (psycopg.IntegrityError,))
