"""The loop back from production, end to end without serve: a live ``modelup run`` against the
loopback server records a trace of every call (some fail, some are overridden by the escalation
policy) → ``golden add --from-traces --failed`` proposes them, then appends them → a rerun of
the golden set includes them; and recorded traffic is replayed label-free."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.store.traces import TraceQuery, open_trace_store
from modelup.workflow.policy import Policy
from support.openai_server import ChatCall, Completion, HttpError, OpenAITestServer, Reply
from support.traces import INCIDENT_DATASET, incident

runner = CliRunner()
PROFILE = {"base": "careful", "cand": "drifting"}
BROKEN = "P-03"
"""The production request the candidate's endpoint always fails on."""


def documents(tmp_path: Path) -> tuple[Path, Path]:
    """A golden set (the first eight example cases) and "production" traffic: eight other
    requests, inputs only, with text the golden set does not have."""
    raw = json.loads(INCIDENT_DATASET.read_text())
    cases = raw["cases"] if isinstance(raw, dict) else raw
    golden = tmp_path / "golden.json"
    golden.write_text(json.dumps(cases[:8], indent=2))
    production = []
    for number, case in enumerate(cases[8:16], start=1):
        request = {k: v for k, v in case.items() if k not in ("missingTelemetry", "causeKeywords")}
        request.update(id=f"P-{number:02d}", request=case["request"] + " (seen in production)")
        request.pop("subsets", None)
        production.append(request)
    traffic = tmp_path / "production.jsonl"
    traffic.write_text("".join(json.dumps(case) + "\n" for case in production))
    return golden, traffic


class Answers:
    """The incident-triage simulator behind a real endpoint: baseline careful, candidate
    drifting; the candidate fails every call on one production request."""

    def __init__(self) -> None:
        self.workflow, _ = incident()
        self.by_message: dict[str, dict[str, Any]] = {}
        policy = self.workflow.checks[0].params["policy"]
        assert isinstance(policy, Policy)
        self.policy = policy

    def learn(self, path: Path) -> None:
        from modelup.evaluate.dataset import load_dataset

        for case in load_dataset(path, self.workflow).cases:
            message = self.workflow.prompt.render(case.fields)[-1].content
            self.by_message[message] = {**case.fields, "family": case.family, "id": case.id}

    def __call__(self, call: ChatCall) -> Reply:
        fields = self.by_message[call.last_content]
        if call.model == "cand" and fields["id"] == BROKEN:
            return HttpError(500, "upstream exploded")
        simulator = self.workflow.simulator
        assert simulator is not None
        profile = simulator.profiles[PROFILE[call.model]]
        text = simulator.answer(fields, profile, random.Random(fields["id"] + call.model)).text
        if call.model == "cand" and self.policy.decide(fields).value:
            # The drifting candidate does not escalate what the policy escalates: overridden.
            answer = json.loads(text[text.index("{") : text.rindex("}") + 1])
            text = json.dumps({**answer, "escalation_required": False})
        return Completion(text, model=f"{call.model}-2026", system_fingerprint="fp_loop")


def configure(tmp_path: Path, base_url: str) -> Path:
    config = tmp_path / "modelup.toml"
    config.write_text(
        f"""
[experiment]
use_mock_client = false
workflow = "incident-triage"
report_directory = "{tmp_path / "reports"}"
runs_directory = "{tmp_path / ".modelup/runs"}"

[llm]
base_url = "{base_url}"
baseline_model_id = "base"
candidate_model_id = "cand"
max_attempts = 1

[cache]
enabled = false

[store]
url = "{tmp_path / ".modelup/store.sqlite"}"
"""
    )
    return config


def run(*args: str | Path) -> Any:
    result = runner.invoke(app, [*map(str, args)])
    assert result.exit_code in (0, 3, 4), result.output
    return result


def report_of(output: str) -> dict[str, Any]:
    last = output.strip().splitlines()[-1]
    assert last.startswith("Report: "), last
    report: dict[str, Any] = json.loads(Path(last.removeprefix("Report: ")).read_text())
    return report


