"""Live runs against a loopback server that fails in every way an endpoint fails.

Every case must end scored or errored, none lost; errored evidence never promotes; cost,
identity and cache evidence reach the report; API keys reach no report, cache, journal or log.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.config.loading import load_settings
from modelup.config.settings import PriceSettings
from modelup.errors import ConfigError
from modelup.evaluate.dataset import EvalCase
from modelup.models.base import ModelClient
from modelup.models.openai import OpenAICompatibleClient, RetryPolicy
from modelup.report.render import terminal as view
from modelup.report.schema import Report
from modelup.session.execute import execute
from modelup.session.plan import RunPlan, plan_run
from support.live_support import SUPPORT_OPS_DATASET, SupportAnswers, support_ops
from support.openai_server import (
    ChatCall,
    Completion,
    Drop,
    HttpError,
    Malformed,
    OpenAITestServer,
    Reply,
)

FAST = RetryPolicy(attempts=3, initial_s=0.001, max_s=0.002, jitter_s=0.0)


async def _no_wait(seconds: float) -> None:
    return None


def live_plan(
    base_url: str, tmp_path: Path, prices: dict[str, Any] | None = None, **promotion: Any
) -> RunPlan:
    flags: dict[str, Any] = {
        "experiment": {
            "use_mock_client": False,
            "dataset_path": SUPPORT_OPS_DATASET,
            "concurrency": 6,
        },
        "llm": {"base_url": base_url, "baseline_model_id": "base", "candidate_model_id": "cand"},
        "cache": {"path": tmp_path / "cache.sqlite"},
        "promotion": promotion,
        "prices": prices or {},
    }
    return plan_run(load_settings(None, flags))


def fast_clients(plan: RunPlan, base_url: str) -> list[ModelClient]:
    client = OpenAICompatibleClient(
        base_url, retry=FAST, read_timeout_s=0.3, sleep=_no_wait, max_connections=6
    )
    return [client for _ in plan.targets]


def live_run(plan: RunPlan, base_url: str) -> Report:
    return asyncio.run(execute(plan, fast_clients(plan, base_url)))


def test_every_fault_ends_scored_or_errored_and_errors_hold_the_candidate(
    tmp_path: Path,
) -> None:
    workflow, dataset = support_ops()
    ids = [case.id for case in dataset.cases]
    recovers = {
        ids[0]: HttpError(500, "internal"),
        ids[1]: HttpError(429, "rate limited", retry_after="1"),
        ids[2]: Completion("too slow", delay_s=2.0),
        ids[3]: Drop(),
    }
    persists = {ids[4]: Malformed(b"<html>oops"), ids[5]: HttpError(503, "overloaded")}

    def fault(call: ChatCall, case: EvalCase, attempt: int) -> Reply | None:
        if case.id in recovers and attempt == 0:
            return recovers[case.id]
        if call.model == "cand" and case.id in persists:
            return persists[case.id]
        return None

    answers = SupportAnswers(workflow, dataset, fault=fault)
    with OpenAITestServer(answers) as server:
        plan = live_plan(server.base_url, tmp_path)
        report = live_run(plan, server.base_url)

    baseline, candidate = report.models
    assert [case.case_id for case in baseline.cases] == ids
    assert [case.case_id for case in candidate.cases] == ids
    assert baseline.summary["error_count"] == 0
    errored = {case.case_id: case.error for case in candidate.cases if case.error}
    assert set(errored) == {ids[4], ids[5]}
    assert "malformed response body" in (errored[ids[4]] or "")
    assert "HTTP 503: overloaded" in (errored[ids[5]] or "")
    assert answers.attempts[("cand", ids[4])] == 1  # a malformed body is not retried
    assert answers.attempts[("cand", ids[5])] == FAST.attempts
    for case_id in recovers:
        assert answers.attempts[("base", case_id)] == 2
    assert report.decision.verdict != "Promote"
    assert any("2 errored call(s) out of 36" in reason for reason in report.decision.reasons)


def test_cost_identity_and_fingerprints_reach_the_report(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset)

    def alias(call: ChatCall) -> Reply:
        reply = answers(call)
        assert isinstance(reply, Completion)
        if call.model != "cand":
            return reply
        changed = call.index % 2 == 0
        return Completion(
            reply.content,
            model="cand-2026-01",
            prompt_tokens=200,
            completion_tokens=50,
            system_fingerprint="fp_b" if changed else "fp_a",
        )

    with OpenAITestServer(alias) as server:
        prices = {"base": _price(1.0, 2.0), "cand": _price(1.0, 2.0)}
        plan = live_plan(server.base_url, tmp_path, prices, max_cost_regression_percent=10)
        report = live_run(plan, server.base_url)

    baseline, candidate = report.models
    assert baseline.price is not None and baseline.price.input_per_million == 1.0
    assert baseline.cases[0].cost_usd == (100 * 1.0 + 50 * 2.0) / 1e6
    assert baseline.summary["cost_usd"] == pytest.approx(36 * (100 * 1.0 + 50 * 2.0) / 1e6)
    assert candidate.summary["cost_usd"] == pytest.approx(36 * (200 * 1.0 + 50 * 2.0) / 1e6)
    cost = next(rule for rule in report.decision.rules if rule.figure == "cost_usd")
    assert (cost.authority, cost.passed) == ("conditional", False)
    assert "Cost (USD)" in cost.reason or "cost (usd)" in cost.reason
    assert report.decision.verdict != "Promote"
    assert baseline.system_fingerprints == ["fp_test"] and not baseline.identity_changed
    assert candidate.alias_resolved and candidate.resolved_models == ["cand-2026-01"]
    assert sorted(candidate.system_fingerprints) == ["fp_a", "fp_b"]
    assert candidate.identity_changed
    assert candidate.summary["identity_drift"] == 36 and candidate.summary["identity_changes"] == 1
    assert sorted((i.model, i.system_fingerprint) for i in candidate.identities) == [
        ("cand-2026-01", "fp_a"),
        ("cand-2026-01", "fp_b"),
    ]
    assert report.decision.verdict == "Hold"  # the cost rule holds, and so does the identity
    drift = next(rule for rule in report.decision.rules if rule.figure == "identity_drift")
    assert drift.status == "failed" and "'cand-2026-01' with fingerprint 'fp_b'" in drift.reason
    assert "'cand-2026-01' with fingerprint 'fp_a'" in drift.reason
    shown = io.StringIO()
    view.print_alias_warning(Console(file=shown, width=200), candidate)
    assert "Alias resolution" in shown.getvalue() and "Identity changed" in shown.getvalue()


def test_a_cost_rule_without_a_price_is_a_configuration_error(tmp_path: Path) -> None:
    # Refused before any call: a cost rule that cannot be judged would let anything through.
    with pytest.raises(ConfigError) as refused:
        live_plan("http://127.0.0.1:9/v1", tmp_path, max_cost_regression_percent=10)
    assert str(refused.value).startswith(
        "promotion.max_cost_regression_percent: no price for base, cand"
    )
    assert '[prices."base"], [prices."cand"]' in str(refused.value)
    priced = {"base": _price(1.0, 2.0)}
    with pytest.raises(ConfigError, match=r'no price for cand: .*\[prices\."cand"\]'):
        live_plan("http://127.0.0.1:9/v1", tmp_path, priced, max_cost_regression_percent=10)


def _price(inp: float, out: float) -> PriceSettings:
    return PriceSettings(input_per_million=inp, output_per_million=out)


# --------------------------------------------------------------------------- through the CLI

SECRET = "sk-TOPSECRET-4242"
cli = CliRunner()


def write_live_config(tmp_path: Path, base_url: str, key_line: str) -> Path:
    path = tmp_path / "live.toml"
    path.write_text(
        f"""
