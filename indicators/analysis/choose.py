"""Which method a series gets: SPC, the public health methods, or neither.

Source: ../shared/DOMAIN.md "Statistical methods" 4 (SPC needs frequent, comparable
points, monthly or quarterly, at least 10; the public health methods suit annual
indicators with counts and confidence intervals; with too little data say
"insufficient data", never guess) and 2 (the recent trend needs at least 5 annual,
non-overlapping points). Period types are those of `indicators.periods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from indicators.analysis.common import frozen_inputs
from indicators.analysis.spc import MINIMUM_POINTS
from indicators.analysis.trend import POINTS_TO_USE

SPC = "spc"
PUBLIC_HEALTH = "public_health"
INSUFFICIENT_DATA = "insufficient_data"

FREQUENT_PERIODS = {"month": "monthly", "quarter": "quarterly"}
ANNUAL_PERIODS = {
    "financial_year": "financial-year",
    "calendar_year": "calendar-year",
    "multi_year": "pooled multi-year",  # overlapping when rolling: no recent trend
}


@dataclass(frozen=True)
class MethodChoice:
    method: str  # "spc", "public_health" or "insufficient_data"
    recent_trend_possible: bool
    inputs: Mapping[str, object]
    reason: str


def choose_method(
    period_type: str, point_count: int, *, has_intervals: bool = False
) -> MethodChoice:
    """`point_count` counts the series' points with a value; `has_intervals` says the
    latest point has a 95% interval or the counts to compute one."""
    if period_type not in FREQUENT_PERIODS | ANNUAL_PERIODS:
        known = ", ".join([*FREQUENT_PERIODS, *ANNUAL_PERIODS])
        raise ValueError(f"Unknown period type {period_type!r}: use one of {known}.")
    inputs = frozen_inputs(
        period_type=period_type, point_count=point_count, has_intervals=has_intervals
    )
    frequency = {**FREQUENT_PERIODS, **ANNUAL_PERIODS}[period_type]
    points = f"{point_count} {frequency} point{'s' if point_count != 1 else ''}"
    trend_possible = (
        period_type in ("financial_year", "calendar_year")
        and has_intervals
        and point_count >= POINTS_TO_USE
    )

    if period_type in FREQUENT_PERIODS and point_count >= MINIMUM_POINTS:
        return MethodChoice(
            SPC, False, inputs, f"SPC: {points}, at least {MINIMUM_POINTS} are needed"
        )
    if has_intervals and point_count >= 1:
        why = "annual" if period_type in ANNUAL_PERIODS else "too few points for SPC"
        trend = (
            "; recent trend on the latest 5"
            if trend_possible
            else "; no recent trend (needs 5 annual, non-overlapping points)"
        )
        return MethodChoice(
            PUBLIC_HEALTH,
            trend_possible,
            inputs,
            f"Public health methods: {points} with confidence intervals ({why}){trend}",
        )
    needs = (
        f"SPC needs at least {MINIMUM_POINTS}"
        if period_type in FREQUENT_PERIODS
        else "annual series need confidence intervals or counts"
    )
    return MethodChoice(
        INSUFFICIENT_DATA, False, inputs, f"Insufficient data: {points}; {needs}"
    )
