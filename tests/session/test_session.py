"""``modelup.run()`` is ``modelup run``: the report and its formats, history, the response cache
and the journal, the same from Python as from the command line."""

from __future__ import annotations

from pathlib import Path

import modelup
from modelup.config.loading import load_settings
from modelup.decide.gate import Verdict
from modelup.store import open_store
from support.live_support import SUPPORT_OPS_DATASET, SupportAnswers, support_ops
from support.openai_server import OpenAITestServer


def test_the_library_run_writes_the_report_its_formats_and_history(tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    settings = load_settings(
        None,
        {
            "experiment": {
                "use_mock_client": True,
                "dataset_path": SUPPORT_OPS_DATASET,
                "report_directory": tmp_path / "reports",
                "formats": "json,html,md",
            },
            "store": {"url": str(store)},
        },
    )
    result = modelup.run(settings)
    assert result.verdict is Verdict.ROLLBACK
    assert result.report_path.is_file() and result.report_path.parent == tmp_path / "reports"
    assert sorted(result.rendered) == ["html", "md"]
    assert all(path.is_file() for path in result.rendered.values())
    assert result.history_warning is None
    opened = open_store(store, create=False)
    assert opened is not None
    with opened:
        assert [run.run_id for run in opened.runs()] == [result.run_id]
    assert [count for count, _ in result.failures] == [
        sum(not case.passed for case in model.cases)
        for model in modelup.read_report(result.report_path).models
    ]


def test_a_live_library_run_caches_and_leaves_no_checkpoint(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset)
    with OpenAITestServer(answers) as server:
        settings = load_settings(
            None,
            {
                "experiment": {
                    "dataset_path": SUPPORT_OPS_DATASET,
                    "report_directory": tmp_path / "reports",
                    "runs_directory": tmp_path / "runs",
                },
                "llm": {
                    "base_url": server.base_url,
                    "baseline_model_id": "base",
                    "candidate_model_id": "cand",
                },
                "cache": {"path": tmp_path / "cache.sqlite"},
                "history": {"enabled": False},
            },
        )
        first = modelup.run(settings)
        calls = len(server.calls)
        second = modelup.run(settings)
    assert calls == 2 * len(dataset)
    assert len(server.calls) == calls, "the second run is answered from the cache"
    cached = modelup.read_report(second.report_path)
    assert all(case.cached for model in cached.models for case in model.cases)
    assert first.verdict == second.verdict
    assert list((tmp_path / "runs").iterdir()) == [], "finished runs leave no checkpoint"
