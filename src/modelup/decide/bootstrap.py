"""The seeded paired percentile bootstrap: a confidence interval on mean(candidate - baseline)
over whole cases, reproducible bit for bit from its seed.

The resamples are drawn with numpy (a dependency) from the very same Mersenne Twister stream as
the pure-Python reference path, so the intervals are bit for bit the same, only many times
faster.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from modelup.decide.stats import require_confidence, require_int

_UNLOADED: Any = object()
_numpy: Any = _UNLOADED
"""numpy, imported by the first bootstrap (not with the module: a run's start never needs it);
None where it cannot be imported (the tests set it to None to run the reference path)."""


def load_numpy() -> Any:
    """numpy (imported once), or None where it is not available."""
    global _numpy
    if _numpy is _UNLOADED:
        try:
            import numpy
            import numpy.random
        except ImportError:  # pragma: no cover - numpy is a dependency
            _numpy = None
        else:
            _numpy = numpy
    return _numpy


# --------------------------------------------------------------------------------------------
# Paired bootstrap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """Percentile bootstrap CI on mean(candidate) - mean(baseline), with what reproduces it."""

    delta: float
    """Observed mean(candidate) - mean(baseline)."""
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int
    n: int
    """Number of paired cases."""


def _percentile_sorted(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default, Hyndman-Fan type 7) of sorted data.

    Matching numpy's definition keeps the interval comparable with ``scipy.stats.bootstrap``.
    """
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    frac = pos - lo
    return values[lo] + (values[hi] - values[lo]) * frac


def paired_bootstrap_ci(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> BootstrapResult:
    """Paired percentile bootstrap CI for the mean score difference (candidate - baseline).

    Why paired: both models ran on the same cases, and case difficulty is shared, so whole
    cases are resampled (the same indices for both runs). That equals bootstrapping the mean of
    the per-case differences d_i = candidate_i - baseline_i, which is what is done here because
    it halves the work and keeps n = 5000 x 2000 resamples around a second in pure Python.

    Reproducibility: draws come from ``random.Random(seed).choices`` (Mersenne Twister and
    ``random()``, identical on every platform) and means are summed with ``math.fsum``, which is
    correctly rounded and so independent of summation-order changes between Python versions.
    """
    n = len(baseline)
    if n != len(candidate):
        raise ValueError(
            f"baseline and candidate must be paired: got {n} and {len(candidate)} scores"
        )
    if n == 0:
        raise ValueError("cannot bootstrap an empty eval set")
    require_confidence(confidence)
    require_int("resamples", resamples)
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    require_int("seed", seed)
    base = [float(x) for x in baseline]
    cand = [float(x) for x in candidate]
    if not all(math.isfinite(x) for x in base) or not all(math.isfinite(x) for x in cand):
        raise ValueError("scores must be finite numbers (no NaN or infinity)")

    diffs = [c - b for b, c in zip(base, cand, strict=True)]
    delta = math.fsum(cand) / n - math.fsum(base) / n
    means = sorted(_resample_means(diffs, resamples, random.Random(seed)))
    alpha = (1.0 - confidence) / 2.0
    return BootstrapResult(
        delta=delta,
        low=_percentile_sorted(means, alpha),
        high=_percentile_sorted(means, 1.0 - alpha),
        confidence=confidence,
        resamples=resamples,
        seed=seed,
        n=n,
    )


def _resample_means(diffs: list[float], resamples: int, rng: random.Random) -> list[float]:
    """The mean of each of ``resamples`` draws of ``len(diffs)`` values with replacement, as
    ``math.fsum(rng.choices(diffs, k=n)) / n`` draws them one resample after another."""
    np = load_numpy()
    if np is None:  # the pure-Python path: the reference, bit for bit the same
        return _resample_means_python(diffs, resamples, rng)
    return _resample_means_numpy(np, diffs, resamples, rng)


def _resample_means_python(diffs: list[float], resamples: int, rng: random.Random) -> list[float]:
    n = len(diffs)
    fsum = math.fsum
    choices = rng.choices
    return [fsum(choices(diffs, k=n)) / n for _ in range(resamples)]


_NUMPY_BLOCK = 1 << 18
"""Draws per numpy call: big enough to amortise the call, small enough to stay a few MB."""
_MAX_CLASSES = 64
"""Up to this many distinct per-case values, a resample is summed from its counts."""


def _resample_means_numpy(
    np: Any, diffs: list[float], resamples: int, rng: random.Random
) -> list[float]:
    n = len(diffs)
    values = np.array(diffs, dtype=np.float64)
    counted = _counted_sums(np, values)
    fsum = math.fsum
    means: list[float] = []
    for drawn in _draws(np, rng, n, resamples):
        if counted is None:
            # Each resample's values, in draw order, through ``math.fsum`` as before.
            means += [fsum(row) / n for row in values[drawn].tolist()]
        else:
            means += [total / n for total in counted(drawn)]
    return means


_MAX_SHARED_DRAWS = 1 << 22
"""Draws kept for the next bootstrap from the same state (at most 32 MB): a run's figures are
bootstrapped with one seed over the same cases, so they draw the very same indices. They are
kept as numpy's own index type: indexing with narrower integers converts them on every use,
which cost a 2,000-case decision 50 ms more than the 24 MB it saved."""
_SHARED: dict[tuple[Any, int, int], tuple[list[Any], Any]] = {}
_SHARED_LOCK = threading.Lock()
"""Held while the kept draws are looked up or drawn: a bootstrap waits for ``prepare_draws``
on another thread rather than drawing the same indices beside it."""


def prepare_draws(n: int, resamples: int, seed: int) -> None:
    """Draw and keep the resample indices a bootstrap of ``n`` cases with this ``seed`` will
    use, ahead of it: a run does it on a thread while its calls are in flight (numpy draws
    outside the GIL), so its statistics do not wait for the draws at the end. Nothing is kept
    where the draws would be too many to keep (or numpy is missing)."""
    np = load_numpy()
    if np is None or n < 1 or resamples < 1 or n * resamples > _MAX_SHARED_DRAWS:
        return
    for _ in _draws(np, random.Random(seed), n, resamples):
        pass


def _draws(np: Any, rng: random.Random, n: int, resamples: int) -> Iterator[Any]:
    """Blocks of resamples, each row the ``n`` indices ``rng.choices(range(n), k=n)`` picks,
    in the order it picks them; ``rng`` is left where ``choices`` would have left it. The same
    state, size and count draw the same blocks, so the last ones drawn (when not too many) are
    kept and handed out again."""
    if n * resamples > _MAX_SHARED_DRAWS:
        yield from _drawn(np, rng, n, resamples)
        return
    key = (rng.getstate(), n, resamples)
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is None:
            blocks = list(_drawn(np, rng, n, resamples))
            _SHARED.clear()
            found = _SHARED[key] = (blocks, rng.getstate())
    blocks, after = found
    rng.setstate(after)
    yield from blocks


def _drawn(np: Any, rng: random.Random, n: int, resamples: int) -> Iterator[Any]:
    """The blocks of draws, made from ``rng``'s state, which is set after the last.

    ``rng.choices`` picks ``floor(random() * n)``, and ``random()`` is MT19937's 53-bit double
    ((a >> 5) * 2**26 + (b >> 6)) / 2**53. numpy's legacy ``RandomState.random_sample``
    computes exactly that double from the same generator, so handed ``rng``'s state it
    continues the very same stream; ``u * n`` is the same IEEE product, and truncating a
    non-negative float is ``floor``."""
    version, internal, gauss = rng.getstate()
    generator = np.random.RandomState()
    generator.set_state(("MT19937", np.array(internal[:-1], dtype=np.uint32), internal[-1]))
    per_block = max(1, _NUMPY_BLOCK // n)
    done = 0
    while done < resamples:
        block = min(per_block, resamples - done)
        yield (generator.random_sample((block, n)) * float(n)).astype(np.intp)
        done += block
    _name, words, position = generator.get_state()[:3]
    rng.setstate((version, (*(int(word) for word in words), int(position)), gauss))


def _counted_sums(np: Any, values: Any) -> Any:
    """When ``values`` has few distinct values (pass flags, a few scores), a function giving,
    for each row of drawn indices, ``math.fsum`` of the drawn values computed from how often
    each distinct value was drawn; else None.

    ``math.fsum`` returns the correctly rounded exact sum, whatever the order, so it is enough to
    compute that exact sum from the counts and round it once: in int64 for integers, as a
    Python integer over a power of two for fractions."""
    n = len(values)
    bits = values.view(np.int64)
    classes, inverse = np.unique(bits, return_inverse=True)
    distinct = classes.view(np.float64)
    if len(distinct) > _MAX_CLASSES or n >= 1 << 26 or np.abs(distinct).max() > 2.0**500:
        return None
    inverse = inverse.reshape(-1)
    width = len(distinct)

    def counts_of(drawn: Any) -> Any:
        """How often each distinct value was drawn: one row of ``width`` counts per resample."""
        rows = drawn.shape[0]
        offsets = (np.arange(rows, dtype=np.intp) * width)[:, None]
        counts = np.bincount((inverse[drawn] + offsets).reshape(-1), minlength=rows * width)
        return counts.reshape(rows, width)

    whole = distinct == np.trunc(distinct)
    if (
        whole.all()
        and np.abs(distinct).max() < 2.0**31
        and not np.signbit(distinct[distinct == 0]).any()
    ):
        # Integers (pass flags and their differences): the exact sum is an integer, which
        # int64 holds (fewer than 2**26 values below 2**31), and turning it into a float
        # rounds it as ``math.fsum`` rounds the exact sum.
        integers = values.astype(np.int64)

        def integer_sums(drawn: Any) -> list[float]:
            return [float(total) for total in integers[drawn].sum(axis=1).tolist()]

        return integer_sums

    # Fractions (quality scores and their differences): each distinct value is exactly p / 2**t,
    # so a resample's exact sum is S / 2**T, T the largest t, with S the integer sum of
    # count * p * 2**(T - t); Python's int / int is correctly rounded, as math.fsum is. A row
    # whose exact sum is zero is summed term by term as before, for fsum's sign of zero.
    ratios = [value.as_integer_ratio() for value in distinct.tolist()]
    shift = max(q.bit_length() - 1 for _, q in ratios)
    numerators = np.array([p << (shift - (q.bit_length() - 1)) for p, q in ratios], dtype=object)
    denominator = 1 << shift
    scaled = distinct * float((1 << 27) + 1)
    high = scaled - (scaled - distinct)
    low = distinct - high
    parts = [
        (float(value), float(hi), float(lo))
        for value, hi, lo in zip(distinct.tolist(), high.tolist(), low.tolist(), strict=True)
    ]
    fsum = math.fsum

    def term_sum(row: list[int]) -> float:
        """``math.fsum`` of the row's drawn values, from their counts: ``count * value`` split
        exactly in two (the value cut, Veltkamp, into halves of at most 26 significant bits,
        each of which times a count below 2**26 is exact); a zero once, with its sign."""
        terms = []
        for count, (value, hi, lo) in zip(row, parts, strict=True):
            if count == 0:
                continue
            if value == 0.0:
                terms.append(value)
                continue
            terms.append(count * hi)
            if lo != 0.0:
                terms.append(count * lo)
        return fsum(terms)

    def sums(drawn: Any) -> list[float]:
        counts = counts_of(drawn)
        exact = (counts.astype(object) @ numerators).tolist()
        return [
            total / denominator if total else term_sum(counts[index].tolist())
            for index, total in enumerate(exact)
        ]

    return sums


# --------------------------------------------------------------------------------------------
