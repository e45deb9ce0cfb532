"""Estimated cost from a price per million tokens."""

from __future__ import annotations

import pytest

from modelup.models.chat import Usage
from modelup.models.pricing import Price, case_cost


def test_cost_is_tokens_times_price_per_million() -> None:
    price = Price(input_per_million=2.5, output_per_million=10.0)
    assert price.cost_usd(Usage(1_000_000, 0)) == pytest.approx(2.5)
    assert price.cost_usd(Usage(2_000, 500)) == pytest.approx(0.005 + 0.005)


def test_a_model_without_a_price_has_no_cost_not_a_free_one() -> None:
    assert case_cost(None, Usage(100, 100)) is None
    assert case_cost(Price(1, 1), Usage()) == 0.0
