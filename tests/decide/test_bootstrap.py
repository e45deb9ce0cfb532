"""Known-answer tests for the seeded paired bootstrap (modelup.decide.bootstrap); SciPy is the
reference implementation."""

from __future__ import annotations

import inspect
import math
import random
import threading
from typing import Any

import pytest

from modelup.decide import bootstrap
from modelup.decide.bootstrap import BootstrapResult, paired_bootstrap_ci

# --------------------------------------------------------------------------------------------
# Paired bootstrap
# --------------------------------------------------------------------------------------------


def _paired_scores(n: int, seed: int) -> tuple[list[float], list[float]]:
    """Pass/fail-like scores where the candidate is correlated with the baseline."""
    rng = random.Random(seed)
    base: list[float] = []
    cand: list[float] = []
    for _ in range(n):
        b = 1.0 if rng.random() < 0.70 else 0.0
        u = rng.random()
        if u < 0.80:
            c = b
        elif u < 0.93:
            c = 1.0
        else:
            c = rng.random()  # a partial-credit score
        base.append(b)
        cand.append(c)
    return base, cand


def test_bootstrap_reproducible_with_same_seed() -> None:
    base, cand = _paired_scores(300, seed=1)
    a = paired_bootstrap_ci(base, cand, seed=42)
    b = paired_bootstrap_ci(base, cand, seed=42)
    assert a == b
    other = paired_bootstrap_ci(base, cand, seed=43)
    assert (other.low, other.high) != (a.low, a.high)
    assert other.delta == a.delta


def test_bootstrap_pinned_values() -> None:
    """Pins the resampling scheme: the same seed must give the same CI on every platform.

    If this fails after an intentional change to the algorithm, old gate reports can no longer
    be replayed; update the pinned numbers only deliberately.
    """
    base = [0.91, 0.12, 0.55, 0.73, 0.08, 0.66, 0.31, 0.98, 0.47, 0.02, 0.84, 0.39]
    cand = [0.95, 0.40, 0.52, 0.61, 0.77, 0.70, 0.88, 0.99, 0.45, 0.50, 0.86, 0.33]
    result = paired_bootstrap_ci(base, cand, resamples=500, seed=7)
    assert result.delta == pytest.approx(0.15833333333333333, abs=1e-15)
    assert result.low == pytest.approx(0.020312500000000035, abs=1e-12)
    assert result.high == pytest.approx(0.31441666666666646, abs=1e-12)
    other = paired_bootstrap_ci(base, cand, resamples=500, seed=8)
    assert other.low == pytest.approx(0.019437500000000055, abs=1e-12)
    assert other.high == pytest.approx(0.2971874999999999, abs=1e-12)


@pytest.mark.parametrize(
    ("n", "distinct", "resamples"),
    [(1, 1, 50), (2, 3, 300), (12, 100, 500), (300, 3, 2000), (1000, 6, 700), (3001, 400, 40)],
)
def test_numpy_resampling_is_the_pure_python_resampling_bit_for_bit(
    n: int, distinct: int, resamples: int
) -> None:
    """With numpy the resample means (and the generator's state after them) are exactly those
    of ``fsum(rng.choices(diffs, k=n)) / n``: both counted sums (few distinct values, signed
    zeros and subnormals among them) and value-by-value sums."""
    np = pytest.importorskip("numpy")
    rng = random.Random(n * 31 + distinct)
    pool = [rng.uniform(-1.0, 1.0) for _ in range(distinct)] + [-0.0, 0.0, 5e-324, 1 / 3, -1.0]
    diffs = [rng.choice(pool[: max(distinct, 1)] if distinct < 4 else pool) for _ in range(n)]
    python, fast = random.Random(9), random.Random(9)
    expected = bootstrap._resample_means_python(diffs, resamples, python)
    assert bootstrap._resample_means_numpy(np, diffs, resamples, fast) == expected
    assert fast.getstate() == python.getstate()
    assert fast.random() == python.random()


