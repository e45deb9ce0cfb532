"""The response cache: what its key depends on, what it stores, what it never stores, and how
its file migrates (an older cache file is adopted by the store's runner)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from modelup.config.endpoints import public_endpoint
from modelup.errors import StoreError
from modelup.models.cache import cache_key
from modelup.models.chat import ChatRequest, ChatResponse, Message, Usage
from modelup.store.cache import ResponseCache

BASE = ChatRequest(
    model="m1",
    messages=(Message("system", "rules"), Message("user", "case text")),
    temperature=0.0,
    max_tokens=256,
    seed=1,
    extra={"top_p": 1},
)
ANSWER = ChatResponse("{}", 812.5, "m1-2024", Usage(100, 20), "fp_9")


def test_the_key_is_stable_and_ignores_dict_order() -> None:
    again = replace(BASE, extra={"top_p": 1})
    assert cache_key("http://h/v1", BASE) == cache_key("http://h/v1/", again)


@pytest.mark.parametrize(
    "changed",
    [
        replace(BASE, model="m2"),
        replace(BASE, messages=(Message("system", "rules"), Message("user", "case text!"))),
        replace(BASE, temperature=0.7),
        replace(BASE, max_tokens=512),
        replace(BASE, seed=2),
        replace(BASE, extra={"top_p": 0.9}),
        replace(BASE, epoch=1),
    ],
    ids=["model", "messages", "temperature", "max_tokens", "seed", "extra", "epoch"],
)
def test_everything_that_decides_an_answer_changes_the_key(changed: ChatRequest) -> None:
    assert cache_key("http://h/v1", changed) != cache_key("http://h/v1", BASE)


def test_the_endpoint_is_part_of_the_key_but_its_credentials_are_not() -> None:
    assert cache_key("http://a/v1", BASE) != cache_key("http://b/v1", BASE)
    assert public_endpoint("https://user:sk-secret@api.example.com:8443/v1/") == (
        "https://api.example.com:8443/v1"
    )
    assert cache_key("https://user:sk-1@h/v1", BASE) == cache_key("https://h/v1", BASE)


def test_model_text_with_a_lone_surrogate_is_cached_and_read_back(tmp_path: Path) -> None:
    hostile = replace(ANSWER, content="hostile \ud800 text")
    request = replace(BASE, messages=(Message("user", "a case with \udfff in it"),))
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        cache.put(cache_key("http://h/v1", request), "m1", hostile)
        assert cache.get(cache_key("http://h/v1", request)) == hostile


def test_an_answer_round_trips_with_its_latency_usage_and_identity(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.sqlite"
    with ResponseCache(path) as cache:
        assert cache.get("k") is None
        cache.put("k", "m1", ANSWER)
    with ResponseCache(path) as cache:
        assert cache.get("k") == ANSWER
        assert len(cache) == 1


def test_refresh_misses_every_lookup_but_still_stores(tmp_path: Path) -> None:
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        cache.put("k", "m1", ANSWER)
    with ResponseCache(tmp_path / "c.sqlite", refresh=True) as cache:
        assert cache.get("k") is None
        cache.put("k", "m1", replace(ANSWER, content="new"))
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        assert (cache.get("k") or ANSWER).content == "new"


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:
        cache.put("k", "m1", ANSWER)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE responses SET response = '{broken'")
    with ResponseCache(path) as cache:
        assert cache.get("k") is None


def test_migrations_are_named_and_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    ResponseCache(path).close()
    ResponseCache(path).close()
    with sqlite3.connect(path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM _migrations")]
    assert names == ["m001_responses"]


def test_a_cache_file_of_the_older_runner_is_adopted_with_its_answers(tmp_path: Path) -> None:
    """What modelup 0.1 wrote: its steps in a ``migrations`` table, not ``_migrations``."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
        "response TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    db.execute("INSERT INTO migrations VALUES ('m001_responses', '2025-12-01T00:00:00+00:00')")
    db.execute(
        "INSERT INTO responses VALUES ('k', 'm1', ?, '2025-12-01T00:00:00+00:00')",
        (
            '{"content": "{}", "latency_ms": 812.5, "resolved_model": "m1-2024", '
            '"prompt_tokens": 100, "completion_tokens": 20, "system_fingerprint": "fp_9"}',
        ),
    )
    db.close()
    with ResponseCache(path) as cache:
        assert cache.get("k") == ANSWER
        cache.put("k2", "m1", ANSWER)
    with ResponseCache(path) as cache:
        assert len(cache) == 2
    with sqlite3.connect(path) as check:
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
        assert "migrations" not in tables
        rows = check.execute("SELECT name, applied_at FROM _migrations").fetchall()
    assert rows == [("m001_responses", "2025-12-01T00:00:00+00:00")]


def test_a_cache_from_a_newer_modelup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    ResponseCache(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO _migrations VALUES ('m002_future', 'x')")
    with pytest.raises(StoreError, match=r"response cache was written by a newer modelup"):
        ResponseCache(path)


def test_an_unusable_cache_file_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"not-a-db\.sqlite"):
        ResponseCache(path)


def _rows_on_disk(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM responses").fetchone()[0])


def test_answers_are_written_in_batches_and_read_back_before_they_are(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    try:
        for index in range(3):
            cache.put(f"k{index}", "m1", ANSWER)
        assert _rows_on_disk(path) == 0  # pending: a killed run loses these, never its results
        assert cache.get("k2") == ANSWER
        for index in range(3, 256):
            cache.put(f"k{index}", "m1", ANSWER)
        assert _rows_on_disk(path) == 256  # the 256th answer wrote the batch
        cache.put("k256", "m1", ANSWER)
        assert _rows_on_disk(path) == 256
    finally:
        cache.close()
    assert _rows_on_disk(path) == 257
