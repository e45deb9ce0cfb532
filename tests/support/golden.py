"""Golden reports: small mock runs whose JSON report is frozen in ``tests/fixtures/golden``.

The files were written by the implementation that builds the whole report in memory and dumps
it with modelup's one encoder (``modelup.jsonbytes``); the streamed writer must reproduce them
byte for byte, apart from what differs between runs (run id, timestamps) and where the
repository is checked out.

Regenerate (only when the report's content or encoding is meant to change, with a schema note in
docs/report-schema.md): ``PYTHONPATH=tests .venv/bin/python -m support.golden``. Regenerated
when the configuration gained its ``[traces]``, ``[otel]`` and ``[grader]`` sections and the
report its optional ``label_free`` record (null for a labelled run); and for report schema 2
(issue 11): new summary figures (error rate, pass@K, pass^K, flaky cases,
identity drift and changes, support-ops' plain reply rate), each model's identities, the
evidence rules and support-ops' plain-text rule in every decision, passing rules' reasons that
read as passes, and the ranking's tie-break figures.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelup.config.loading import load_settings
from modelup.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
RUN_ID = "20260101T000000Z-golden"
STARTED = datetime(2026, 1, 1, tzinfo=UTC)

_SIGNIFICANT_RULES = [
    {
        "name": "pass rate (significant)",
        "figure": "pass_rate",
        "comparison": "max_regression",
        "threshold": 0.05,
        "authority": "block",
        "require_significance": True,
    },
    {
        "figure": "quality_score",
        "comparison": "min_improvement",
        "threshold": 0.0,
        "authority": "conditional",
        "require_significance": True,
    },
    {
        "figure": "safety_pass_rate",
        "subset": "policy-sensitive",
        "comparison": "floor",
        "threshold": 0.5,
        "authority": "signal",
        "require_significance": True,
    },
    {
        "figure": "p95_latency_ms",
        "comparison": "max_increase_percent",
        "threshold": 35,
        "authority": "conditional",
    },
    {
        "figure": "cost_usd",
        "comparison": "max_increase_percent",
        "threshold": 20,
        "authority": "conditional",
    },
]

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "support-ops": ("support-ops", {}),
    "incident-triage": ("incident-triage", {}),
    "support-ops-epochs-challengers": (
        "support-ops",
        {
            "experiment": {"mode": "compare", "epochs": 3},
            "llm": {"candidate_model_id": ["qwen3:8b", "llama3.1:8b"], "temperature": 0.7},
            "mock": {"models": {"llama3.1:8b": "steady"}, "seed": 3},
            "prices": {
                "gpt-oss:20b": {"input_per_million": 0.1, "output_per_million": 0.4},
                "qwen3:8b": {"input_per_million": 0.05, "output_per_million": 0.2},
                "llama3.1:8b": {"input_per_million": 0.07, "output_per_million": 0.3},
            },
            "gate": {"rules": _SIGNIFICANT_RULES, "bootstrap_resamples": 500},
        },
    ),
    "support-ops-grader": (
        "support-ops",
        {
            "grader": {"model": "judge"},
            "prices": {"judge": {"input_per_million": 0.5, "output_per_million": 1.5}},
        },
    ),
}


def golden_settings(variant: str, report_directory: Path) -> Settings:
    example, overrides = VARIANTS[variant]
    experiment = {**overrides.get("experiment", {}), "report_directory": report_directory}
    return load_settings(
        ROOT / "examples" / example / "modelup.toml", {**overrides, "experiment": experiment}
    )


def normalize(text: str, report_directory: Path) -> str:
    """Blank what legitimately differs between two runs of the same variant."""
    text = text.replace(str(report_directory), "<REPORTS>").replace(str(ROOT), "<ROOT>")
    text = re.sub(r'"run_id": "[^"]*"', '"run_id": "<RUN_ID>"', text)
    return re.sub(r'"(started_at|finished_at)": "[^"]*"', r'"\1": "<TIME>"', text)


def _write_reference(variant: str, directory: Path) -> str:
    """The report as the in-memory implementation wrote it (used to make the fixtures)."""
    from modelup.report.io import write_report
    from modelup.session.execute import execute
    from modelup.session.plan import plan_clients, plan_run

    plan = plan_run(golden_settings(variant, directory))
    report = asyncio.run(execute(plan, plan_clients(plan), run_id=RUN_ID, started_at=STARTED))
    path = write_report(report, directory / f"{variant}.json")
    return normalize(path.read_text("utf-8"), directory)


if __name__ == "__main__":
    import tempfile

    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in VARIANTS:
        with tempfile.TemporaryDirectory() as tmp:
            text = _write_reference(name, Path(tmp))
        (GOLDEN / f"{name}.json").write_text(text, "utf-8")
        print(name, len(text))