@pytest.mark.parametrize(
    "pool",
    [
        [-1.0, 0.0, 1.0],
        [0.0, 1.0],
        [1.0],
        [-3.0, 2.0**30, 7.0],
        [-1.0, -0.0, 1.0],
        [0.5, 1.0],
        [-0.5, 0.5, -0.0],
        [-0.0, 1 / 3, -1 / 3, 0.1, 5e-324, 2.0**-600],
        [1e150, -1e150, 1e-150, 0.3],
    ],
    ids=[
        "flags",
        "passes",
        "one",
        "large",
        "negative-zero",
        "halves",
        "cancelling",
        "thirds-subnormal",
        "far-apart",
    ],
)
def test_counted_sums_are_the_pure_python_sums(pool: list[float]) -> None:
    """Pass flags and their differences are summed as integers, fractions as an integer over a
    power of two: still bit for bit, resamples whose values cancel exactly (a sum of zero,
    summed term by term for its sign) and values far apart in size included."""
    np = pytest.importorskip("numpy")
    rng = random.Random(len(pool))
    diffs = [rng.choice(pool) for _ in range(997)]
    python, fast = random.Random(3), random.Random(3)
    expected = bootstrap._resample_means_python(diffs, 400, python)
    assert bootstrap._resample_means_numpy(np, diffs, 400, fast) == expected
    assert fast.getstate() == python.getstate()


def test_bootstrap_without_numpy_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    base, cand = _paired_scores(200, seed=4)
    with_numpy = paired_bootstrap_ci(base, cand, resamples=300, seed=5)
    monkeypatch.setattr(bootstrap, "_numpy", None)  # as if numpy were not installed
    assert paired_bootstrap_ci(base, cand, resamples=300, seed=5) == with_numpy


def test_bootstrap_fields_and_contains_delta() -> None:
    base, cand = _paired_scores(400, seed=2)
    result = paired_bootstrap_ci(base, cand, confidence=0.9, resamples=1000, seed=3)
    assert isinstance(result, BootstrapResult)
    assert (result.n, result.confidence, result.resamples, result.seed) == (400, 0.9, 1000, 3)
    assert result.delta == pytest.approx(sum(cand) / 400 - sum(base) / 400)
    assert result.low <= result.delta <= result.high
    assert result.low < result.high


def test_bootstrap_narrows_with_more_cases() -> None:
    small = paired_bootstrap_ci(*_paired_scores(100, seed=5), seed=0)
    large = paired_bootstrap_ci(*_paired_scores(1600, seed=5), seed=0)
    small_width = small.high - small.low
    large_width = large.high - large.low
    assert large_width < small_width
    # 16x the cases should roughly quarter the width.
    assert 0.15 < large_width / small_width < 0.4


def test_bootstrap_higher_confidence_is_wider() -> None:
    base, cand = _paired_scores(300, seed=8)
    narrow = paired_bootstrap_ci(base, cand, confidence=0.8, seed=1)
    wide = paired_bootstrap_ci(base, cand, confidence=0.99, seed=1)
    assert wide.low < narrow.low and narrow.high < wide.high


def test_bootstrap_identical_runs_give_zero_interval() -> None:
    scores = [0.0, 1.0, 0.5, 1.0]
    result = paired_bootstrap_ci(scores, scores, resamples=50)
    assert (result.delta, result.low, result.high) == (0.0, 0.0, 0.0)


def test_bootstrap_matches_scipy_percentile() -> None:
    np = pytest.importorskip("numpy")
    stats = pytest.importorskip("scipy.stats")
    base, cand = _paired_scores(400, seed=11)

    def mean_diff(b: Any, c: Any, axis: int) -> Any:
        return np.mean(c, axis=axis) - np.mean(b, axis=axis)

    params = inspect.signature(stats.bootstrap).parameters
    rng_kw = "rng" if "rng" in params else "random_state"
    ref = stats.bootstrap(
        (np.array(base), np.array(cand)),
        mean_diff,
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=5000,
        confidence_level=0.95,
        **{rng_kw: np.random.default_rng(0)},
    )
    ours = paired_bootstrap_ci(base, cand, resamples=5000, seed=0)
    assert ours.low == pytest.approx(float(ref.confidence_interval.low), abs=0.02)
    assert ours.high == pytest.approx(float(ref.confidence_interval.high), abs=0.02)


