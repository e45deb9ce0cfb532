"""Known-answer tests for modelup.decide.stats.

SciPy is the reference implementation (it is in the dev extras); textbook values pin the cases
a reader can check by hand.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from modelup.decide.stats import (
    McNemarResult,
    cases_to_settle,
    holm_adjust,
    mcnemar_exact,
    pass_at_k,
    pass_hat_k,
    wilson_interval,
)

# --------------------------------------------------------------------------------------------
# McNemar
# --------------------------------------------------------------------------------------------

MCNEMAR_CASES = [
    (0, 0),
    (0, 5),
    (5, 0),
    (3, 7),
    (7, 3),
    (4, 4),
    (4, 5),
    (25, 40),
    (1000, 1100),
    (3000, 3300),  # largest exact-integer path region
    (2600, 2500),  # just above the exact path: saddle-point evaluation
    (400, 600),
    (49_800, 50_200),
    (50_000, 50_000),
    (50_001, 50_000),
    (10, 99_990),
]


def _binomtest() -> Callable[..., Any]:
    stats = pytest.importorskip("scipy.stats")
    return stats.binomtest  # type: ignore[no-any-return]


def _close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=1e-11, abs_tol=1e-300)


@pytest.mark.parametrize(("b", "c"), MCNEMAR_CASES)
def test_mcnemar_matches_scipy_binomtest(b: int, c: int) -> None:
    binomtest = _binomtest()
    result = mcnemar_exact(b, c)
    n = b + c
    if n == 0:
        expected_two = expected_reg = expected_imp = 1.0
    else:
        expected_two = float(binomtest(b, n, 0.5).pvalue)
        expected_reg = float(binomtest(b, n, 0.5, alternative="greater").pvalue)
        expected_imp = float(binomtest(c, n, 0.5, alternative="greater").pvalue)
    assert _close(result.p_value, expected_two), (result.p_value, expected_two)
    assert _close(result.p_value_regression, expected_reg), (
        result.p_value_regression,
        expected_reg,
    )
    assert _close(result.p_value_improvement, expected_imp), (
        result.p_value_improvement,
        expected_imp,
    )


def test_mcnemar_textbook_value() -> None:
    # b=1, c=9: 2 * (C(10,0) + C(10,1)) / 2**10 = 22 / 1024.
    result = mcnemar_exact(1, 9)
    assert result.p_value == 0.021484375
    assert result.p_value_improvement == 11 / 1024
    assert result.p_value_regression == 1023 / 1024
    assert result.direction == "improvement"


def test_mcnemar_fields_and_direction() -> None:
    assert mcnemar_exact(0, 0) == McNemarResult(
        regressions=0,
        fixes=0,
        discordant=0,
        p_value=1.0,
        direction="none",
        p_value_regression=1.0,
        p_value_improvement=1.0,
    )
    r = mcnemar_exact(5, 0)
    assert (r.regressions, r.fixes, r.discordant, r.direction) == (5, 0, 5, "regression")
    assert r.p_value == 2 / 32
    assert r.p_value_regression == 1 / 32
    assert r.p_value_improvement == 1.0
    assert mcnemar_exact(0, 5).direction == "improvement"
    assert mcnemar_exact(7, 7).direction == "none"


def test_mcnemar_is_symmetric_and_capped() -> None:
    for b, c in [(3, 7), (25, 40), (6000, 6400)]:
        ab, ba = mcnemar_exact(b, c), mcnemar_exact(c, b)
        assert ab.p_value == ba.p_value
        assert ab.p_value_regression == ba.p_value_improvement
    # |b - c| <= 1 is no evidence at all: exactly 1, not 0.9999999999999997.
    for b, c in [(500, 501), (2600, 2601), (50_000, 50_001), (8, 8)]:
        assert mcnemar_exact(b, c).p_value == 1.0
    # One-sided p-values of complementary alternatives sum to 1 + P(X == b) >= 1.
    r = mcnemar_exact(30, 50)
    assert r.p_value_regression + r.p_value_improvement >= 1.0


def test_mcnemar_large_n_gives_probabilities() -> None:
    # Speed is measured by benchmarks/bench_stats.py, not asserted here.
    for b, c in [(49_800, 50_200), (50_000, 50_000), (45_000, 55_000), (1, 99_999)]:
        result = mcnemar_exact(b, c)
        assert 0.0 <= result.p_value <= 1.0


def test_mcnemar_rejects_bad_counts() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)
    with pytest.raises(ValueError):
        mcnemar_exact(3, -1)
    with pytest.raises(TypeError):
        mcnemar_exact(2.0, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mcnemar_exact(True, 3)


# --------------------------------------------------------------------------------------------
# Holm
# --------------------------------------------------------------------------------------------


def _holm_by_definition(ps: list[float]) -> list[float]:
    """Holm adjusted p_i = max over p_j <= p_i (in sorted order) of min(1, (m - rank_j) p_j)."""
    m = len(ps)
    ranked = sorted(range(m), key=lambda i: (ps[i], i))
    out = [0.0] * m
    for pos, idx in enumerate(ranked):
        out[idx] = max(min(1.0, (m - r) * ps[ranked[r]]) for r in range(pos + 1))
    return out


def test_holm_hand_worked_example() -> None:
    # Sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to 0.06 for monotonicity.
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_holm_edge_cases() -> None:
    assert holm_adjust([]) == []
    assert holm_adjust([0.2]) == [0.2]
    assert holm_adjust([0.5, 0.6, 0.9]) == [1.0, 1.0, 1.0]
    assert holm_adjust([0.01, 0.01]) == [0.02, 0.02]
    with pytest.raises(ValueError):
        holm_adjust([0.1, 1.5])
    with pytest.raises(ValueError):
        holm_adjust([math.nan])


def test_holm_matches_definition_on_random_inputs() -> None:
    rng = random.Random(0)
    for _ in range(200):
        m = rng.randint(1, 12)
        ps = [rng.choice([rng.random(), rng.random() ** 4, 0.05]) for _ in range(m)]
        adjusted = holm_adjust(ps)
        assert adjusted == pytest.approx(_holm_by_definition(ps))
        assert all(a >= p for a, p in zip(adjusted, ps, strict=True))
        assert all(a <= 1.0 for a in adjusted)
        order = sorted(range(m), key=ps.__getitem__)
        in_order = [adjusted[i] for i in order]
        assert in_order == sorted(in_order)


# --------------------------------------------------------------------------------------------
# cases_to_settle
# --------------------------------------------------------------------------------------------


def test_cases_to_settle_known_value() -> None:
    # half-width 0.03, gap 0.02: need n' > 200 * (0.03 / 0.02)**2 = 450.
    assert cases_to_settle(0.02, -0.01, 0.05, 200, 0.0) == 451


def test_cases_to_settle_result_actually_settles() -> None:
    delta, low, high, n = 0.013, -0.021, 0.047, 317
    for threshold in (-0.03, -0.01, 0.0, 0.005, 0.03, 0.06):
        needed = cases_to_settle(delta, low, high, n, threshold)
        assert needed is not None
        half = (high - low) / 2
        assert abs(delta - threshold) > half * math.sqrt(n / needed)
        if needed > 1:
            assert abs(delta - threshold) <= half * math.sqrt(n / (needed - 1))


def test_cases_to_settle_monotone() -> None:
    # A threshold closer to delta needs more cases.
    near = [cases_to_settle(0.05, 0.0, 0.1, 200, t) for t in (0.04, 0.03, 0.02, 0.01, 0.0)]
    assert all(x is not None for x in near)
    assert near == sorted(near, reverse=True)  # type: ignore[type-var]
    assert len(set(near)) == len(near)
    # A wider interval at the same n needs more cases.
    widths = [cases_to_settle(0.05, 0.05 - w, 0.05 + w, 200, 0.0) for w in (0.02, 0.06, 0.1)]
    assert widths == sorted(widths)  # type: ignore[type-var]
    # Symmetric around delta.
    assert cases_to_settle(0.0, -0.1, 0.1, 100, 0.05) == cases_to_settle(0.0, -0.1, 0.1, 100, -0.05)


def test_cases_to_settle_already_settled_and_degenerate() -> None:
    settled = cases_to_settle(0.1, 0.05, 0.15, 400, 0.0)
    assert settled is not None and settled <= 400
    assert cases_to_settle(0.1, 0.1, 0.1, 50, 0.0) == 1
    assert cases_to_settle(0.0, -0.1, 0.1, 100, 0.0) is None
    assert cases_to_settle(0.05, 0.0, 0.1, 0, 0.0) is None
    with pytest.raises(ValueError):
        cases_to_settle(0.05, 0.1, 0.0, 100, 0.0)
    with pytest.raises(ValueError):
        cases_to_settle(0.05, 0.0, 0.1, -1, 0.0)
    with pytest.raises(ValueError):
        cases_to_settle(math.nan, 0.0, 0.1, 100, 0.0)


# --------------------------------------------------------------------------------------------
# Wilson, pass@k, pass^k
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # Newcombe (1998), Stat. Med. 17:857-872, Table I, method 3 (Wilson score, no CC).
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_textbook_values(successes: int, n: int, expected: tuple[float, float]) -> None:
    low, high = wilson_interval(successes, n)
    assert (round(low, 4), round(high, 4)) == expected


def test_wilson_properties() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.8 < low < 1.0
    assert wilson_interval(0, 10)[0] == 0.0
    # Higher confidence widens; the interval contains the observed rate.
    lo90, hi90 = wilson_interval(30, 100, confidence=0.90)
    lo99, hi99 = wilson_interval(30, 100, confidence=0.99)
    assert lo99 < lo90 < 0.3 < hi90 < hi99
    for bad in [(-1, 10), (11, 10), (1, -1)]:
        with pytest.raises(ValueError):
            wilson_interval(*bad)
    with pytest.raises(ValueError):
        wilson_interval(3, 10, confidence=1.0)


def test_pass_at_k_hand_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 2) == pytest.approx(1 - 21 / 45)  # 1 - C(7,2)/C(10,2)
    assert pass_at_k(5, 2, 4) == 1.0  # fewer than k failures: some draw must pass
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(200, 1, 100) == pytest.approx(0.5)
    # Matches the numerically stable product form from the Codex paper.
    n, c, k = 200, 37, 10
    product = 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
    assert pass_at_k(n, c, k) == pytest.approx(product, rel=1e-12)


def test_pass_hat_k_hand_values() -> None:
    assert pass_hat_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_hat_k(10, 3, 2) == pytest.approx(3 / 45)  # C(3,2)/C(10,2)
    assert pass_hat_k(10, 3, 4) == 0.0
    assert pass_hat_k(4, 4, 4) == 1.0
    assert pass_hat_k(10, 8, 3) == pytest.approx(56 / 120)  # C(8,3)/C(10,3)
    assert pass_hat_k(10, 3, 2) <= pass_at_k(10, 3, 2)


@pytest.mark.parametrize("fn", [pass_at_k, pass_hat_k])
@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6), (0, 0, 1)])
def test_pass_k_validation(fn: Callable[[int, int, int], float], n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        fn(n, c, k)
