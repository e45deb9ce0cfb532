"""The run-time shell end to end: releases of incident-triage made through the release API on a
mock evaluation, a loopback model server whose answers each test scripts per model, and the app
served by uvicorn on 127.0.0.1 (an ephemeral port) in a thread of its own."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from modelup.config.settings import Settings
from modelup.release import Releases
from modelup.release.ledger import Release
from modelup.serve import ServeOptions, create_app
from modelup.store.releases import open_releases
from modelup.workflow.catalog import get_workflow
from support.openai_server import ChatCall, Completion, OpenAITestServer, Reply
from support.releases import sections, toml

ROOT = Path(__file__).resolve().parents[2]
INCIDENT_DATASET = ROOT / "examples" / "incident-triage" / "dataset.json"
API_KEY = "sk-serve-test-secret"

# A thin-evidence, high-impact incident: the escalation policy says a human takes over.
THIN_HIGH = {
    "request": "Checkout errors doubled after deploy 4821. Triage it.",
    "service": "checkout-api",
    "impact": "high",
    "sources": {"deploy-4821": "timeout changed from 5s to 2s"},
}
# A low-impact incident with plenty of evidence: no rule fires.
CALM_LOW = {
    "request": "A dashboard panel is slow.",
    "service": "reporting",
    "impact": "low",
    "sources": {"a": "slow query", "b": "cache miss", "c": "index missing"},
}


def triage(*, escalate: bool = True, steps: list[str] | None = None) -> str:
    return json.dumps(
        {
            "summary": "Checkout errors after a deploy.",
            "likely_cause": "deploy 4821 shortened a timeout",
            "evidence": [{"source": "deploy-4821", "observation": "timeout changed"}],
            "unknowns": ["tracing is missing"],
            "recommended_next_steps": steps or ["inspect the payment client timeouts"],
            "escalation_required": escalate,
        }
    )


class Models:
    """The loopback server's responder: an answer function per requested model (thread-safe
    counts of the calls each model received)."""

    def __init__(self, answers: Mapping[str, Callable[[ChatCall], Reply]]) -> None:
        self.answers = dict(answers)
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, call: ChatCall) -> Reply:
        with self._lock:
            self.calls[call.model] = self.calls.get(call.model, 0) + 1
        return self.answers[call.model](call)

    def count(self, model: str) -> int:
        with self._lock:
            return self.calls.get(model, 0)


def answer(content: str, **options: Any) -> Callable[[ChatCall], Reply]:
    return lambda call: Completion(content, **options)


def _write_release(
    directory: Path, name: str, previous: str, candidate: str, rollout: Any, **extra: Any
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "experiment": {
            "use_mock_client": True,
            "workflow": "incident-triage",
            "dataset_path": str(INCIDENT_DATASET),
            "report_directory": str(directory / "reports"),
        },
        "llm": {"baseline_model_id": previous, "candidate_model_id": candidate},
        "mock": {"baseline_profile": "careful", "candidate_profile": "careful"},
        "history": {"enabled": False},
    }
    (directory / f"{name}.modelup.toml").write_text(sections(config), encoding="utf-8")
    record = {
        "workflow_id": "incident-triage",
        "previous_model": previous,
        "candidate_model": candidate,
        "alias_resolution": {},
        "required_eval_subsets": ["policy-sensitive"],
        "gate_classes": {"block": ["policy-sensitive"]},
        "rollout_scope": rollout,
        "rollback_rule": "Roll back when the canary's contract validity drops.",
        "trace_fields": ["workflow_id", "resolved_model"],
        "release_owner": "alice",
        "declared_goal": "Keep escalation correct.",
        "evaluation": f"{name}.modelup.toml",
        "expected_deltas": [
            {"figure": "escalation_accuracy", "greater_is_better": True, "min_absolute_change": 0}
        ],
        **extra,
    }
    path = directory / f"{name}.release.toml"
    path.write_text(toml(record), encoding="utf-8")
    return path


def ship(
    releases: Releases,
    directory: Path,
    name: str,
    previous: str,
    candidate: str,
    rollout: Any,
    **extra: Any,
) -> Release:
    """A release proposed, gated (mock), approved by its owner and promoted."""
    path = _write_release(directory, name, previous, candidate, rollout, **extra)
    release = releases.new(path, actor="ci")
    gated = releases.gate(release.release_id, actor="ci")
    verdict = gated.evidence.verdict
    override = None if verdict == "Promote" else "test: the serve shell is what is tested"
    releases.approve(release.release_id, actor="alice", override=override)
    return releases.promote(release.release_id, actor="deploy")


def pinned_store(
    url: str, directory: Path, *, canary: Mapping[str, Any] | str | None = None, **extra: Any
) -> list[str]:
    """A store where incident-triage serves ``m-stable`` (pinned, last-known-good ``m-old``);
    with ``canary``, a second release ``m-stable`` → ``m-canary`` is promoted with that rollout
    scope (a canary's table, or ``"shadow"``). Returns the release ids."""
    with open_releases(url) as store:
        assert store is not None
        releases = Releases(store)
        first = ship(releases, directory, "first", "m-old", "m-stable", "full", **extra)
        ids = [first.release_id]
        if canary is not None:
            rollout = canary if isinstance(canary, str) else dict(canary)
            second = ship(releases, directory, "second", "m-stable", "m-canary", rollout)
            ids.append(second.release_id)
    return ids


def settings(store_url: str, base_url: str, **llm: Any) -> Settings:
    return Settings.model_validate(
        {
            "store": {"url": store_url},
            "llm": {"base_url": base_url, "api_key": API_KEY, "max_attempts": 1, **llm},
            "traces": {"retention_days": 0},
        }
    )


class Running:
    """An app served by uvicorn on 127.0.0.1, with an HTTP client to it."""

    def __init__(self, url: str, client: httpx.Client, app: Any) -> None:
        self.url = url
        self.client = client
        self.app = app

    def decide(self, fields: Mapping[str, Any], **headers: str) -> httpx.Response:
        return self.client.post(
            "/v1/workflows/incident-triage/decide", json=dict(fields), headers=headers
        )

    def refresh(self) -> None:
        """Wait for one more state refresh of the app (re-read, counts written, analysed)."""
        runtime = self.app.state.runtime
        seen = runtime._read_at
        deadline = time.monotonic() + 10
        while runtime._read_at == seen:
            assert time.monotonic() < deadline, "the app did not refresh its state"
            time.sleep(0.02)


@contextmanager
def serving(
    config: Settings,
    *,
    options: ServeOptions | None = None,
    workflows: Mapping[str, Any] | None = None,
) -> Iterator[Running]:
    import uvicorn

    app = create_app(
        config,
        workflows or {"incident-triage": get_workflow("incident-triage")},
        options=options or ServeOptions(refresh_s=0.2),
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="none")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=20) as client:
            yield Running(url, client, app)
    finally:
        server.should_exit = True
        thread.join(20)


