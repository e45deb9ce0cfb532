"""Open the project store: history and releases share one database and one migration list."""

from __future__ import annotations

from modelup.config.store_url import StoreLocation, parse_store_url
from modelup.errors import StoreError
from modelup.store.database import Database, connect
from modelup.store.migrations import migrate
from modelup.store.schema import MIGRATIONS


def open_project_database(
    url: StoreLocation, *, create: bool = True, what: str = "history store"
) -> Database | None:
    """Connect to the project store at ``url`` (a path, ``sqlite:///path`` or
    ``postgresql://...``) and run its pending migrations. With ``create=False`` a store nothing
    was recorded in yet (a missing file, a database without modelup's tables) is ``None``
    rather than created. ``what`` names the store in the error for a database that is not
    one."""
    location = parse_store_url(url)
    if location.path is not None and not location.path.exists() and not create:
        return None
    db = connect(location, create=create)
    try:
        if not create and not db.table_exists("_migrations"):
            db.close()
            return None
        migrate(db, MIGRATIONS, kind="store")
    except db.errors as exc:
        db.close()
        raise StoreError(f"{location}: not a modelup {what}: {exc}") from exc
    except BaseException:
        db.close()
        raise
    return db