@pytest.mark.parametrize(
    ("baseline", "candidate", "kwargs"),
    [
        ([1.0, 0.0], [1.0], {}),
        ([], [], {}),
        ([1.0], [0.0], {"confidence": 0.0}),
        ([1.0], [0.0], {"confidence": 1.0}),
        ([1.0], [0.0], {"confidence": math.nan}),
        ([1.0], [0.0], {"resamples": 0}),
        ([1.0, math.nan], [0.0, 1.0], {}),
        ([1.0, 0.0], [0.0, math.inf], {}),
    ],
)
def test_bootstrap_rejects_bad_input(
    baseline: list[float], candidate: list[float], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        paired_bootstrap_ci(baseline, candidate, **kwargs)


def test_bootstraps_from_one_state_share_their_draws_and_stay_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run's figures are bootstrapped from one seed over the same cases: the later ones reuse
    the first one's draws, and every figure is still the pure-Python reference's."""
    np = pytest.importorskip("numpy")
    monkeypatch.setattr(bootstrap, "_SHARED", {})
    rng = random.Random(0)
    flags = [float(rng.random() < 0.3) - float(rng.random() < 0.3) for _ in range(700)]
    scores = [rng.uniform(-1.0, 1.0) for _ in range(700)]
    kept: list[object] = []
    for diffs in (flags, scores, flags):
        python, fast = random.Random(11), random.Random(11)
        expected = bootstrap._resample_means_python(diffs, 900, python)
        assert bootstrap._resample_means_numpy(np, diffs, 900, fast) == expected
        assert fast.getstate() == python.getstate()
        ((key, (blocks, _after)),) = bootstrap._SHARED.items()
        assert key[1:] == (700, 900) and blocks[0].dtype == np.intp
        kept.append(blocks)
    assert kept[0] is kept[1] is kept[2]  # drawn once, handed out again
    bootstrap._resample_means_numpy(np, flags, 900, random.Random(12))  # another state
    ((_key, (blocks, _after)),) = bootstrap._SHARED.items()
    assert blocks is not kept[0]


def test_draws_too_large_to_keep_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    np = pytest.importorskip("numpy")
    monkeypatch.setattr(bootstrap, "_SHARED", {})
    monkeypatch.setattr(bootstrap, "_MAX_SHARED_DRAWS", 1000)
    diffs = [0.0, 1.0] * 300
    python, fast = random.Random(2), random.Random(2)
    expected = bootstrap._resample_means_python(diffs, 50, python)
    assert bootstrap._resample_means_numpy(np, diffs, 50, fast) == expected
    assert bootstrap._SHARED == {}


def test_draws_prepared_ahead_on_a_thread_are_the_ones_a_bootstrap_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run draws its resamples while its calls are in flight; the bootstrap at the end
    finds them (or waits for them), and its interval is the pure-Python reference's."""
    np = pytest.importorskip("numpy")
    monkeypatch.setattr(bootstrap, "_SHARED", {})
    base = [float(i % 3 == 0) for i in range(500)]
    cand = [float(i % 4 != 0) for i in range(500)]
    ahead = threading.Thread(target=bootstrap.prepare_draws, args=(500, 800, 5))
    ahead.start()
    fast = paired_bootstrap_ci(base, cand, resamples=800, seed=5)  # may wait for the thread
    ahead.join()
    ((key, (blocks, _after)),) = bootstrap._SHARED.items()
    assert key[1:] == (500, 800)

    def no_more_draws(*args: object) -> None:
        raise AssertionError("drew again")

    monkeypatch.setattr(np.random, "RandomState", no_more_draws)
    again = paired_bootstrap_ci(base, cand, resamples=800, seed=5)
    monkeypatch.setattr(bootstrap, "_numpy", None)  # the pure-Python reference
    assert again == fast == paired_bootstrap_ci(base, cand, resamples=800, seed=5)
    assert bootstrap._SHARED[key][0] is blocks


def test_draws_too_many_to_keep_are_not_prepared(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy")
    monkeypatch.setattr(bootstrap, "_SHARED", {})
    monkeypatch.setattr(bootstrap, "_MAX_SHARED_DRAWS", 1000)
    bootstrap.prepare_draws(100, 11, 0)
    assert bootstrap._SHARED == {}
    bootstrap.prepare_draws(100, 10, 0)
    assert len(bootstrap._SHARED) == 1
