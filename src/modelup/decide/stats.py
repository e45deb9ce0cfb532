"""Statistics for gating a model upgrade: pure Python, standard library only.

The gate compares a baseline and a candidate model on the *same* frozen eval cases, so every
test here is a paired one. Paired tests use the per-case agreement between the two runs and are
far more sensitive than comparing two independent pass rates, which is what lets a gate decide
on a few hundred cases instead of thousands.

Everything is deterministic: the bootstrap is driven by an explicitly seeded
``random.Random`` so a gate decision can be replayed bit for bit from its report.

No numpy/scipy needed: SciPy is used in the test suite as the reference implementation. The
paired bootstrap is in ``modelup.decide.bootstrap``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

__all__ = [
    "Direction",
    "McNemarResult",
    "cases_to_settle",
    "holm_adjust",
    "mcnemar_exact",
    "pass_at_k",
    "pass_hat_k",
    "wilson_interval",
]

Direction = Literal["regression", "improvement", "none"]

# Up to this many discordant pairs the binomial tail is summed in exact integer arithmetic and
# rounded once, so eval sets of realistic size get correctly rounded p-values (a few ms at
# most). Above it, big-integer work grows roughly quadratically (``math.comb(100_000, 50_000)``
# alone takes ~0.2 s), so a saddle-point evaluation of the probability mass is used instead,
# accurate to ~1e-13 relative.
_EXACT_MAX_N = 5000

# Relative size below which the rest of a binomial tail no longer changes a double.
_TAIL_EPS = 2.0**-60

_LN_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def require_int(name: str, value: int) -> None:
    """Reject floats and bools early: counts that arrive from JSON as 3.0 or True are bugs."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")


def require_confidence(confidence: float) -> None:
    """A confidence level outside (0, 1) has no interval; NaN would silently poison z."""
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _z_two_sided(confidence: float) -> float:
    """Normal quantile for a two-sided interval, via the stdlib rather than a hard-coded 1.96."""
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


# --------------------------------------------------------------------------------------------
# Binomial(n, 1/2) tails
# --------------------------------------------------------------------------------------------


def _stirlerr(n: int) -> float:
    """log(n!) - log(sqrt(2*pi*n) * (n/e)**n), the Stirling-formula error term.

    Part of Loader's saddle-point binomial algorithm (the one behind R's ``dbinom``): it lets
    the mass be computed without subtracting huge, nearly equal log-factorials, which is where
    a naive ``lgamma`` evaluation loses ~10 significant digits at n = 100,000.
    """
    if n <= 15:
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - 0.5 * _LN_2PI
    s0, s1, s2, s3, s4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
    nn = float(n) * n
    if n > 500:
        return (s0 - s1 / nn) / n
    if n > 80:
        return (s0 - (s1 - s2 / nn) / nn) / n
    if n > 35:
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, np_: float) -> float:
    """x*log(x/np) + np - x, evaluated without cancellation when x is close to np (Loader)."""
    if abs(x - np_) < 0.1 * (x + np_):
        v = (x - np_) / (x + np_)
        s = (x - np_) * v
        ej = 2.0 * x * v
        v2 = v * v
        j = 1
        while True:
            ej *= v2
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
            j += 1
    return x * math.log(x / np_) + np_ - x


def _pmf_half(k: int, n: int) -> float:
    """P(X == k) for X ~ Binomial(n, 1/2), accurate to ~1e-14 relative for any n."""
    if k == 0 or k == n:
        return math.ldexp(1.0, -n)
    half = n / 2.0
    lc = _stirlerr(n) - _stirlerr(k) - _stirlerr(n - k) - _bd0(k, half) - _bd0(n - k, half)
    lf = _LN_2PI + math.log(k) + math.log1p(-k / n)
    return math.exp(lc - 0.5 * lf)


