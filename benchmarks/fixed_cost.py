"""The fixed cost of a run, as a user meets it: ``modelup run`` as a process, against a loopback
endpoint answering after a fixed delay (default 50 ms), 2 models, no response cache.

For each size (cases x 2 models at concurrency C) it runs the real command in a subprocess,
several interleaved rounds, and prints medians of:

    start    process start to the first call arriving at the server (imports, configuration,
             dataset, workflow, planning)
    tail     the last answer leaving the server to the process exit (scoring the last answers,
             statistics, the report written, history recorded)
    ratio    the whole run's wall time over the ideal (calls x delay / C)
    cpu/call the harness's own CPU per call, from two sizes' CPU difference (so fixed costs
             cancel), excluding the server's

and ``modelup --help``'s wall time. Pass ``--python`` to measure another environment (e.g. one
made by the README's first command, without the development extras).

Usage: .venv/bin/python benchmarks/fixed_cost.py [--rounds 3] [--delay-ms 50]
           [--sizes 200:25,2000:64] [--python .venv/bin/python]

Targets (issue 16, 2-core machine): start <= 0.25 s; tail at 2,000 cases <= 0.25 s; --help
<= 0.3 s; ratio <= 1.15 at 2,000 x 2 at C = 64 and <= 1.4 at 200 x 2 at C = 25; CPU per call
printed (aim < 0.3 ms).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback import start_server, write_dataset

ENTRY = "from modelup._cli.main import main; main()"
"""The command as its console script runs it (also what older versions, without
``python -m modelup``, can be measured with)."""


def write_config(config: Path, work: Path, base_url: str, dataset: Path, concurrency: int) -> Path:
    """``config``: a live run of ``dataset`` against ``base_url`` (models ``base`` and ``cand``),
    without the response cache, its report, runs and history under ``work``."""
    config.write_text(
        f"""
[experiment]
use_mock_client = false
dataset_path = "{dataset}"
report_directory = "{work / "reports"}"
runs_directory = "{work / "runs"}"
concurrency = {concurrency}

[llm]
base_url = "{base_url}"
api_key = "bench"
baseline_model_id = "base"
candidate_model_id = "cand"

[cache]
enabled = false

[history]
path = "{work / "history.sqlite"}"
""",
        encoding="utf-8",
    )
    return config


def run_once(
    python: str, work: Path, base_url: str, control: Any, cases: int, concurrency: int
) -> dict[str, float]:
    dataset = work / f"dataset-{cases}.jsonl"
    if not dataset.exists():
        write_dataset(dataset, cases)
    config = write_config(work / f"modelup-{cases}.toml", work, base_url, dataset, concurrency)
    control.send("reset")
    control.recv()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    done = subprocess.run(
        [python, "-c", ENTRY, "run", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 3, 4):
        raise SystemExit(f"modelup run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    control.send("stats")
    first, last, calls = control.recv()
    if calls != 2 * cases:
        raise SystemExit(f"expected {2 * cases} calls, the server saw {calls}")
    return {
        "start": first - started,
        "tail": ended - last,
        "wall": ended - started,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def help_once(python: str) -> float:
    started = time.perf_counter()
    subprocess.run([python, "-c", ENTRY, "--help"], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--sizes", default="200:25,2000:64", help="cases:concurrency,...")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument(
        "--src", help="Measure the modelup source tree here (PYTHONPATH), e.g. another checkout."
    )
    args = parser.parse_args()
    if args.src:
        os.environ["PYTHONPATH"] = args.src
    sizes = [tuple(int(x) for x in size.split(":")) for size in args.sizes.split(",")]
    delay = args.delay_ms / 1000
    server, base_url, control = start_server(delay, track=True)
    env_note = os.path.relpath(args.python) if os.path.isabs(args.python) else args.python
    print(f"loopback {base_url}, delay {args.delay_ms:g} ms, python {env_note}", flush=True)
    figures: dict[tuple[int, int], list[dict[str, float]]] = {size: [] for size in sizes}
    helps: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="modelup-fixed-") as tmp:
            work = Path(tmp)
            for _ in range(args.rounds):
                helps.append(help_once(args.python))
                for cases, concurrency in sizes:
                    run = run_once(args.python, work, base_url, control, cases, concurrency)
                    figures[(cases, concurrency)].append(run)
    finally:
        server.terminate()
    print(f"modelup --help          {statistics.median(helps):6.3f} s (target <= 0.3)")
    for (cases, concurrency), runs in figures.items():
        ideal = 2 * cases * delay / concurrency
        med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(
            f"{cases:>5} x 2 at C={concurrency:<3} start {med['start']:6.3f} s  "
            f"tail {med['tail']:6.3f} s  wall {med['wall']:6.2f} s  ideal {ideal:5.2f} s  "
            f"ratio {med['wall'] / ideal:5.2f}  cpu {med['cpu']:5.2f} s",
            flush=True,
        )
    if len(sizes) >= 2:
        (small, small_c), (large, large_c) = sizes[0], sizes[-1]
        cpu_small = statistics.median(run["cpu"] for run in figures[(small, small_c)])
        cpu_large = statistics.median(run["cpu"] for run in figures[(large, large_c)])
        per_call = (cpu_large - cpu_small) / (2 * (large - small))
        print(f"harness CPU per call     {per_call * 1000:6.3f} ms (aim < 0.3)")


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn", force=True)
    main()
