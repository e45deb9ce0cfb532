"""Live-path throughput: N cases x 2 models at concurrency C against a loopback endpoint.

Starts an asyncio OpenAI-compatible server in its own process (answering every call after a
fixed delay, default 50 ms), then runs each phase in a fresh process and prints its wall time,
the ideal time (N x 2 x delay / C), their ratio, calls per second and the phase's peak RSS:

    floor    the same 2 x N calls from a bare aiohttp client at concurrency C, doing nothing
             else: what this machine and this server allow any Python client
    live     N cases against the server, filling a fresh response cache (--repeat times)
    cached   the same run again: answered from the cache, zero calls
    stream   --stream-cases cases answered from a cache filled beforehand (peak memory)

A run's wall time is that of ``modelup run`` once its modules are imported: from reading the
configuration, dataset and workflow to the report written (the replay and the report are also
shown on their own).

Usage: .venv/bin/python benchmarks/live_throughput.py [--cases 1000] [--concurrency 64]
           [--delay-ms 50] [--repeat 3] [--stream-cases 100000]
           [--phases floor,live,cached,stream] [--trace]

--trace runs each live phase twice, without and with a trace of every call recorded in the
project store (``[traces] enabled``; plus OpenTelemetry export when OTEL_EXPORTER_OTLP_ENDPOINT
is set), alternating, and prints both medians and their ratio, and each traced run's ratio to
the untraced run just before it with their median (target: on / off < 1.10).

Targets on a 2-core machine: live wall <= 1.3 x ideal at N = 1000, C = 64; cached < 2 s;
stream of 100,000 cases with peak RSS < 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback import ANSWER, start_server, write_dataset

# --------------------------------------------------------------------------- the phases


def settings_for(work: Path, base_url: str, dataset: Path, concurrency: int) -> Any:
    from modelup.config.loading import load_settings

    return load_settings(
        None,
        {
            "experiment": {
                "use_mock_client": False,
                "dataset_path": dataset,
                "concurrency": concurrency,
                "runs_directory": work / "runs",
                "report_directory": work / "reports",
            },
            "llm": {
                "base_url": base_url,
                "api_key": "bench",
                "baseline_model_id": "base",
                "candidate_model_id": "cand",
            },
            "cache": {"path": work / "cache.sqlite"},
            "history": {"enabled": False},
            "store": {"url": str(work / "store.sqlite")},
        },
    )


def run_phase(work: Path, base_url: str, dataset: Path, concurrency: int) -> dict[str, Any]:
    """One run exactly as ``modelup run`` does it (the run session: cache, journal, spooled
    report; no terminal, no history); timed, in this process."""
    from contextlib import contextmanager

    from modelup._cli.heap import settle_heap
    from modelup.session.session import RunObserver, Session

    counts = {"results": 0, "cached": 0}
    last = [0.0, 0.0]
    replay_started = [0.0, 0.0]

    def on_result(index: int, result: Any) -> None:
        counts["results"] += 1
        counts["cached"] += result.cached
        last[0] = time.perf_counter()
        last[1] = time.process_time()

    class Timing(RunObserver):
        def planned(self, plan: Any, *, run_id: str, resumed_calls: int | None) -> None:
            settle_heap()  # as ``modelup run``'s own observer does before the calls

        @contextmanager
        def progress(self, plan: Any) -> Any:
            replay_started[:] = [time.perf_counter(), time.process_time()]
            yield on_result

    started = time.perf_counter()
    settings = settings_for(work, base_url, dataset, concurrency)
    result = Session(settings, observer=Timing()).run()
    ended = time.perf_counter()
    return {
        "wall_s": ended - started,
        "replay_s": last[0] - replay_started[0],
        "replay_cpu_s": last[1] - replay_started[1],
        "report_s": ended - last[0],
        "results": counts["results"],
        "cached": counts["cached"],
        "errors": sum(model.summary.get("error_count") or 0 for model in result.report.models),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def floor(work: Path, base_url: str, dataset: Path, concurrency: int) -> dict[str, Any]:
    """The run's requests, encoded beforehand, sent by a bare aiohttp client ``concurrency`` at
    a time: nothing parsed, scored, cached or written."""
    import aiohttp

    from modelup.jsonbytes import compact
    from modelup.models.chat import ChatRequest
    from modelup.models.openai import _request_body
    from modelup.session.plan import plan_run

    plan = plan_run(settings_for(work, base_url, dataset, concurrency))
    bodies = [
        compact(_request_body(ChatRequest(target.model, plan.workflow.prompt.render(case.fields))))
        for case in plan.dataset.cases
        for target in plan.targets
    ]

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            todo = iter(bodies)
            url = f"{base_url}/chat/completions"

            async def worker() -> None:
                for body in todo:
                    async with session.post(url, data=body) as response:
                        await response.read()

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    started_cpu = time.process_time()
    wall = asyncio.run(run())
    return {
        "wall_s": wall,
        "replay_s": wall,
        "replay_cpu_s": time.process_time() - started_cpu,
        "report_s": 0.0,
        "results": len(bodies),
        "cached": 0,
        "errors": 0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def fill_cache(work: Path, base_url: str, dataset: Path) -> None:
    """Answers for every (case, model) of ``dataset``, written straight into the cache."""
    from modelup.models.cache import cache_key
    from modelup.models.chat import ChatRequest, ChatResponse, Usage
    from modelup.session.plan import plan_run
    from modelup.store.cache import ResponseCache

    plan = plan_run(settings_for(work, base_url, dataset, 64))
    answer = ChatResponse(ANSWER, 50.0, None, Usage(420, 120), "fp_bench")
    with ResponseCache(work / "cache.sqlite") as cache:
        for case in plan.dataset.cases:
            messages = plan.workflow.prompt.render(case.fields)
            for target in plan.targets:
                request = ChatRequest(target.model, messages, target.temperature)
                cache.put(cache_key(target.endpoint, request), target.model, answer)


def child(argv: list[str]) -> None:
    phase, work, base_url, dataset, concurrency = argv
    if phase == "fill":
        fill_cache(Path(work), base_url, Path(dataset))
        print(json.dumps({}))
        return
    if phase == "floor":
        print(json.dumps(floor(Path(work), base_url, Path(dataset), int(concurrency))))
        return
    print(json.dumps(run_phase(Path(work), base_url, Path(dataset), int(concurrency))))


def in_child(*args: str, trace: bool = False) -> dict[str, Any]:
    import os

    env = {**os.environ, "MODELUP_TRACES__ENABLED": "true" if trace else "false"}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"phase {args[0]} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def show(name: str, cases: int, figures: dict[str, Any], ideal_s: float | None) -> None:
    calls = 2 * cases - figures["cached"]
    wall = figures["wall_s"]
    line = f"{name:7} N={cases:<7} wall {wall:6.2f} s"
    if ideal_s is not None:
        line += f"  ideal {ideal_s:5.2f} s  ratio {wall / ideal_s:5.2f}"
    line += f"  (replay {figures['replay_s']:5.2f} s"
    if ideal_s is not None:
        line += f" = {figures['replay_s'] / ideal_s:4.2f} x ideal"
    line += f", CPU {figures['replay_cpu_s']:5.2f} s; report {figures['report_s']:4.2f} s)"
    line += f"  calls/s {calls / figures['replay_s']:7.1f}  cached {figures['cached']}"
    line += f"  errors {figures['errors']:.0f}  peak RSS {figures['peak_rss_mb']:6.1f} MB"
    print(line, flush=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3, help="live runs (each on a new cache)")
    parser.add_argument("--stream-cases", type=int, default=100_000)
    parser.add_argument("--phases", default="floor,live,cached,stream")
    parser.add_argument("--trace", action="store_true", help="live phases without and with traces")
    args = parser.parse_args()
    phases = set(args.phases.split(","))

    multiprocessing.set_start_method("spawn", force=True)
    server, base_url, _ = start_server(args.delay_ms / 1000)
    delay = args.delay_ms / 1000
    print(
        f"loopback endpoint {base_url}, delay {args.delay_ms:g} ms, "
        f"concurrency {args.concurrency}, 2 models",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="modelup-bench-") as tmp:
            work = Path(tmp)
            dataset = work / "dataset.jsonl"
            write_dataset(dataset, args.cases)
            common = (str(work), base_url, str(dataset), str(args.concurrency))
            ideal = args.cases * 2 * delay / args.concurrency
            if "floor" in phases:
                show("floor", args.cases, in_child("floor", *common), ideal)
            if "live" in phases or "cached" in phases:
                walls = []
                traced = []
                for _ in range(max(1, args.repeat)):
                    for leftover in work.glob("cache.sqlite*"):
                        leftover.unlink()  # each live run starts on an empty cache
                    figures = in_child("live", *common)
                    show("live", args.cases, figures, ideal)
                    walls.append(figures["wall_s"])
                    if args.trace:
                        for leftover in work.glob("cache.sqlite*"):
                            leftover.unlink()
                        figures = in_child("live", *common, trace=True)
                        show("traced", args.cases, figures, ideal)
                        traced.append(figures["wall_s"])
                if traced:
                    off, on = median(walls), median(traced)
                    pairs = [t / w for w, t in zip(walls, traced, strict=True)]
                    print(
                        f"trace   median wall off {off:.2f} s, on {on:.2f} s:"
                        f" on / off = {on / off:.3f}; paired ratios"
                        f" {' '.join(f'{r:.2f}' for r in pairs)}, median {median(pairs):.3f}",
                        flush=True,
                    )
                if len(walls) > 1:
                    middle = median(walls)
                    print(
                        f"live    median wall of {len(walls)} runs {middle:.2f} s,"
                        f" ratio {middle / ideal:.2f} (best {min(walls) / ideal:.2f},"
                        f" worst {max(walls) / ideal:.2f})",
                        flush=True,
                    )
            if "cached" in phases:
                show("cached", args.cases, in_child("cached", *common), None)
            if "stream" in phases:
                stream = work / "stream"
                stream.mkdir()
                big = stream / "dataset.jsonl"
                write_dataset(big, args.stream_cases)
                big_common = (str(stream), base_url, str(big), str(args.concurrency))
                filled = time.perf_counter()
                in_child("fill", *big_common)
                print(f"(filled the cache for the stream in {time.perf_counter() - filled:.1f} s)")
                show("stream", args.stream_cases, in_child("stream", *big_common), None)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