@contextmanager
def model_server(models: Models) -> Iterator[OpenAITestServer]:
    with OpenAITestServer(models, api_key=API_KEY, max_requests=2000) as server:
        yield server


CANARY = {
    "kind": "canary",
    "steps": [50, 100],
    "interval": {"requests": 20},
    "must_have_data": 10,
    "failure_limit": 0,
    # Latency on loopback is noise: judged with bounds wide enough never to decide here.
    "metrics": [
        {"figure": "contract_validity", "success_worse_at_most": 0.02, "failure_worse_above": 0.05},
        {"figure": "error_rate", "success_worse_at_most": 0.02, "failure_worse_above": 0.05},
        {"figure": "override_rate", "success_worse_at_most": 0.05, "failure_worse_above": 0.1},
        {"figure": "drift_rate", "success_worse_at_most": 0, "failure_worse_above": 0},
        {
            "figure": "p95_latency_ms",
            "success_worse_at_most": 50,
            "failure_worse_above": 100,
            "relative": True,
        },
    ],
}


def failing_after(calls: int) -> tuple[Models, list[int]]:
    """m-stable always answers well; m-canary does for its first ``calls`` calls, then breaks
    its contract."""
    seen = [0]

    def canary(call: ChatCall) -> Reply:
        seen[0] += 1
        return Completion(triage() if seen[0] <= calls else '{"summary": "fine"}')

    return Models({"m-stable": answer(triage()), "m-canary": canary}), seen
