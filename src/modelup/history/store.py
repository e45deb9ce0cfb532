"""The history store: every run's identity, verdicts and figures in one SQLite file.

Readers never create a store (``open_store(path, create=False)``); the first run recorded does.
A trend is a figure of one model over time, and it is split into one line per (workflow,
dataset sha256): figures measured on different datasets are not comparable, so they are never
drawn as one line.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from modelup.errors import StoreError
from modelup.history.migrations import migrate
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
    """A figure of one model over the runs of one workflow on one dataset, oldest first."""

    workflow: str
    dataset_sha256: str
    points: tuple[TrendPoint, ...] = field(default_factory=tuple)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class HistoryStore:
    """An open history store; use as a context manager, or call ``close``."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def record(self, report: Report, report_path: Path | None = None) -> None:
        """Record ``report`` (again, if its run id is already there: the new one wins)."""
        models = report.models
        try:
            with self._transaction() as db:
                db.execute("DELETE FROM runs WHERE run_id = ?", (report.run_id,))
                db.execute(
                    """
                    INSERT INTO runs (run_id, started_at, finished_at, workflow,
                        workflow_version, dataset_sha256, dataset_path, case_count,
                        prompt_sha256, mode, client, baseline, candidates, verdict,
                        recommended, report_path, tool_version, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (
                        report.run_id,
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
                    ),
                )
                db.executemany(
                    "INSERT INTO decisions (run_id, candidate, verdict) VALUES (?, ?, ?)",
                    [(report.run_id, d.candidate, d.verdict) for d in report.decisions],
                )
                db.executemany(
                    "INSERT INTO figures (run_id, model, role, figure, value) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (report.run_id, model.requested_model, model.role, name, _real(value))
                        for model in models
                        for name, value in model.summary.items()
                    ],
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot record run {report.run_id}: {exc}") from exc

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
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, run_id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        try:
            rows = self._db.execute(sql, params).fetchall()
            return [self._entry(row) for row in rows]
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read history: {exc}") from exc

    def _entry(self, row: sqlite3.Row) -> RunEntry:
        figures: dict[str, dict[str, float | None]] = {}
        for model, name, value in self._db.execute(
            "SELECT model, figure, value FROM figures WHERE run_id = ? ORDER BY rowid",
            (row["run_id"],),
        ):
            figures.setdefault(model, {})[name] = value
        verdicts = dict(
            self._db.execute(
                "SELECT candidate, verdict FROM decisions WHERE run_id = ? ORDER BY rowid",
                (row["run_id"],),
            ).fetchall()
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
        return [row[0] for row in self._db.execute("SELECT DISTINCT model FROM figures ORDER BY 1")]

    def figure_names(self, model: str) -> list[str]:
        return [
            row[0]
            for row in self._db.execute(
                "SELECT DISTINCT figure FROM figures WHERE model = ? ORDER BY 1", (model,)
            )
        ]

    def trend(
        self,
        figure: str,
        model: str,
        *,
        workflow: str | None = None,
        dataset: str | None = None,
    ) -> list[TrendLine]:
        """``figure`` of ``model`` over time: one line per (workflow, dataset sha256), in the
        order each line was first measured. ``dataset`` may be a sha256 prefix."""
        if model not in self.models():
            known = ", ".join(self.models()) or "none"
            raise StoreError(f"{self.path}: no run of model {model!r} recorded (models: {known})")
        names = self.figure_names(model)
        if figure not in names:
            raise StoreError(
                f"{self.path}: figure {figure!r} was never recorded for {model} "
                f"(figures: {', '.join(names)})"
            )
        sql = (
            "SELECT r.run_id, r.started_at, r.workflow, r.dataset_sha256, f.value, f.role "
            "FROM figures f JOIN runs r ON r.run_id = f.run_id "
            "WHERE f.model = ? AND f.figure = ?"
        )
        params: list[str] = [model, figure]
        if workflow is not None:
            sql += " AND r.workflow = ?"
            params.append(workflow)
        if dataset is not None:
            sql += " AND r.dataset_sha256 LIKE ? ESCAPE '\\'"
            params.append(
                dataset.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
        sql += " ORDER BY r.started_at, r.run_id"
        lines: dict[tuple[str, str], list[TrendPoint]] = {}
        for run_id, started, flow, sha, value, role in self._db.execute(sql, params):
            point = TrendPoint(run_id, datetime.fromisoformat(started), value, role)
            lines.setdefault((flow, sha), []).append(point)
        return [TrendLine(flow, sha, tuple(points)) for (flow, sha), points in lines.items()]


def _real(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def open_store(path: Path = DEFAULT_PATH, *, create: bool = True) -> HistoryStore | None:
    """Open (and migrate) the store at ``path``. With ``create=False`` a missing store is
    ``None`` rather than a new empty file."""
    if not path.exists():
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create history store: {exc.strerror}") from exc
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open history store: {exc}") from exc
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db, str(path))
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StoreError(f"{path}: not a modelup history store: {exc}") from exc
    except BaseException:
        db.close()
        raise
    return HistoryStore(db, path)


def record_run(report: Report, report_path: Path | None, path: Path = DEFAULT_PATH) -> None:
    """Open the store at ``path`` (creating it), record ``report`` and close it."""
    store = open_store(path)
    assert store is not None  # create=True always opens one
    with store:
        store.record(report, report_path)


def series_label(line: TrendLine) -> str:
    return f"{line.workflow} · dataset {line.dataset_sha256[:12]}"


def present(values: Sequence[TrendPoint]) -> list[TrendPoint]:
    """The points that have evidence (a ``None`` figure is not drawn as zero)."""
    return [point for point in values if point.value is not None]
