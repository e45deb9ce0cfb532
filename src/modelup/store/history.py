"""The history store: every run's identity, verdicts and figures, in the project store.

The store is a SQLite file by default (``.modelup/history.sqlite``) or a PostgreSQL database
shared by a team; see ``modelup.config.store_url``. Readers never create a store
(``open_store(url, create=False)``); the first run recorded does. A trend is a figure of one
model over time, and it is split into one series per (workflow and its version, dataset sha256,
prompt sha256): a figure measured on another dataset, with another prompt or by other checks is
not comparable, so a prompt edit is never drawn as a model regression on one line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelup.config.store_url import StoreLocation, StoreUrl
from modelup.errors import StoreError
from modelup.store.database import Database, upsert
from modelup.store.project import open_project_database

if TYPE_CHECKING:  # the store sits below the report package at run time (no import cycle)
    from modelup.report.schema import Report

DEFAULT_PATH = Path(".modelup") / "history.sqlite"
KEY_FIGURES = ("pass_rate", "safety_pass_rate", "quality_score", "p95_latency_ms")
"""The figures ``modelup history`` lists per run (when the workflow has them)."""


@dataclass(frozen=True, slots=True)
class RunEntry:
    """One recorded run, as ``modelup history`` lists it."""

    run_id: str
    started_at: datetime
    workflow: str
    workflow_version: str | None
    dataset_sha256: str
    mode: str | None
    baseline: str
    candidates: tuple[str, ...]
    verdict: str
    """The verdict on the recommended candidate."""
    recommended: str | None
    verdicts: dict[str, str]
    """Per candidate."""
    figures: dict[str, dict[str, float | None]]
    """Per model (baseline and candidates): figure name to value."""
    report_path: str | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run_id: str
    started_at: datetime
    value: float | None
    role: str


@dataclass(frozen=True, slots=True)
class TrendLine:
    """A figure of one model over the runs of one workflow version on one dataset with one
    prompt, oldest first."""

    workflow: str
    dataset_sha256: str
    points: tuple[TrendPoint, ...] = field(default_factory=tuple)
    workflow_version: str | None = None
    prompt_sha256: str | None = None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


_RUN_COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "workflow",
    "workflow_version",
    "dataset_sha256",
    "dataset_path",
    "case_count",
    "prompt_sha256",
    "mode",
    "client",
    "baseline",
    "candidates",
    "verdict",
    "recommended",
    "report_path",
    "tool_version",
    "recorded_at",
)
_RECORD_RUN = upsert("runs", _RUN_COLUMNS, ("run_id",))
_ENTRY_COLUMNS = (
    "run_id",
    "started_at",
    "workflow",
    "workflow_version",
    "dataset_sha256",
    "mode",
    "baseline",
    "candidates",
    "verdict",
    "recommended",
    "report_path",
)


class HistoryStore:
    """An open history store; use as a context manager, or call ``close``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.url: StoreUrl = db.url
        """Where the store is; ``str(url)`` is its public form (a file path, or a PostgreSQL
        URL without its password)."""

    @property
    def path(self) -> Path | None:
        """The SQLite file (``None`` on PostgreSQL)."""
        return self.url.path

    def __repr__(self) -> str:
        return f"<HistoryStore {self.url.public}>"

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def record(self, report: Report, report_path: Path | None = None) -> None:
        """Record ``report`` (again, if its run id is already there: the new one wins)."""
        run_id = report.run_id
        row = (
            run_id,
            _utc(report.started_at),
            _utc(report.finished_at),
            report.workflow.name,
            report.workflow.version,
            report.dataset.sha256,
            report.dataset.path,
            report.dataset.case_count,
            report.prompt.sha256,
            report.mode,
            report.client,
            report.baseline.requested_model,
            json.dumps([c.requested_model for c in report.candidates]),
            report.decision.verdict,
            report.decision.candidate,
            str(report_path.resolve()) if report_path is not None else None,
            report.tool_version,
            _utc(datetime.now(UTC)),
        )
        try:
            with self._db.transaction() as db:
                # The upsert locks the run's row: a concurrent recorder of the same run waits,
                # then replaces this one's decisions and figures whole.
                db.execute(_RECORD_RUN, row)
                db.execute("DELETE FROM decisions WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM figures WHERE run_id = ?", (run_id,))
                db.executemany(
                    "INSERT INTO decisions (run_id, candidate, verdict) VALUES (?, ?, ?)",
                    [(run_id, d.candidate, d.verdict) for d in report.decisions],
                )
                db.executemany(
                    "INSERT INTO figures (run_id, model, role, figure, value) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (run_id, model.requested_model, model.role, name, _real(value))
                        for model in report.models
                        for name, value in model.summary.items()
                    ],
                )
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot record run {run_id}: {exc}") from exc

    def runs(
        self, *, limit: int | None = 20, workflow: str | None = None, model: str | None = None
    ) -> list[RunEntry]:
        """Recorded runs, newest first, optionally of one workflow or involving one model."""
        where, params = [], []
        if workflow is not None:
            where.append("workflow = ?")
            params.append(workflow)
        if model is not None:
            where.append("run_id IN (SELECT run_id FROM figures WHERE model = ?)")
            params.append(model)
        sql = f"SELECT {', '.join(_ENTRY_COLUMNS)} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, run_id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        try:
            return [
                self._entry(dict(zip(_ENTRY_COLUMNS, row, strict=True)))
                for row in self._db.query(sql, params)
            ]
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read history: {exc}") from exc

    def _entry(self, row: dict[str, Any]) -> RunEntry:
        order = self._db.dialect.row_order
        figures: dict[str, dict[str, float | None]] = {}
        for model, name, value in self._db.query(
            f"SELECT model, figure, value FROM figures WHERE run_id = ? ORDER BY {order}",
            (row["run_id"],),
        ):
            figures.setdefault(model, {})[name] = value
        verdicts: dict[str, str] = dict(
            self._db.query(
                f"SELECT candidate, verdict FROM decisions WHERE run_id = ? ORDER BY {order}",
                (row["run_id"],),
            )
        )
        return RunEntry(
            run_id=row["run_id"],
            started_at=datetime.fromisoformat(row["started_at"]),
            workflow=row["workflow"],
            workflow_version=row["workflow_version"],
            dataset_sha256=row["dataset_sha256"],
            mode=row["mode"],
            baseline=row["baseline"],
            candidates=tuple(json.loads(row["candidates"])),
            verdict=row["verdict"],
            recommended=row["recommended"],
            verdicts=verdicts,
            figures=figures,
            report_path=row["report_path"],
        )

    def models(self) -> list[str]:
        return [row[0] for row in self._read("SELECT DISTINCT model FROM figures ORDER BY 1")]

    def figure_names(self, model: str) -> list[str]:
        sql = "SELECT DISTINCT figure FROM figures WHERE model = ? ORDER BY 1"
        return [row[0] for row in self._read(sql, (model,))]

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.query(sql, params)
        except self._db.errors as exc:
            raise StoreError(f"{self.url}: cannot read history: {exc}") from exc

    def trend(
        self,
        figure: str,
        model: str,
        *,
        workflow: str | None = None,
        dataset: str | None = None,
    ) -> list[TrendLine]:
        """``figure`` of ``model`` over time: one line per (workflow and version, dataset
        sha256, prompt sha256), in the order each line was first measured. ``dataset`` may be
        a sha256 prefix."""
        if model not in self.models():
            known = ", ".join(self.models()) or "none"
            raise StoreError(f"{self.url}: no run of model {model!r} recorded (models: {known})")
        names = self.figure_names(model)
        if figure not in names:
            raise StoreError(
                f"{self.url}: figure {figure!r} was never recorded for {model} "
                f"(figures: {', '.join(names)})"
            )
        sql = (
            "SELECT r.run_id, r.started_at, r.workflow, r.workflow_version, r.dataset_sha256, "
            "r.prompt_sha256, f.value, f.role "
            "FROM figures f JOIN runs r ON r.run_id = f.run_id "
            "WHERE f.model = ? AND f.figure = ?"
        )
        params: list[str] = [model, figure]
        if workflow is not None:
            sql += " AND r.workflow = ?"
            params.append(workflow)
        if dataset is not None:
            # lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
            sql += " AND lower(r.dataset_sha256) LIKE ? ESCAPE '\\'"
            params.append(
                dataset.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
        sql += " ORDER BY r.started_at, r.run_id"
        lines: dict[tuple[str, str | None, str, str | None], list[TrendPoint]] = {}
        for run_id, started, flow, version, sha, prompt, value, role in self._read(sql, params):
            point = TrendPoint(run_id, datetime.fromisoformat(started), value, role)
            lines.setdefault((flow, version, sha, prompt), []).append(point)
        return [
            TrendLine(flow, sha, tuple(points), version, prompt)
            for (flow, version, sha, prompt), points in lines.items()
        ]


def _real(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def open_store(url: StoreLocation = DEFAULT_PATH, *, create: bool = True) -> HistoryStore | None:
    """Open (and migrate) the store at ``url``: a path, ``sqlite:///path`` or
    ``postgresql://...``. With ``create=False`` a store nothing was recorded in yet (a missing
    file, a database without modelup's tables) is ``None`` rather than created."""
    db = open_project_database(url, create=create)
    return HistoryStore(db) if db is not None else None


def record_run(report: Report, report_path: Path | None, url: StoreLocation = DEFAULT_PATH) -> None:
    """Open the store at ``url`` (creating it), record ``report`` and close it."""
    store = open_store(url)
    assert store is not None  # create=True always opens one
    with store:
        store.record(report, report_path)


def series_label(line: TrendLine) -> str:
    """``support-ops v1 · dataset 3f9c2a… · prompt 8d1e07…``: what a series holds fixed."""
    workflow = (
        f"{line.workflow} v{line.workflow_version}" if line.workflow_version else line.workflow
    )
    prompt = f" · prompt {line.prompt_sha256[:12]}" if line.prompt_sha256 else ""
    return f"{workflow} · dataset {line.dataset_sha256[:12]}{prompt}"


def present(values: Sequence[TrendPoint]) -> list[TrendPoint]:
    """The points that have evidence (a ``None`` figure is not drawn as zero)."""
    return [point for point in values if point.value is not None]