[experiment]
use_mock_client = false
dataset_path = "{SUPPORT_OPS_DATASET}"
report_directory = "reports"
runs_directory = "state/runs"
concurrency = 4

[llm]
base_url = "{base_url}"
{key_line}
baseline_model_id = "base"
candidate_model_id = "cand"
max_attempts = 1

[cache]
path = "state/cache.sqlite"
""",
        encoding="utf-8",
    )
    return path


def report_of(output: str) -> dict[str, Any]:
    last = output.strip().splitlines()[-1]
    assert last.startswith("Report: "), output
    data: dict[str, Any] = json.loads(Path(last.removeprefix("Report: ")).read_text())
    return data


def test_a_cached_rerun_makes_no_calls_and_marks_cached_results(tmp_path: Path) -> None:
    workflow, dataset = support_ops()
    with OpenAITestServer(SupportAnswers(workflow, dataset)) as server:
        config = write_live_config(tmp_path, server.base_url, 'api_key = "k"')
        first = cli.invoke(app, ["run", "--config", str(config)])
        calls_after_first = len(server.calls)
        second = cli.invoke(app, ["run", "--config", str(config)])
        calls_after_second = len(server.calls)
        third = cli.invoke(app, ["run", "--config", str(config), "--no-cache"])
        calls_after_third = len(server.calls)
    assert calls_after_first == 72
    assert calls_after_second == 72, "a cached rerun must make no calls"
    assert calls_after_third == 144
    one, two, three = report_of(first.output), report_of(second.output), report_of(third.output)
    assert not any(case["cached"] for m in one["models"] for case in m["cases"])
    assert all(case["cached"] for m in two["models"] for case in m["cases"])
    assert not any(case["cached"] for m in three["models"] for case in m["cases"])
    latencies = [[c["latency_ms"] for c in m["cases"]] for m in one["models"]]
    assert [[c["latency_ms"] for c in m["cases"]] for m in two["models"]] == latencies
    assert first.exit_code == second.exit_code
    assert not list((tmp_path / "state" / "runs").iterdir()), "checkpoints of finished runs go"


def test_api_keys_reach_no_report_cache_journal_or_output(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MY_SECRET_KEY", SECRET)
    workflow, dataset = support_ops()
    answers = SupportAnswers(workflow, dataset)
    with OpenAITestServer(answers, api_key=SECRET) as server:
        by_env = write_live_config(tmp_path, server.base_url, 'api_key_env = "MY_SECRET_KEY"')
        done = cli.invoke(app, ["run", "--config", str(by_env)])
        inline_dir = tmp_path / "inline"
        inline_dir.mkdir()
        inline = write_live_config(inline_dir, server.base_url, f'api_key = "{SECRET}"')
        server.known_models = frozenset({"base"})  # the candidate vanishes: the run stops
        stopped = cli.invoke(app, ["run", "--config", str(inline), "--no-cache"])
    assert done.exit_code in (0, 3, 4), done.output
    assert stopped.exit_code == 2, stopped.output
    assert "does not serve model 'cand'" in stopped.output
    assert "--resume" in stopped.output
    plans = list(tmp_path.rglob("plan.json"))
    assert plans, "the stopped run keeps its checkpoint"
    assert '"api_key": "***"' in plans[0].read_text()
    # Everything modelup wrote (reports, cache, checkpoint), not the configuration files.
    files = [path for path in tmp_path.rglob("*") if path.is_file() and path.suffix != ".toml"]
    assert any(path.suffix == ".sqlite" for path in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in done.output and SECRET not in stopped.output
