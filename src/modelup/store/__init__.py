"""The store: what modelup keeps between runs, in SQLite or PostgreSQL, migrated by one runner.

The project store (history and releases; traces next) lives at a store URL: a path or
``sqlite:///path`` (the default, ``.modelup/history.sqlite``), or ``postgresql://...`` for a
team. Every store kind, the project store and the per-machine response cache
(``modelup.store.cache.ResponseCache``), migrates with the same named, append-only steps.
"""

from modelup.config.store_url import (
    StoreLocation,
    StoreUrl,
    parse_store_url,
    redact_url,
    resolve_store_url,
)
from modelup.store.database import POSTGRES_EXTRA, Database, Dialect, connect, upsert
from modelup.store.history import (
    DEFAULT_PATH,
    KEY_FIGURES,
    HistoryStore,
    RunEntry,
    TrendLine,
    TrendPoint,
    open_store,
    present,
    record_run,
    series_label,
)
from modelup.store.migrations import Migration, applied_migrations, migrate
from modelup.store.schema import MIGRATIONS

__all__ = [
    "DEFAULT_PATH",
    "KEY_FIGURES",
    "MIGRATIONS",
    "POSTGRES_EXTRA",
    "Database",
    "Dialect",
    "HistoryStore",
    "Migration",
    "RunEntry",
    "StoreLocation",
    "StoreUrl",
    "TrendLine",
    "TrendPoint",
    "applied_migrations",
    "connect",
    "migrate",
    "open_store",
    "parse_store_url",
    "present",
    "record_run",
    "redact_url",
    "resolve_store_url",
    "series_label",
    "upsert",
]
