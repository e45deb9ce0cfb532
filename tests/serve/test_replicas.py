"""Several replicas, one truth: two apps serving one workflow from one PostgreSQL store serve the
same pin, share a canary's analysis, and both stop sending canary traffic within one refresh
after either rolls the canary back."""

from __future__ import annotations

import time
from pathlib import Path

from modelup.release import Releases
from modelup.serve import ServeOptions
from modelup.serve.routing import on_canary
from modelup.store.releases import open_releases
from support.serving import (
    CALM_LOW,
    CANARY,
    failing_after,
    model_server,
    pinned_store,
    serving,
    settings,
)


def test_two_replicas_on_postgresql_agree_after_a_rollback(
    postgres_url: str, tmp_path: Path
) -> None:
    _, canary_id = pinned_store(postgres_url, tmp_path / "releases", canary=CANARY)
    keys = [f"incident-{n}" for n in range(200)]
    on = [key for key in keys if on_canary(canary_id, key, 50)]
    off = [key for key in keys if not on_canary(canary_id, key, 50)]
    models, _ = failing_after(0)  # the candidate breaks its contract from the start
    with model_server(models) as server:
        config = settings(postgres_url, server.base_url)
        with (
            serving(config, options=ServeOptions(refresh_s=0.2, replica="replica-a")) as a,
            serving(config, options=ServeOptions(refresh_s=0.2, replica="replica-b")) as b,
        ):
            for app in (a, b):
                (listed,) = app.client.get("/v1/workflows").json()["workflows"]
                assert listed["pinned"]["model"] == "m-stable"
                assert listed["rollout"]["release_id"] == canary_id
                assert listed["rollout"]["percent"] == 50
            # One incident stays on one arm, on either replica.
            assert b.decide(CALM_LOW, **{"X-Routing-Key": on[0]}).json()["shell"]["arm"] == "canary"
            assert a.decide(CALM_LOW, **{"X-Routing-Key": on[0]}).json()["shell"]["arm"] == "canary"
            assert (
                a.decide(CALM_LOW, **{"X-Routing-Key": off[0]}).json()["shell"]["arm"] == "stable"
            )
            # Traffic on replica A only, until the canary's analysis rolls it back.
            deadline = time.monotonic() + 60
            sent = 0
            while True:
                assert time.monotonic() < deadline, f"no rollback after {sent} requests"
                for key in keys[sent % 190 : sent % 190 + 10]:
                    response = a.decide(CALM_LOW, **{"X-Routing-Key": key})
                    assert response.status_code == 200, response.text
                    sent += 1
                a.refresh()
                with open_releases(postgres_url) as store:
                    assert store is not None
                    release = Releases(store).get(canary_id)
                if release.state == "rolled_back":
                    break
            # Either replica may be the one whose analysis acts; the other finds it done.
            assert release.events[-1].actor in (
                "modelup serve replica-a",
                "modelup serve replica-b",
            )
            assert [event.action for event in release.events].count("rollback") == 1
            b.refresh()  # one refresh of replica B after the rollback
            calls = models.count("m-canary")
            for app in (a, b):
                for key in on[:10]:
                    body = app.decide(CALM_LOW, **{"X-Routing-Key": key}).json()
                    assert body["shell"]["arm"] == "stable" and body["shell"]["contained"]
                (listed,) = app.client.get("/v1/workflows").json()["workflows"]
                assert listed["rollout"] is None and listed["pinned"]["model"] == "m-stable"
                assert listed["contained"]["release_id"] == canary_id
            assert models.count("m-canary") == calls
