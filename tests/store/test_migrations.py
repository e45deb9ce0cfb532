"""The one migration runner, on both engines: a fresh store, a re-open that does nothing, a
store from a newer modelup refused, a failing step that leaves nothing applied, adoption of an
older table of record, and two processes migrating at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modelup.errors import StoreError
from modelup.store import Database, Migration, applied_migrations, connect, migrate
from modelup.store.migrations import registrar


def m001_things(db: Database) -> None:
    db.execute_ddl("CREATE TABLE things (name TEXT PRIMARY KEY, weight REAL)")


def m002_seed(db: Database) -> None:
    db.execute("INSERT INTO things (name, weight) VALUES (?, ?)", ("first", 1.5))


def m003_broken(db: Database) -> None:
    db.execute("INSERT INTO things (name, weight) VALUES (?, ?)", ("second", 2.5))
    raise RuntimeError("m003 failed halfway")


STEPS: list[Migration] = [m001_things, m002_seed]


def test_a_fresh_store_runs_every_step_in_order_and_a_reopen_runs_none(store_url: str) -> None:
    with connect(store_url) as db:
        assert applied_migrations(db) == []
        assert migrate(db, STEPS) == ["m001_things", "m002_seed"]
        assert db.query("SELECT name, weight FROM things") == [("first", 1.5)]
    with connect(store_url) as db:
        assert migrate(db, STEPS) == []
        assert applied_migrations(db) == ["m001_things", "m002_seed"]
        assert db.query("SELECT count(*) FROM things") == [(1,)]


def test_a_new_step_at_the_end_is_all_a_store_gets(store_url: str) -> None:
    with connect(store_url) as db:
        migrate(db, STEPS[:1])
        assert migrate(db, STEPS) == ["m002_seed"]
        assert applied_migrations(db) == ["m001_things", "m002_seed"]


def test_a_store_with_an_unknown_migration_is_refused(store_url: str) -> None:
    with connect(store_url) as db:
        migrate(db, STEPS)
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m007_future', 'x')")
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m008_later', 'x')")
        with pytest.raises(StoreError) as error:
            migrate(db, [*STEPS, m003_broken], kind="test store")
        assert str(error.value) == (
            f"{db.url}: this test store was written by a newer modelup "
            "(unknown migrations: m007_future, m008_later); upgrade modelup to use it"
        )
        assert db.query("SELECT count(*) FROM things") == [(1,)]  # nothing ran, m003 included


def test_a_failing_migration_leaves_nothing_applied(store_url: str) -> None:
    with connect(store_url) as db:
        with pytest.raises(RuntimeError, match="m003 failed halfway"):
            migrate(db, [*STEPS, m003_broken])
        # Not even the steps before it, nor the table of record: one transaction for all.
        assert applied_migrations(db) == []
        assert not db.table_exists("things") and not db.table_exists("_migrations")
        assert migrate(db, STEPS) == ["m001_things", "m002_seed"]
        with pytest.raises(RuntimeError):
            migrate(db, [*STEPS, m003_broken])
        assert applied_migrations(db) == ["m001_things", "m002_seed"]
        assert db.query("SELECT name FROM things") == [("first",)]


def test_a_driver_error_in_a_step_is_the_drivers_and_rolls_back(store_url: str) -> None:
    def m003_bad_sql(db: Database) -> None:
        db.execute("INSERT INTO no_such_table VALUES (1)")

    with connect(store_url) as db:
        with pytest.raises(db.errors):
            migrate(db, [*STEPS, m003_bad_sql])
        assert applied_migrations(db) == []


def test_an_adopt_hook_runs_in_the_migrating_transaction(store_url: str) -> None:
    seen: list[list[str]] = []

    def adopt(db: Database) -> None:
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m001_things', 'old')")
        db.execute_ddl("CREATE TABLE things (name TEXT PRIMARY KEY, weight REAL)")
        seen.append(applied_migrations(db))

    with connect(store_url) as db:
        assert migrate(db, STEPS, adopt=adopt) == ["m002_seed"]
        assert seen == [["m001_things"]]


def test_the_decorator_appends_in_order_and_names_must_not_repeat(tmp_path: Path) -> None:
    steps: list[Migration] = []
    migration = registrar(steps)
    migration(m001_things)
    migration(m002_seed)
    assert steps == [m001_things, m002_seed]
    with connect(tmp_path / "s.sqlite") as db, pytest.raises(ValueError, match="repeat"):
        migrate(db, [m001_things, m001_things])


_RACER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from modelup.store import connect, migrate

    url, go, ready = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def m001_slow(db):
        db.execute_ddl("CREATE TABLE steps (step TEXT NOT NULL, pid INTEGER NOT NULL)")
        db.execute("INSERT INTO steps VALUES ('m001', ?)", (os.getpid(),))
        time.sleep(0.5)  # long enough for the other process to arrive and wait

    def m002_after(db):
        db.execute("INSERT INTO steps VALUES ('m002', ?)", (os.getpid(),))

    ready.touch()
    deadline = time.monotonic() + 30
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    with connect(url, timeout=30) as db:
        print(",".join(migrate(db, [m001_slow, m002_after])) or "-")
    """
)


def test_two_processes_migrating_at_once_apply_each_step_once(
    store_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, store_url, str(go), str(tmp_path / f"ready-{index}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready-{index}").exists() for index in range(2)):
        assert time.monotonic() < deadline, "the racers never got ready"
        time.sleep(0.01)
    go.touch()  # both imported and waiting: they connect and migrate at the same moment
    results = [racer.communicate(timeout=60) for racer in racers]
    for racer, (_, err) in zip(racers, results, strict=True):
        assert racer.returncode == 0, err
    assert sorted(out.strip() for out, _ in results) == ["-", "m001_slow,m002_after"]
    with connect(store_url) as db:
        assert applied_migrations(db) == ["m001_slow", "m002_after"]
        rows = db.query("SELECT step, pid FROM steps ORDER BY step")
    assert [step for step, _ in rows] == ["m001", "m002"]
    assert rows[0][1] == rows[1][1]  # both steps by the one process that migrated
