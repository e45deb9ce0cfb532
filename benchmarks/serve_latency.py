"""The run-time shell's cost: ``modelup serve`` (uvicorn, its own process) in front of a loopback
OpenAI-compatible endpoint answering every call after a fixed delay (default 50 ms, its own
process), driven by a concurrent aiohttp client (this process).

For each round it measures, with the same request at the same concurrency:

    bare     the model call alone: the prompt the shell would render, sent straight to the
             endpoint (what any client pays)
    shell    POST /v1/workflows/incident-triage/decide: inputs validated, routed to the pinned
             release, the model called, the answer parsed, checked, governed by policy, traced
             (one record per request into the project store) and counted

and prints p50/p99 of each, the shell's added latency (shell minus bare, at p50 and p99),
requests per second, the shell's CPU per request, and its peak RSS. ``--concurrency`` is the
load (64 by default); rounds at 1 and 8 in flight show the overhead below saturation, where
latency is not yet queueing for the shell's one event loop.

Targets on a 2-core machine: added p50 <= 3 ms; >= 300 requests/s at 64 in flight. The client,
the shell and the endpoint share the machine's cores: figures on a loaded machine are worse.

Usage: .venv/bin/python benchmarks/serve_latency.py [--requests 3000] [--concurrency 64]
           [--delay-ms 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback import ROOT, start_server

INCIDENT_DATASET = ROOT / "examples" / "incident-triage" / "dataset.json"
ANSWER = json.dumps(
    {
        "summary": "Checkout errors doubled after deploy 4821.",
        "likely_cause": "deploy 4821 shortened the payment client timeout",
        "evidence": [{"source": "deploy-4821", "observation": "timeout 5s to 2s"}],
        "unknowns": ["tracing is missing"],
        "recommended_next_steps": ["inspect the payment client timeouts", "restart the pods"],
        "escalation_required": False,
    }
)
FIELDS = {
    "request": "Checkout errors doubled after deploy 4821. Triage it.",
    "service": "checkout-api",
    "impact": "high",
    "sources": {"deploy-4821": "timeout changed from 5s to 2s"},
}


def toml_value(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, str):
        return json.dumps(item)
    if isinstance(item, list):
        return "[" + ", ".join(toml_value(element) for element in item) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in item.items()) + "}"


def release_store(work: Path) -> str:
    """A project store where incident-triage serves ``bench-model`` (pinned by a release that
    went through new, a mock gate, approval and promotion)."""
    from modelup.release import Releases
    from modelup.store.releases import open_releases

    (work / "evaluation.toml").write_text(
        '[experiment]\nuse_mock_client = true\nworkflow = "incident-triage"\n'
        f"dataset_path = {json.dumps(str(INCIDENT_DATASET))}\n"
        f"report_directory = {json.dumps(str(work / 'reports'))}\n"
        '[llm]\nbaseline_model_id = "old-model"\ncandidate_model_id = "bench-model"\n'
        '[mock]\nbaseline_profile = "careful"\ncandidate_profile = "careful"\n'
        "[history]\nenabled = false\n"
    )
    record = {
        "workflow_id": "incident-triage",
        "previous_model": "old-model",
        "candidate_model": "bench-model",
        "alias_resolution": {},
        "required_eval_subsets": ["policy-sensitive"],
        "gate_classes": {"block": ["policy-sensitive"]},
        "rollout_scope": "full",
        "rollback_rule": "Roll back on any regression.",
        "trace_fields": ["workflow_id", "resolved_model"],
        "release_owner": "bench",
        "declared_goal": "Benchmark the shell.",
        "evaluation": "evaluation.toml",
        "expected_deltas": [
            {"figure": "escalation_accuracy", "greater_is_better": True, "min_absolute_change": 0}
        ],
    }
    path = work / "release.toml"
    path.write_text("".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in record.items()))
    url = str(work / "store.sqlite")
    with open_releases(url) as store:
        assert store is not None
        releases = Releases(store)
        release = releases.new(path, actor="bench")
        verdict = releases.gate(release.release_id, actor="bench").evidence.verdict
        override = None if verdict == "Promote" else "benchmark"
        releases.approve(release.release_id, actor="bench", override=override)
        releases.promote(release.release_id, actor="bench")
    return url


def run_shell(port_out: Any, store: str, base_url: str) -> None:
    """The shell in this (child) process, as ``modelup serve`` runs it."""
    import uvicorn

    from modelup.config.settings import Settings
    from modelup.serve import ServeOptions, create_app
    from modelup.workflow.catalog import get_workflow

    settings = Settings.model_validate(
        {"store": {"url": store}, "llm": {"base_url": base_url, "api_key": "bench"}}
    )
    app = create_app(
        settings, {"incident-triage": get_workflow("incident-triage")}, options=ServeOptions()
    )
    # uvicorn binds its own socket, as `modelup serve` does: a socket made here with proto 0
    # would make asyncio skip TCP_NODELAY on accepted connections (a 40 ms delayed-ACK stall).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, ws="none"
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.01)
        port_out.send(server.servers[0].sockets[0].getsockname()[1])
        await serving

    asyncio.run(main())


def wait_healthy(url: str, seconds: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the shell did not become healthy")
        time.sleep(0.1)


def cpu_s(pid: int) -> float:
    """The process's user + system CPU time so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def drive(
    url: str, body: bytes, requests: int, concurrency: int
) -> tuple[list[float], float, int]:
    """``requests`` POSTs of ``body``, ``concurrency`` at a time: each latency (ms), the wall
    time (s), and how many were not 200."""
    import aiohttp

    latencies: list[float] = []
    failures = 0
    todo = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal failures
            for _ in todo:
                started = time.perf_counter()
                async with session.post(url, data=body) as response:
                    await response.read()
                    failures += response.status != 200
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, wall, failures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bare_body() -> bytes:
    from modelup.jsonbytes import compact
    from modelup.models.chat import ChatRequest
    from modelup.models.openai import _request_body
    from modelup.observe.label_free import inputs_model
    from modelup.workflow.catalog import get_workflow

    workflow = get_workflow("incident-triage")
    fields = inputs_model(workflow.case_fields, workflow.input_fields).model_validate(FIELDS)
    messages = workflow.prompt.render(fields.model_dump())
    return compact(_request_body(ChatRequest("bench-model", messages)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    multiprocessing.set_start_method("spawn", force=True)
    model, base_url, _ = start_server(args.delay_ms / 1000, content=ANSWER)
    with tempfile.TemporaryDirectory(prefix="modelup-serve-bench-") as tmp:
        store = release_store(Path(tmp))
        receive, send = multiprocessing.Pipe(duplex=False)
        shell = multiprocessing.Process(target=run_shell, args=(send, store, base_url), daemon=True)
        shell.start()
        if not receive.poll(120):
            raise SystemExit("the shell did not start")
        port = receive.recv()
        wait_healthy(f"http://127.0.0.1:{port}/healthz")
        shell_url = f"http://127.0.0.1:{port}/v1/workflows/incident-triage/decide"
        bare_url = f"{base_url}/chat/completions"
        shell_body, model_body = json.dumps(FIELDS).encode(), bare_body()
        print(
            f"loopback endpoint delay {args.delay_ms:g} ms; {os.cpu_count()} cores shared by the "
            f"client, the shell and the endpoint; {args.requests} requests per run",
            flush=True,
        )
        try:
            asyncio.run(drive(shell_url, shell_body, 200, 16))  # warm up: connections, imports
            asyncio.run(drive(bare_url, model_body, 200, 16))
            summary: dict[int, list[tuple[float, float, float]]] = {}
            for round_ in range(1, args.rounds + 1):
                for concurrency in (1, 8, args.concurrency):
                    count = max(100, args.requests * min(concurrency, 16) // 16 // 4)
                    if concurrency == args.concurrency:
                        count = args.requests
                    bare, _, bad_bare = asyncio.run(drive(bare_url, model_body, count, concurrency))
                    cpu_before = cpu_s(shell.pid or 0)
                    served, wall, bad = asyncio.run(
                        drive(shell_url, shell_body, count, concurrency)
                    )
                    cpu_ms = (cpu_s(shell.pid or 0) - cpu_before) * 1000 / count
                    added50 = percentile(served, 0.5) - percentile(bare, 0.5)
                    added99 = percentile(served, 0.99) - percentile(bare, 0.99)
                    rate = count / wall
                    summary.setdefault(concurrency, []).append((added50, added99, rate))
                    bare50, bare99 = percentile(bare, 0.5), percentile(bare, 0.99)
                    shell50, shell99 = percentile(served, 0.5), percentile(served, 0.99)
                    print(
                        f"round {round_} in flight {concurrency:3d}: bare p50 {bare50:6.1f} "
                        f"p99 {bare99:6.1f} ms | shell p50 {shell50:6.1f} p99 {shell99:6.1f} ms"
                        f" | added p50 {added50:5.2f} p99 {added99:6.2f} ms | {rate:6.1f} req/s"
                        f" | shell CPU {cpu_ms:4.2f} ms/request | non-200: {bad} shell, "
                        f"{bad_bare} bare",
                        flush=True,
                    )
            rss = peak_rss_mb(shell.pid or 0)
            for concurrency, rows in summary.items():
                print(
                    f"median of {len(rows)} rounds at {concurrency:3d} in flight: added p50 "
                    f"{statistics.median(r[0] for r in rows):.2f} ms, added p99 "
                    f"{statistics.median(r[1] for r in rows):.2f} ms, "
                    f"{statistics.median(r[2] for r in rows):.1f} requests/s"
                )
            print(f"shell peak RSS {rss:.1f} MB")
        finally:
            shell.terminate()
            shell.join(10)
            model.terminate()


if __name__ == "__main__":
    main()