def _lower_tail_exact(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), summed over exact integers and rounded once."""
    coeff = 1  # C(n, 0)
    count = 1
    for i in range(1, k + 1):
        coeff = coeff * (n - i + 1) // i  # exact: C(n, i) = C(n, i - 1) * (n - i + 1) / i
        count += coeff
    return count / (1 << n)  # int / int true division is correctly rounded in CPython


def _lower_tail_small(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2) with 0 <= k < n/2.

    Large n: the tail below the mode is dominated by its last term, so it is computed as that
    term times a sum of ratios walking down; the walk stops once the remaining terms (bounded
    by a geometric series, since the ratios shrink) cannot change the result. That needs
    O(sqrt(n)) steps at most, which keeps n = 100,000 in the millisecond range.
    """
    if n <= _EXACT_MAX_N:
        return _lower_tail_exact(k, n)
    head = _pmf_half(k, n)
    total = 1.0
    term = 1.0
    i = k
    while i > 0:
        ratio = i / (n - i + 1)  # P(X = i - 1) / P(X = i), decreasing as i falls
        term *= ratio
        total += term
        if term * ratio < total * _TAIL_EPS * (1.0 - ratio):
            break
        i -= 1
    return head * total


def _binom_half_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2).

    Only the tail below n/2 is ever summed directly; the other side uses symmetry and a
    complement, which is safe because that side's probability is at least 1/2.
    """
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if 2 * k + 1 == n:
        return 0.5  # exactly half the mass by symmetry; keeps |b - c| == 1 at p = 1.0 exactly
    if 2 * k < n:
        return _lower_tail_small(k, n)
    return 1.0 - _lower_tail_small(n - k - 1, n)


def _binom_half_sf_ge(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), via the symmetry X ~ n - X."""
    return _binom_half_cdf(n - k, n)


# --------------------------------------------------------------------------------------------
# McNemar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """Outcome of the exact McNemar test on the discordant pairs of a paired eval run.

    ``direction`` only says which way the discordant pairs lean; whether that lean matters is
    what ``p_value`` (two-sided) and the one-sided p-values are for.
    """

    regressions: int
    """b: cases the baseline passed and the candidate failed."""
    fixes: int
    """c: cases the baseline failed and the candidate passed."""
    discordant: int
    """b + c; concordant pairs carry no information about a difference and are ignored."""
    p_value: float
    """Two-sided exact p-value: min(1, 2 * P(X <= min(b, c))), X ~ Bin(b + c, 1/2)."""
    direction: Direction
    """"regression" if b > c, "improvement" if c > b, "none" if they are equal."""
    p_value_regression: float
    """One-sided P(X >= b): evidence that the candidate regresses."""
    p_value_improvement: float
    """One-sided P(X >= c): evidence that the candidate improves."""


def mcnemar_exact(regressions: int, fixes: int) -> McNemarResult:
    """Exact (binomial) McNemar test for a paired pass/fail comparison.

    Why exact: eval sets are small and discordant counts often single digits, where the
    chi-square approximation is badly calibrated. Under H0 (no difference) each discordant pair
    is equally likely to be a regression or a fix, so the regression count is Bin(b + c, 1/2).
    With no discordant pairs there is no evidence either way and every p-value is 1.
    """
    require_int("regressions", regressions)
    require_int("fixes", fixes)
    if regressions < 0 or fixes < 0:
        raise ValueError(f"counts must be >= 0, got regressions={regressions}, fixes={fixes}")
    n = regressions + fixes
    direction: Direction
    if regressions > fixes:
        direction = "regression"
    elif fixes > regressions:
        direction = "improvement"
    else:
        direction = "none"
    # With no discordant pairs there is nothing to test: p = 1 by convention.
    two_sided = 1.0 if n == 0 else min(1.0, 2.0 * _binom_half_cdf(min(regressions, fixes), n))
    return McNemarResult(
        regressions=regressions,
        fixes=fixes,
        discordant=n,
        p_value=two_sided,
        direction=direction,
        p_value_regression=_binom_half_sf_ge(regressions, n),
        p_value_improvement=_binom_half_sf_ge(fixes, n),
    )


# Multiple comparisons
# --------------------------------------------------------------------------------------------


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order.

    Why: a gate usually tests several slices (per task, per metric) and would otherwise fire on
    noise. Holm controls the family-wise error rate like Bonferroni but is uniformly more
    powerful. The i-th smallest p (1-based) is scaled by (m - i + 1); a running maximum keeps the
    adjusted values monotone in the raw ones, and they are capped at 1. Comparing each adjusted
    value with alpha gives exactly Holm's decisions.
    """
    ps = [float(p) for p in p_values]
    for p in ps:
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"p-values must be in [0, 1], got {p!r}")
    m = len(ps)
    order = sorted(range(m), key=ps.__getitem__)
    adjusted = [0.0] * m
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[idx]))
        adjusted[idx] = running
    return adjusted


