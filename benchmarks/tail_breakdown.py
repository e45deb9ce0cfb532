"""Where a run's tail goes: ``modelup run`` as a process against the loopback endpoint (50 ms,
2 models, no cache), with the end of the run's steps timed, from the last answer leaving the
server to the process exit.

The command runs as its console script does (``modelup._cli.main.main``), in a child process
that wraps the tail's steps with timers first: the models' summaries (``measure``), the gate's
decision, the report's head, closing the event loop, the report written, the sample failures,
the history, the terminal tables, and the exit. Each round prints, per step, when it started and
how long it took, in seconds after the last answer; the last line gives each step's median.

Usage: .venv/bin/python benchmarks/tail_breakdown.py [--cases 2000] [--concurrency 64]
           [--rounds 3] [--delay-ms 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixed_cost import write_config
from loopback import start_server, write_dataset

STEPS = (
    ("measure", "modelup.decide.evidence", "measure"),
    ("decide", "modelup.decide.decision", "decide_run"),
    ("report head", "modelup.report.build", "build_report"),
    ("loop closed", "asyncio.runners", "Runner.close"),
    ("report written", "modelup.report.stream", "SpooledReport.write"),
    ("failures", "modelup.report.stream", "SpooledReport.failures"),
    ("history", "modelup.store.history", "record_run"),
    ("terminal", "modelup.report.render.terminal", "print_results"),
)

CHILD = """
import importlib, json, sys, time
marks = []

def timed(module, attribute, name):
    owner = importlib.import_module(module)
    *path, last = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    function = getattr(owner, last)

    def wrapper(*args, **kwargs):
        started = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            marks.append((name, started, time.time()))

    setattr(owner, last, wrapper)

for name, module, attribute in json.loads(sys.argv.pop(1)):
    timed(module, attribute, name)
import modelup._cli.main as cli
leave = cli.leave

def leaving(code):
    sys.stderr.write("MARKS " + json.dumps([*marks, ["exit", time.time(), time.time()]]) + "\\n")
    leave(code)

cli.leave = leaving
cli.main()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    server, base_url, control = start_server(args.delay_ms / 1000, track=True)
    steps = json.dumps([list(step) for step in STEPS])
    durations: dict[str, list[float]] = {}
    tails: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="modelup-tail-") as tmp:
            work = Path(tmp)
            dataset = work / "dataset.jsonl"
            write_dataset(dataset, args.cases)
            path = write_config(work / "modelup.toml", work, base_url, dataset, args.concurrency)
            for _ in range(args.rounds):
                control.send("reset")
                control.recv()
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, steps, "run", "--config", str(path)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                ended = time.time()
                control.send("stats")
                _first, last, calls = control.recv()
                lines = [line for line in done.stderr.splitlines() if line.startswith("MARKS ")]
                if done.returncode not in (0, 3, 4) or not lines or calls != 2 * args.cases:
                    raise SystemExit(f"the run failed ({done.returncode}):\n{done.stderr[-2000:]}")
                marks = json.loads(lines[-1].removeprefix("MARKS "))
                marks[-1][2] = ended  # the exit ends when the process has ended
                cells = []
                for name, started, finished in marks:
                    durations.setdefault(name, []).append(finished - started)
                    cells.append(f"{name} +{started - last:.3f} {finished - started:.3f}")
                tails.append(ended - last)
                print(f"tail {ended - last:.3f} s: " + "; ".join(cells), flush=True)
    finally:
        server.terminate()
    medians = "; ".join(f"{name} {statistics.median(d):.3f}" for name, d in durations.items())
    print(f"median tail {statistics.median(tails):.3f} s, steps (s): {medians}")


if __name__ == "__main__":
    main()
