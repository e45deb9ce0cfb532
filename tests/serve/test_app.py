"""``modelup serve`` end to end on 127.0.0.1: uvicorn serving the app, the loopback
OpenAI-compatible server behind it, releases made through the release API in a real store."""

from __future__ import annotations

import json
import time
from pathlib import Path

from modelup.release import Releases
from modelup.serve import ServeOptions
from modelup.store.releases import open_releases
from modelup.store.traces import TraceQuery, open_trace_store
from support.openai_server import HttpError
from support.serving import (
    API_KEY,
    CALM_LOW,
    CANARY,
    THIN_HIGH,
    Models,
    answer,
    failing_after,
    model_server,
    pinned_store,
    serving,
    settings,
    triage,
)


def test_the_policy_overrides_a_model_that_would_not_escalate(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    pinned_store(url, tmp_path / "releases")
    models = Models({"m-stable": answer(triage(escalate=False))})
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        response = app.decide(THIN_HIGH)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["escalation_required"] is True
        shell = body["shell"]
        assert (shell["requested_model"], shell["resolved_model"]) == ("m-stable", "m-stable")
        assert (shell["release_id"], shell["arm"], shell["validation"]) == (
            "rel-1",
            "stable",
            "strict",
        )
        assert shell["overrides"] == [
            {
                "field": "escalation_required",
                "model_value": False,
                "policy_value": True,
                "why": "policy escalation: rule 'thin evidence on high impact' fired: impact high "
                "≥ high, sources count 1 < 3",
            }
        ]
        metrics = app.client.get("/metrics").text
    assert (
        'modelup_serve_overrides_total{arm="stable",field="escalation_required",'
        'workflow="incident-triage"} 1.0' in metrics
    )
    store = open_trace_store(url, create=False)
    assert store is not None
    with store:
        (stored,) = store.find(TraceQuery(overridden=True))
    record = json.loads(stored.record)
    assert record["trace_id"] == shell["trace_id"] and record["source"] == "serve"
    assert record["release_id"] == "rel-1" and record["arm"] == "stable"
    assert API_KEY not in stored.record


def test_identity_drift_is_detected_and_flagged_by_default(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    pinned_store(url, tmp_path / "releases")
    # The alias moved under us: asked for m-stable, answered as another model.
    models = Models({"m-stable": answer(triage(), model="m-stable-2026-06-01")})
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        body = app.decide(CALM_LOW).json()
        metrics = app.client.get("/metrics").text
    assert body["shell"]["identity_drift"] is True
    assert body["shell"]["resolved_model"] == "m-stable-2026-06-01"
    assert any("identity drift flagged" in action for action in body["shell"]["actions"])
    assert (
        'modelup_serve_identity_drift_total{arm="stable",workflow="incident-triage"} 1.0' in metrics
    )


def test_identity_drift_with_reject_is_a_502(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    pinned_store(url, tmp_path / "releases", on_identity_drift="reject")
    models = Models({"m-stable": answer(triage(), model="m-stable-2026-06-01")})
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        response = app.decide(CALM_LOW)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "identity_drift"


def test_an_upstream_outage_gives_502s_not_crashes(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    pinned_store(url, tmp_path / "releases")
    models = Models({"m-stable": lambda call: HttpError(503, "overloaded")})
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        responses = [app.decide(THIN_HIGH) for _ in range(3)]
        for response in responses:
            assert response.status_code == 502
            error = response.json()["error"]
            assert error["type"] == "upstream" and "HTTP 503" in error["message"]
            assert "summary" not in response.json()
        server.close()  # the endpoint is gone altogether: connection refused
        gone = app.decide(THIN_HIGH)
        assert gone.status_code == 502 and "cannot" in gone.json()["error"]["message"]
        assert app.client.get("/healthz").status_code == 200  # the shell itself is fine
    assert models.count("m-stable") == 3


def test_bad_requests_are_4xx_naming_the_field(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    pinned_store(url, tmp_path / "releases")
    models = Models({"m-stable": answer(triage())})
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        wrong = app.decide({**THIN_HIGH, "impact": "apocalyptic"})
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "impact"
        missing = {k: v for k, v in THIN_HIGH.items() if k != "sources"}
        assert app.decide(missing).json()["error"]["field"] == "sources"
        typed = app.decide({**THIN_HIGH, "actions_allowed": "yes"})
        assert typed.json()["error"]["field"] == "actions_allowed"
        label = app.decide({**THIN_HIGH, "cause_keywords": ["timeout"]})  # an expectation
        assert label.status_code == 422 and label.json()["error"]["field"] == "cause_keywords"
        unknown = app.client.post("/v1/workflows/nope/decide", json=THIN_HIGH)
        assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "workflow_id"
        junk = app.client.post(
            "/v1/workflows/incident-triage/decide",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert junk.status_code == 400
        huge = app.decide({**THIN_HIGH, "request": "x" * 300_000})
        assert huge.status_code == 413
    assert models.count("m-stable") == 0  # no bad request ever reached a model


def test_workflows_and_health_describe_the_pin(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    pinned_store(url, tmp_path / "releases")
    with model_server(Models({})) as server, serving(settings(url, server.base_url)) as app:
        (listed,) = app.client.get("/v1/workflows").json()["workflows"]
        health = app.client.get("/healthz").json()
    assert listed["pinned"]["model"] == "m-stable" and listed["pinned"]["release_id"] == "rel-1"
    assert listed["last_known_good"]["model"] == "m-old"
    assert listed["policy_owned"] == ["escalation_required"] and listed["rollout"] is None
    assert health["status"] == "ok" and health["workflows"] == ["incident-triage"]


def test_nothing_pinned_is_a_503(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    with model_server(Models({})) as server, serving(settings(url, server.base_url)) as app:
        response = app.decide(THIN_HIGH)
    assert (
        response.status_code == 503 and "no promoted release" in response.json()["error"]["message"]
    )


def test_a_canary_that_starts_failing_its_contract_is_rolled_back_automatically(
    tmp_path: Path,
) -> None:
    url = str(tmp_path / "store.sqlite")
    _, canary_id = pinned_store(url, tmp_path / "releases", canary=CANARY)
    models, _ = failing_after(8)
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        (listed,) = app.client.get("/v1/workflows").json()["workflows"]
        assert listed["rollout"]["state"] == "canary" and listed["rollout"]["percent"] == 50
        arms: list[str] = []
        deadline = time.monotonic() + 60
        rolled_back = False
        while not rolled_back:
            assert time.monotonic() < deadline, f"no rollback after {len(arms)} requests"
            for index in range(10):
                body = app.decide(CALM_LOW, **{"X-Routing-Key": f"incident-{len(arms)}-{index}"})
                arms.append(body.json()["shell"]["arm"])
            app.refresh()
            with open_releases(url) as store:
                assert store is not None
                rolled_back = Releases(store).get(canary_id).state == "rolled_back"
        assert "canary" in arms and "stable" in arms
        app.refresh()  # at most one refresh after the rollback
        canary_calls = models.count("m-canary")
        after = [app.decide(CALM_LOW, **{"X-Routing-Key": f"after-{i}"}).json() for i in range(20)]
        (listed,) = app.client.get("/v1/workflows").json()["workflows"]
    assert all(body["shell"]["arm"] == "stable" for body in after)
    assert models.count("m-canary") == canary_calls  # no canary traffic after the rollback
    # The rollback contains the workflow: escalation forced, read-only steps, until resumed.
    assert all(body["shell"]["contained"] and body["escalation_required"] for body in after)
    assert listed["rollout"] is None and listed["contained"]["release_id"] == canary_id
    assert listed["pinned"]["model"] == "m-stable"  # the last-known-good never left
    with open_releases(url) as store:
        assert store is not None
        release = Releases(store).get(canary_id)
    rollback = release.events[-1]
    assert rollback.action == "rollback" and rollback.actor.startswith("modelup serve replica-")
    assert rollback.reason is not None and "contract_validity" in rollback.reason
    assert release.row.rollout["last_analysis"]["status"] == "failed"


def test_a_canary_whose_analyses_pass_is_promoted_after_its_last_step(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    _, canary_id = pinned_store(url, tmp_path / "releases", canary=CANARY)
    models = Models({"m-stable": answer(triage()), "m-canary": answer(triage())})
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        deadline = time.monotonic() + 60
        state = "canary"
        sent = 0
        while state == "canary":
            assert time.monotonic() < deadline, f"still in canary after {sent} requests"
            for _ in range(10):
                assert app.decide(CALM_LOW, **{"X-Routing-Key": f"k{sent}"}).status_code == 200
                sent += 1
            app.refresh()
            with open_releases(url) as store:
                assert store is not None
                state = Releases(store).get(canary_id).state
        app.refresh()
        body = app.decide(CALM_LOW).json()
    assert state == "promoted"
    assert (
        body["shell"]["requested_model"] == "m-canary" and body["shell"]["release_id"] == canary_id
    )


def test_a_shadow_is_called_scored_and_traced_but_never_returned(tmp_path: Path) -> None:
    url = str(tmp_path / "store.sqlite")
    _, shadow_id = pinned_store(url, tmp_path / "releases", canary="shadow")
    models = Models(
        {
            "m-stable": answer(triage(escalate=False)),
            "m-canary": answer(triage(steps=["restart everything"])),
        }
    )
    with model_server(models) as server, serving(settings(url, server.base_url)) as app:
        bodies = [app.decide(THIN_HIGH).json() for _ in range(5)]
        deadline = time.monotonic() + 10
        while models.count("m-canary") < 5:
            assert time.monotonic() < deadline, "the shadow was not called"
            time.sleep(0.02)
        app.refresh()
        (listed,) = app.client.get("/v1/workflows").json()["workflows"]
        metrics = app.client.get("/metrics").text
    assert all(body["shell"]["arm"] == "stable" for body in bodies)
    assert all(
        body["recommended_next_steps"] == ["inspect the payment client timeouts"] for body in bodies
    )
    assert listed["rollout"]["state"] == "shadow" and listed["rollout"]["release_id"] == shadow_id
    assert (
        'modelup_serve_requests_total{arm="shadow",status="200",workflow="incident-triage"} 5.0'
        in metrics
    )
    store = open_trace_store(url, create=False)
    assert store is not None
    with store:
        shadowed = [json.loads(row.record) for row in store.find(TraceQuery())]
    arms = sorted(record["arm"] for record in shadowed)
    assert arms == ["shadow"] * 5 + ["stable"] * 5
    assert all(r["requested_model"] == "m-canary" for r in shadowed if r["arm"] == "shadow")
    assert all(r["release_id"] == shadow_id for r in shadowed if r["arm"] == "shadow")


def test_an_interval_of_requests_is_analysed_without_waiting_for_the_refresh(
    tmp_path: Path,
) -> None:
    url = str(tmp_path / "store.sqlite")
    _, canary_id = pinned_store(url, tmp_path / "releases", canary=CANARY)
    models, _ = failing_after(0)
    slow = ServeOptions(refresh_s=60)  # only the canary's own requests can wake the analysis
    with (
        model_server(models) as server,
        serving(settings(url, server.base_url), options=slow) as app,
    ):
        deadline = time.monotonic() + 30
        state, sent = "canary", 0
        while state == "canary":
            assert time.monotonic() < deadline, f"not analysed after {sent} requests"
            app.decide(CALM_LOW, **{"X-Routing-Key": f"k{sent}"})
            sent += 1
            if sent % 10 == 0:
                time.sleep(0.2)
                with open_releases(url) as store:
                    assert store is not None
                    state = Releases(store).get(canary_id).state
        time.sleep(0.2)
        after = [app.decide(CALM_LOW, **{"X-Routing-Key": f"a{i}"}).json() for i in range(10)]
    assert state == "rolled_back" and sent < 200
    assert all(body["shell"]["arm"] == "stable" for body in after)
