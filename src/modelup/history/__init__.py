"""History: every run recorded in a SQLite store with named migrations, listed and trended."""

from modelup.history.migrations import MIGRATIONS, migrate
from modelup.history.store import (
    DEFAULT_PATH,
    KEY_FIGURES,
    HistoryStore,
    RunEntry,
    TrendLine,
    TrendPoint,
    open_store,
    record_run,
)

__all__ = [
    "DEFAULT_PATH",
    "KEY_FIGURES",
    "MIGRATIONS",
    "HistoryStore",
    "RunEntry",
    "TrendLine",
    "TrendPoint",
    "migrate",
    "open_store",
    "record_run",
]