def test_failed_production_calls_become_golden_cases(tmp_path: Path) -> None:
    golden, traffic = documents(tmp_path)
    answers = Answers()
    answers.learn(golden)
    answers.learn(traffic)
    with OpenAITestServer(answers, max_requests=200) as server:
        config = configure(tmp_path, server.base_url)
        served = run("run", "--config", config, "--dataset", traffic, "--trace")
        assert "Traces: 16 call(s) recorded" in served.output

        store = open_trace_store(tmp_path / ".modelup/store.sqlite", create=False)
        assert store is not None
        with store:
            every = store.find(TraceQuery())
            failed = store.find(TraceQuery(failed=True))
            overridden = store.find(TraceQuery(overridden=True))
        assert len(every) == 16
        assert any(row.errored for row in failed)  # the broken request
        assert overridden and all(row.requested_model == "cand" for row in overridden)
        failing_requests = {row.case_id for row in failed}
        assert BROKEN in failing_requests

        before = json.loads(golden.read_text())
        proposed = run(
            "golden", "add", "--from-traces", "--failed", "--to", golden, "--config", config
        )
        assert f"{len(failing_requests)} proposal(s)" in proposed.output
        review_text = (tmp_path / "golden.review.jsonl").read_text()
        review = [json.loads(line) for line in review_text.splitlines()]
        assert len(review) == len(failing_requests)
        assert json.loads(golden.read_text()) == before  # nothing appended without --accept
        # In the order the calls finished: the broken request's error (no model answered it)
        # may come first, so the proposals are looked at whatever their order.
        provenances = [entry["case"]["provenance"] for entry in review]
        answered = [p for p in provenances if p["resolved_model"] is not None]
        assert answered
        assert all(p["resolved_model"] in ("base-2026", "cand-2026") for p in answered)
        provenance = answered[0]
        assert provenance["prompt_sha256"] == answers.workflow.prompt.sha256
        assert provenance["trace_id"] and provenance["recorded_at"]
        assert "failed" in provenance["reasons"]

        accepted = run(
            "golden",
            "add",
            "--from-traces",
            "--failed",
            "--to",
            golden,
            "--config",
            config,
            "--accept",
        )
        assert "a new frozen set" in accepted.output
        grown = json.loads(golden.read_text())
        added = [case for case in grown if case["id"].startswith("prod-")]
        assert len(grown) == 8 + len(failing_requests) == len(before) + len(added)
        again = run(
            "golden",
            "add",
            "--from-traces",
            "--failed",
            "--to",
            golden,
            "--config",
            config,
            "--accept",
        )
        assert f"0 proposal(s) from traces of incident-triage ({len(failing_requests)}" in (
            again.output
        )
        assert len(json.loads(golden.read_text())) == len(grown)  # deduplicated by content
        assert "already in" in again.output

        rerun = report_of(run("run", "--config", config, "--dataset", golden).output)
        assert rerun["dataset"]["case_count"] == len(grown)
        ids = {case["case_id"] for case in rerun["models"][1]["cases"]}
        assert {case["id"] for case in added} <= ids
        assert rerun["label_free"] is None


def test_recorded_traffic_replays_label_free(tmp_path: Path) -> None:
    _, traffic = documents(tmp_path)
    answers = Answers()
    answers.learn(traffic)
    with OpenAITestServer(answers, max_requests=200) as server:
        config = configure(tmp_path, server.base_url)
        run("run", "--config", config, "--dataset", traffic, "--trace")
        replayed = run("run", "--config", config, "--dataset", "traces:failed")
        report = report_of(replayed.output)
    assert "Label-free replay of traces:failed" in replayed.output
    label_free = report["label_free"]
    assert label_free["source"] == "traces:failed"
    assert set(label_free["skipped_checks"]) == {
        "unknowns_listed",
        "uncertainty_disclosed",
        "cause_named",
    }
    assert "uncertainty disclosure" in label_free["skipped_rules"]
    assert label_free["agreement_fields"] == ["escalation_required"]
    candidate = report["models"][1]
    assert "cause_coverage" not in candidate["summary"]
    assert "uncertainty_disclosure_rate" not in candidate["summary"]
    assert candidate["summary"]["baseline_agreement_rate"] is not None
    assert report["models"][0]["summary"]["baseline_agreement_rate"] == 1.0
    assert Path(report["dataset"]["path"]).name.startswith("traces-incident-triage-")
    assert report["dataset"]["case_count"] < 8  # only the requests with a failed call
    for case in candidate["cases"]:
        assert {check["name"] for check in case["checks"]} == {
            "escalation",
            "action_posture",
            "evidence_grounded",
        }
    rules = {rule["figure"] for rule in report["decision"]["rules"]}
    assert "baseline_agreement_rate" in rules and "uncertainty_disclosure_rate" not in rules
