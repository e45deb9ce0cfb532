"""The release store as the run-time shell reads and writes it: what a workflow serves (its
slotted releases, its containment) and a canary's counts, shared by every serving replica."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from modelup.config.store_url import StoreLocation
from modelup.errors import StoreError
from modelup.store.project import open_project_database
from modelup.store.release_rows import ReleaseRow
from modelup.store.releases import RELEASE_COLUMNS, ReleaseStore
from modelup.store.serve_rows import (
    CanaryCounts,
    Containment,
    CountKey,
    read_containment,
    read_counts,
    write_counts,
)


class ServingStore(ReleaseStore):
    """A ``ReleaseStore`` with what ``modelup serve`` reads every few seconds."""

    def slotted(self, workflow_id: str) -> list[ReleaseRow]:
        """The releases holding a slot of the workflow: the serving one, the change in flight."""
        sql = f"SELECT {', '.join(RELEASE_COLUMNS)} FROM releases WHERE workflow_id = ?"
        rows = self._read(sql + " AND slot IS NOT NULL ORDER BY number", (workflow_id,))
        return [self._row(row) for row in rows]

    def containment(self, workflow_id: str) -> Containment | None:
        try:
            return read_containment(self._db, workflow_id, lock=False)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read containment: {exc}") from exc

    # -- a canary's counts, shared by the serving replicas (modelup.store.serve_rows) ----------

    def add_counts(
        self, replica: str, counts: Sequence[tuple[CountKey, CanaryCounts]], at: datetime
    ) -> None:
        try:
            with self._db.transaction() as db:
                write_counts(db, replica, counts, at)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot record canary counts: {exc}") from exc

    def counts(
        self, release_id: str, *, step: int | None = None, window: int | None = None
    ) -> dict[str, CanaryCounts]:
        try:
            return read_counts(self._db, release_id, step=step, window=window)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read canary counts: {exc}") from exc


def open_serving_store(url: StoreLocation) -> ServingStore:
    """Open (create and migrate) the project store at ``url`` for serving."""
    db = open_project_database(url, create=True)
    assert db is not None  # create=True always opens one
    return ServingStore(db)
