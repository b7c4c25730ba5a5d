"""Small pieces every method shares: polarity, number formatting, input checks.

Pure: imports nothing from Django. The polarity values match
`indicators.models.Indicator.Polarity`, so a model's field can be passed as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NO_JUDGEMENT = "no_judgement"


POLARITY_WORDS = {
    Polarity.HIGHER_IS_BETTER: "higher is better",
    Polarity.LOWER_IS_BETTER: "lower is better",
    Polarity.NO_JUDGEMENT: "no judgement of better or worse",
}

UNKNOWN_POLARITY = "Unknown polarity {polarity!r}: use one of {choices}."


def as_polarity(polarity: str | Polarity) -> Polarity:
    try:
        return Polarity(polarity)
    except ValueError:
        choices = ", ".join(p.value for p in Polarity)
        raise ValueError(
            UNKNOWN_POLARITY.format(polarity=polarity, choices=choices)
        ) from None


def polarity_sign(polarity: str | Polarity) -> int:
    """+1 when higher is better, -1 when lower is better, 0 with no judgement.

    The same number is the SPC improvement direction (Making Data Count)."""
    return {
        Polarity.HIGHER_IS_BETTER: 1,
        Polarity.LOWER_IS_BETTER: -1,
        Polarity.NO_JUDGEMENT: 0,
    }[as_polarity(polarity)]


def polarity_words(polarity: str | Polarity) -> str:
    return POLARITY_WORDS[as_polarity(polarity)]


def is_number(value: object) -> bool:
    """True for a finite int or float (None, NaN and infinities are missing data)."""
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def as_float(value: object) -> float | None:
    """The value as a float, or None when it is missing (None, NaN, not a number)."""
    return float(value) if is_number(value) else None  # type: ignore[arg-type]


def format_number(value: float, decimals: int = 1) -> str:
    """Fixed decimals with thousands separators: 12211.434 -> "12,211.4"."""
    return f"{value:,.{decimals}f}"


def format_value(value: float, unit: str = "", decimals: int = 1) -> str:
    return f"{format_number(value, decimals)}{unit}"


def format_range(lower: float, upper: float, decimals: int = 1) -> str:
    """ "12.1-15.0"; "-0.7 to 4.6" when a minus sign would make a dash ambiguous."""
    joint = " to " if min(lower, upper) < 0 else "-"
    return f"{format_number(lower, decimals)}{joint}{format_number(upper, decimals)}"


def point_label(index: int, labels: Sequence[str] | None) -> str:
    """A period label for the reason texts; "point 4" (1-based) without labels."""
    if labels is not None:
        return str(labels[index])
    return f"point {index + 1}"


def check_labels(labels: Sequence[str] | None, length: int) -> tuple[str, ...] | None:
    if labels is None:
        return None
    if len(labels) != length:
        raise ValueError(
            f"Got {len(labels)} period labels for {length} values: "
            "give one label per value."
        )
    return tuple(str(label) for label in labels)


def frozen_inputs(**inputs: object) -> Mapping[str, object]:
    """The inputs a result was computed from, read-only (dict(result.inputs) copies)."""
    return MappingProxyType(dict(inputs))
