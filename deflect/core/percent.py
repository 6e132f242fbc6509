"""The one percentage of the reporting contract and the publication: exact, half up."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def pct_half_up(numerator: int, denominator: int) -> float | None:
    """100 × numerator / denominator rounded half up to one decimal (exact, in Decimal);
    None when the denominator is 0."""
    if denominator == 0:
        return None
    value = (Decimal(100) * Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)
