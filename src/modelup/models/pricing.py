"""Estimated cost: token usage priced per million input and output tokens.

Prices come from configuration (``[prices."model-id"]``); a model without a price has no cost
figure (``None``), never a cost of zero, so the gate cannot mistake "unknown" for "free".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelup.models.chat import Usage

if TYPE_CHECKING:
    from modelup.config.settings import Settings

_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million prompt (input) and completion (output) tokens."""

    input_per_million: float
    output_per_million: float

    def cost_usd(self, usage: Usage) -> float:
        """The estimated cost of one call that used ``usage``."""
        return (
            usage.prompt_tokens * self.input_per_million
            + usage.completion_tokens * self.output_per_million
        ) / _MILLION


def case_cost(price: Price | None, usage: Usage) -> float | None:
    """The cost of one case, ``None`` when the model has no price. An errored call reported no
    usage and counts as zero (its failed attempts may have cost something nobody reported)."""
    return price.cost_usd(usage) if price is not None else None


def configured_price(settings: Settings, model: str) -> Price | None:
    """``model``'s ``[prices."id"]``, or ``None``: no price is no cost figure, never zero."""
    price = settings.prices.get(model)
    return Price(price.input_per_million, price.output_per_million) if price else None
