"""How long the gate's statistics take at realistic and large sizes; prints figures, asserts
nothing (speed targets are read from here, not checked by unit tests).

Run: .venv/bin/python benchmarks/bench_stats.py
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from modelup.decide.bootstrap import paired_bootstrap_ci
from modelup.decide.stats import mcnemar_exact


def _timed(label: str, work: Callable[[], object], repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<52} {best * 1000:10.1f} ms (best of {repeat})")


def main() -> None:
    rng = random.Random(4)
    for n in (36, 500, 5000):
        base = [float(rng.random() < 0.8) for _ in range(n)]
        cand = [float(rng.random() < 0.78) for _ in range(n)]
        _timed(
            f"paired bootstrap, n={n}, 2000 resamples",
            lambda b=base, c=cand: paired_bootstrap_ci(b, c, resamples=2000),
        )
    for b, c in [(30, 45), (3000, 3300), (49_800, 50_200), (1, 99_999)]:
        _timed(f"McNemar exact, b={b}, c={c}", lambda b=b, c=c: mcnemar_exact(b, c))


if __name__ == "__main__":
    main()
