"""Compared with England: does England's value lie inside the area's interval?

Sources: ../shared/DOMAIN.md "Statistical methods" 2, and the legacy Fingertips server
ukhsa-collaboration/fingertips-open: PholioVisualisationWS/Analysis/
SingleOverlappingCIsComparer.cs (one level, ends of the interval count as similar) and
SingleOverlappingCIsForTwoCILevelsComparer.cs (95% and 99.8%: beyond the 99.8%
interval is Best/Worst).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from indicators.analysis.common import (
    Polarity,
    as_polarity,
    format_range,
    format_value,
    frozen_inputs,
    is_number,
    polarity_sign,
)

METHOD_95 = "Confidence interval overlapping the England value (95%)"
METHOD_TWO_LEVELS = "Confidence intervals overlapping the England value (95% and 99.8%)"

BETTER, SIMILAR, WORSE = "Better", "Similar", "Worse"
BEST, WORST = "Best", "Worst"
HIGHER, LOWER = "Higher", "Lower"
NOT_COMPARED = "Not compared"

COLOURS = {
    BEST: "green",
    BETTER: "green",
    SIMILAR: "amber",
    WORSE: "red",
    WORST: "red",
    HIGHER: "blue",  # no polarity: neutral colour
    LOWER: "blue",
    NOT_COMPARED: "grey",
}

PHRASES = {
    BEST: "Better than England beyond the 99.8% interval",
    BETTER: "Better than England",
    SIMILAR: "Similar to England",
    WORSE: "Worse than England",
    WORST: "Worse than England beyond the 99.8% interval",
    HIGHER: "Higher than England",
    LOWER: "Lower than England",
}


@dataclass(frozen=True)
class EnglandComparison:
    method: str
    label: str  # Better, Similar, Worse, Best, Worst, Higher, Lower or Not compared
    colour: str
    inputs: Mapping[str, object]
    reason: str


def compare_with_england(
    value: float | None,
    lower_95: float | None,
    upper_95: float | None,
    england_value: float | None,
    *,
    polarity: str | Polarity,
    lower_998: float | None = None,
    upper_998: float | None = None,
    unit: str = "",
    decimals: int = 1,
) -> EnglandComparison:
    """Similar when England's value lies inside the 95% interval, ends included; else
    Higher or Lower, which polarity turns into Better or Worse. Given the 99.8%
    limits too, England beyond them makes it Best or Worst (words stay Higher/Lower
    without polarity)."""
    polarity = as_polarity(polarity)
    two_levels = lower_998 is not None or upper_998 is not None
    method = METHOD_TWO_LEVELS if two_levels else METHOD_95
    inputs = frozen_inputs(
        value=value, lower_95=lower_95, upper_95=upper_95, england_value=england_value,
        polarity=polarity.value, lower_998=lower_998, upper_998=upper_998,
    )  # fmt: skip

    missing = _missing(
        value, lower_95, upper_95, england_value, two_levels, lower_998, upper_998
    )
    if missing:
        return EnglandComparison(
            method,
            NOT_COMPARED,
            COLOURS[NOT_COMPARED],
            inputs,
            f"Not compared: {missing}",
        )

    current, lower, upper, england = (
        float(n) for n in (value, lower_95, upper_95, england_value) if n is not None
    )
    bounds_998 = [float(n) for n in (lower_998, upper_998) if n is not None]
    higher = current > england
    if lower <= england <= upper:
        label = SIMILAR
    elif two_levels and not bounds_998[0] <= england <= bounds_998[1]:
        label = _through_polarity(higher, polarity, BEST, WORST)
    else:
        label = _through_polarity(higher, polarity, BETTER, WORSE)

    reason = (
        f"{PHRASES[label]}: {format_value(current, unit, decimals)} "
        f"({format_range(lower, upper, decimals)}) "
        f"against England {format_value(england, unit, decimals)}"
    )
    return EnglandComparison(method, label, COLOURS[label], inputs, reason)


def _through_polarity(higher: bool, polarity: Polarity, good: str, bad: str) -> str:
    sign = polarity_sign(polarity)
    if sign == 0:
        return HIGHER if higher else LOWER
    return good if (sign > 0) == higher else bad


def _missing(
    value: float | None,
    lower_95: float | None,
    upper_95: float | None,
    england_value: float | None,
    two_levels: bool,
    lower_998: float | None,
    upper_998: float | None,
) -> str:
    if not is_number(value):
        return "no value"
    if not is_number(england_value):
        return "no England value"
    if not (is_number(lower_95) and is_number(upper_95)):
        return "no 95% confidence interval"
    if two_levels and not (is_number(lower_998) and is_number(upper_998)):
        return "no 99.8% confidence interval"
    return ""