# --------------------------------------------------------------------------------------------
# Sample-size estimate
# --------------------------------------------------------------------------------------------


def cases_to_settle(delta: float, low: float, high: float, n: int, threshold: float) -> int | None:
    """Estimate how many cases would make the CI stop straddling ``threshold``.

    This is a rough estimate, not a power analysis: it assumes the observed delta stays put and
    the interval stays symmetric around it with a half-width shrinking like 1/sqrt(n). It gives
    the smallest n' for which [delta - h', delta + h'], h' = (high - low) / 2 * sqrt(n / n'),
    no longer contains ``threshold``, so a report can say "about N more cases would settle it"
    instead of just "inconclusive". A result <= n means the interval already clears the
    threshold at the current size. None means it never settles under this model: delta sits
    exactly on the threshold, or there is no data (n == 0) to extrapolate from.
    """
    require_int("n", n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for name, value in (("delta", delta), ("low", low), ("high", high), ("threshold", threshold)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if high < low:
        raise ValueError(f"high ({high}) must be >= low ({low})")
    if n == 0 or delta == threshold:
        return None
    gap = abs(delta - threshold)
    half = (high - low) / 2.0
    if half == 0.0:
        return 1

    def settles(size: int) -> bool:
        return gap > half * math.sqrt(n / size)

    # Closed form n' > n * (half / gap)^2, then nudged to absorb floating-point rounding.
    estimate = max(1, math.floor(n * (half / gap) ** 2) + 1)
    while estimate > 1 and settles(estimate - 1):
        estimate -= 1
    while not settles(estimate):
        estimate += 1
    return estimate


# --------------------------------------------------------------------------------------------
# Single rates and pass@k
# --------------------------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a single pass rate.

    Why Wilson and not the normal (Wald) interval: pass rates near 0 or 1 are common in evals,
    and there Wald collapses to zero width or leaves [0, 1]. With n == 0 nothing is known, so
    the whole range (0.0, 1.0) is returned rather than raising, which suits a report of an
    empty slice.
    """
    require_int("successes", successes)
    require_int("n", n)
    require_confidence(confidence)
    if n < 0 or not (0 <= successes <= n):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    z = _z_two_sided(confidence)
    z2 = z * z
    p = successes / n
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def _check_pass_k(n: int, c: int, k: int) -> None:
    """Shared validation: c passing samples out of n, k draws without replacement."""
    require_int("n", n)
    require_int("c", c)
    require_int("k", k)
    if not (0 <= c <= n):
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not (1 <= k <= n):
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021, the Codex paper): 1 - C(n - c, k) / C(n, k).

    The probability that at least one of k samples drawn without replacement from n generations,
    c of which pass, passes. Computed as one exact integer ratio, so the result is correctly
    rounded even where the float product form loses digits.
    """
    _check_pass_k(n, c, k)
    total = math.comb(n, k)
    return (total - math.comb(n - c, k)) / total


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k: probability that all k of k draws (without replacement) pass, C(c, k) / C(n, k).

    The consistency counterpart of pass@k: an agent that must succeed every time is judged by
    this, and it falls quickly with k unless the pass rate is near 1.
    """
    _check_pass_k(n, c, k)
    return math.comb(c, k) / math.comb(n, k)
