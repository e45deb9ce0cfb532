"""The store: what modelup keeps between runs, in SQLite or PostgreSQL, migrated by one runner.

The project store (history and releases; traces next) lives at a store URL: a path or
``sqlite:///path`` (the default, ``.modelup/history.sqlite``), or ``postgresql://...`` for a
team. Every store kind, the project store and the per-machine response cache
(``modelup.store.cache.ResponseCache``), migrates with the same named, append-only steps.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
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

_EXPORTS = {
    "DEFAULT_PATH": ("modelup.store.history", "DEFAULT_PATH"),
    "Database": ("modelup.store.database", "Database"),
    "Dialect": ("modelup.store.database", "Dialect"),
    "HistoryStore": ("modelup.store.history", "HistoryStore"),
    "KEY_FIGURES": ("modelup.store.history", "KEY_FIGURES"),
    "MIGRATIONS": ("modelup.store.schema", "MIGRATIONS"),
    "Migration": ("modelup.store.migrations", "Migration"),
    "POSTGRES_EXTRA": ("modelup.store.database", "POSTGRES_EXTRA"),
    "RunEntry": ("modelup.store.history", "RunEntry"),
    "StoreLocation": ("modelup.config.store_url", "StoreLocation"),
    "StoreUrl": ("modelup.config.store_url", "StoreUrl"),
    "TrendLine": ("modelup.store.history", "TrendLine"),
    "TrendPoint": ("modelup.store.history", "TrendPoint"),
    "applied_migrations": ("modelup.store.migrations", "applied_migrations"),
    "connect": ("modelup.store.database", "connect"),
    "migrate": ("modelup.store.migrations", "migrate"),
    "open_store": ("modelup.store.history", "open_store"),
    "parse_store_url": ("modelup.config.store_url", "parse_store_url"),
    "present": ("modelup.store.history", "present"),
    "record_run": ("modelup.store.history", "record_run"),
    "redact_url": ("modelup.config.store_url", "redact_url"),
    "resolve_store_url": ("modelup.config.store_url", "resolve_store_url"),
    "series_label": ("modelup.store.history", "series_label"),
    "upsert": ("modelup.store.database", "upsert"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


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
