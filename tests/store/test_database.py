"""The database seam: store URLs and their public form, the dialect's translations, the same
calls on SQLite and PostgreSQL, and connection errors that never carry the password."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from modelup.config.store_url import redact_url, resolve_store_url
from modelup.errors import StoreError
from modelup.store import POSTGRES_EXTRA, connect, open_store, parse_store_url, upsert
from modelup.store.database import POSTGRESQL, SQLITE, Database
from support.reports import make_report
from support.store_engines import postgres_server_url

SECRET = "hunter2-s3cret"


# ---- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (".modelup/history.sqlite", Path(".modelup/history.sqlite")),
        (Path("/srv/h.sqlite"), Path("/srv/h.sqlite")),
        ("sqlite:///.modelup/history.sqlite", Path(".modelup/history.sqlite")),
        ("sqlite:////srv/team/history.sqlite", Path("/srv/team/history.sqlite")),
        ("SQLITE:///a%20b.sqlite", Path("a b.sqlite")),
    ],
)
def test_a_path_or_a_sqlite_url_is_a_sqlite_store(url: str | Path, path: Path) -> None:
    parsed = parse_store_url(url)
    assert parsed.engine == "sqlite" and parsed.path == path and str(parsed) == str(path)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_keeps_its_password_for_connecting_only(scheme: str) -> None:
    url = f"{scheme}://team:{SECRET}@db.example:5433/modelup?sslmode=require"
    parsed = parse_store_url(url)
    assert parsed.engine == "postgresql" and parsed.path is None
    assert parsed.conninfo == url
    assert str(parsed) == f"{scheme}://team@db.example:5433/modelup?sslmode=require"
    assert SECRET not in repr(parsed) and SECRET not in str(parsed)


@pytest.mark.parametrize(
    ("url", "public"),
    [
        (f"postgresql://u:{SECRET}@h/db", "postgresql://u@h/db"),
        (f"postgresql://u:{SECRET}@[::1]:5432/db", "postgresql://u@[::1]:5432/db"),
        (f"postgresql://h/db?user=u&password={SECRET}&sslmode=require", None),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("state/history.sqlite", "state/history.sqlite"),
    ],
    ids=["user-part", "ipv6-host", "password-parameter", "no-password", "a-path"],
)
def test_redacting_strips_the_password_wherever_it_is_written(url: str, public: str | None) -> None:
    redacted = redact_url(url)
    assert SECRET not in redacted
    if public is not None:
        assert redacted == public
    else:
        assert "user=u" in redacted and "sslmode=require" in redacted


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"mysql://u:{SECRET}@h/db", "scheme 'mysql' is not supported"),
        ("sqlite://host/x.sqlite", "a sqlite URL is sqlite:///relative/path"),
        ("sqlite:///", "a sqlite URL is"),
        ("  ", "an empty store URL"),
    ],
)
def test_an_unusable_url_is_a_store_error_without_the_password(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as error:
        parse_store_url(url)
    assert SECRET not in str(error.value)


def test_relative_sqlite_paths_resolve_against_a_base(tmp_path: Path) -> None:
    assert resolve_store_url("h.sqlite", tmp_path) == str(tmp_path / "h.sqlite")
    assert resolve_store_url("sqlite:///s/h.sqlite", tmp_path) == f"sqlite:///{tmp_path}/s/h.sqlite"
    assert parse_store_url(resolve_store_url("sqlite:///s/h.sqlite", tmp_path)).path == (
        tmp_path / "s" / "h.sqlite"
    )
    for unchanged in ("/abs/h.sqlite", "sqlite:////abs/h.sqlite", "postgresql://u:p@h/db", "x://"):
        assert resolve_store_url(unchanged, tmp_path) == unchanged


# ---- The dialect ------------------------------------------------------------------------------


def test_placeholders_are_translated_outside_string_literals() -> None:
    sql = "SELECT '?', 'it''s 50%' FROM t WHERE a = ? AND b LIKE ? ESCAPE '\\' AND c % 2 = 0"
    assert SQLITE.sql(sql) == sql
    assert POSTGRESQL.sql(sql) == (
        "SELECT '?', 'it''s 50%%' FROM t WHERE a = %s AND b LIKE %s ESCAPE '\\' AND c %% 2 = 0"
    )


def test_schema_types_are_mapped_for_postgresql() -> None:
    ddl = "CREATE TABLE t (name TEXT PRIMARY KEY, value REAL, n INTEGER, texture TEXT)"
    assert SQLITE.ddl(ddl) == ddl
    assert POSTGRESQL.ddl(ddl) == (
        'CREATE TABLE t (name TEXT COLLATE "C" PRIMARY KEY, value DOUBLE PRECISION, n BIGINT, '
        'texture TEXT COLLATE "C")'
    )


def test_upsert_is_one_text_for_both_engines() -> None:
    assert upsert("t", ("k", "a", "b"), ("k",)) == (
        "INSERT INTO t (k, a, b) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET "
        "a = excluded.a, b = excluded.b"
    )


# ---- One API, two engines ---------------------------------------------------------------------


def _table(db: Database) -> None:
    db.execute_ddl("CREATE TABLE t (k TEXT PRIMARY KEY, v REAL, n INTEGER)")
    if db.dialect.name == "postgresql":
        db.execute("ALTER TABLE t ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY")


def test_the_same_calls_work_on_both_engines(store_url: str) -> None:
    with connect(store_url) as db:
        assert not db.table_exists("t")
        _table(db)
        assert db.table_exists("t")
        db.executemany("INSERT INTO t (k, v, n) VALUES (?, ?, ?)", [("b", 0.1, 1), ("a", 1 / 3, 2)])
        db.executemany("INSERT INTO t (k, v, n) VALUES (?, ?, ?)", [])
        db.execute(upsert("t", ("k", "v", "n"), ("k",)), ("b", 2.5, 3))
        assert db.query(f"SELECT k, v, n FROM t ORDER BY {db.dialect.row_order}") == [
            ("b", 2.5, 3),
            ("a", 1 / 3, 2),
        ]
        assert db.query("SELECT k FROM t ORDER BY k") == [("a",), ("b",)]
        assert db.query_one("SELECT count(*) FROM t WHERE k LIKE ?", ("%",)) == (2,)
        assert db.query_one("SELECT k FROM t WHERE k = ?", ("zzz",)) is None
        assert SECRET not in repr(db) and db.dialect.name in repr(db)


def test_text_sorts_by_its_bytes_on_both_engines(store_url: str) -> None:
    with connect(store_url) as db:
        _table(db)
        keys = ["b", "B", "a-2", "a_1", "A", "é", "a 1", "20260101T000000Z-x", "run-10", "run-9"]
        db.executemany("INSERT INTO t (k) VALUES (?)", [(key,) for key in keys])
        ordered = [row[0] for row in db.query("SELECT k FROM t ORDER BY k")]
    assert ordered == sorted(keys, key=lambda key: key.encode("utf-8"))


def test_a_transaction_commits_whole_or_not_at_all(store_url: str) -> None:
    with connect(store_url) as db:
        _table(db)
        with db.transaction():
            db.execute("INSERT INTO t (k) VALUES (?)", ("kept",))
            assert db.query_one(f"SELECT k FROM t WHERE k = ?{db.dialect.lock_rows}", ("kept",))
        with pytest.raises(RuntimeError, match="boom"), db.transaction():
            db.execute("INSERT INTO t (k) VALUES (?)", ("lost",))
            raise RuntimeError("boom")
        with pytest.raises(db.errors), db.transaction():
            db.execute("INSERT INTO t (k) VALUES (?)", ("also lost",))
            db.execute("INSERT INTO t (k) VALUES (?)", ("kept",))  # a duplicate key
        assert db.query("SELECT k FROM t") == [("kept",)]
        nested = pytest.raises(RuntimeError, match="do not nest")
        with db.transaction(), nested, db.transaction():
            pass
        with pytest.raises(RuntimeError, match="needs a transaction"):
            db.lock_exclusively()


def test_the_same_run_recorded_at_once_by_two_writers_is_kept_once(store_url: str) -> None:
    report = make_report()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store = open_store(store_url)
            assert store is not None
            with store:
                for _ in range(5):
                    store.record(report)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    store = open_store(store_url)
    assert store is not None
    with store:
        [run] = store.runs()
        assert run.verdicts == {"cand-model": "Rollback"}
        assert len(run.figures["cand-model"]) == len(report.models[1].summary)


# ---- Connecting to PostgreSQL -----------------------------------------------------------------


def test_a_wrong_password_is_refused_without_showing_either_password(postgres_url: str) -> None:
    server = postgres_server_url()
    real = server.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    wrong = postgres_url.replace(f":{real}@", f":{SECRET}@")
    with pytest.raises(StoreError, match="password authentication failed") as error:
        open_store(wrong)
    message = str(error.value)
    assert SECRET not in message and real not in message
    assert error.value.__cause__ is None  # the driver's own error is not chained
    assert "postgresql://modelup@127.0.0.1" in message


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@127.0.0.1:1/db?connect_timeout=2",  # nothing listens there
        f"postgresql://u:{SECRET}%zz@127.0.0.1:1/db",  # libpq quotes a bad token it cannot read
        f"postgresql://127.0.0.1:1/db?password={SECRET}&bogus=1",
    ],
    ids=["refused", "bad-percent-encoding", "password-parameter"],
)
def test_a_connection_error_never_carries_the_password(url: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="cannot connect") as error:
        connect(url, timeout=2)
    assert SECRET not in str(error.value) and "\n" not in str(error.value)


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(StoreError) as error:
        open_store(f"postgresql://u:{SECRET}@127.0.0.1/db")
    assert POSTGRES_EXTRA in str(error.value) and "pip install 'modelup[postgres]'" in str(
        error.value
    )
    assert SECRET not in str(error.value)
