"""Confidence intervals for proportions, counts and crude rates (OHID/PHE Fingertips).

Sources: ../shared/DOMAIN.md "Statistical methods" 2, and the reference package
ukhsa-collaboration/PHEindicatormethods: R/utils.R (wilson_lower/upper,
byars_lower/upper), R/Proportions.R (phe_proportion), R/Rates.R (phe_rate: Byars for
counts of 10 or more, the exact Poisson interval from chi-square quantiles below 10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scipy.stats import chi2

from indicators.analysis.common import (
    format_number,
    format_range,
    format_value,
    frozen_inputs,
    is_number,
)

WILSON = "Wilson score"
BYARS = "Byars"
EXACT_POISSON = "Exact Poisson"

# DOMAIN.md fixes z for the two levels Fingertips publishes.
Z_BY_LEVEL = {0.95: 1.959964, 0.998: 3.090232}
BYARS_FROM_EVENTS = 10

UNKNOWN_LEVEL = "Confidence level must be 0.95 or 0.998 (got {level})."
NOT_A_NUMBER = "The {name} must be a number (got {value!r})."
NEGATIVE_EVENTS = "The number of events must not be negative (got {events})."
DENOMINATOR_NOT_POSITIVE = (
    "The denominator must be greater than zero (got {denominator})."
)
EVENTS_EXCEED_DENOMINATOR = (
    "A proportion needs events no greater than the denominator "
    "(got {events} of {denominator})."
)


@dataclass(frozen=True)
class Interval:
    method: str
    value: float
    lower: float
    upper: float
    level: float
    inputs: Mapping[str, object]
    reason: str


def wilson_interval(
    events: float,
    denominator: float,
    *,
    level: float = 0.95,
    multiplier: float = 1.0,
    unit: str = "",
    decimals: int = 1,
) -> Interval:
    """A proportion with its Wilson score interval (PHEindicatormethods wilson_lower/upper).

    (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)), times `multiplier`
    (100 for a percentage)."""
    z = _z(level)
    _check_events(events, denominator)
    if events > denominator:
        raise ValueError(
            EVENTS_EXCEED_DENOMINATOR.format(events=events, denominator=denominator)
        )
    spread = z * math.sqrt(z * z + 4 * events * (1 - events / denominator))
    scale = 2 * (denominator + z * z)
    lower = (2 * events + z * z - spread) / scale
    upper = (2 * events + z * z + spread) / scale
    # At 0 of n and n of n the formula gives exactly 0 and 1; floating point can land a
    # hair inside, which would leave the estimate outside its own interval.
    if events == 0:
        lower = 0.0
    if events == denominator:
        upper = 1.0
    return _interval(
        WILSON, events, denominator, lower, upper, level, multiplier, unit, decimals
    )


def rate_interval(
    events: float,
    denominator: float,
    *,
    level: float = 0.95,
    multiplier: float = 100_000,
    unit: str = "",
    decimals: int = 1,
) -> Interval:
    """A crude rate per `multiplier` (PHEindicatormethods phe_rate): Byars' method for
    10 or more events, the exact Poisson interval below 10."""
    _z(level)
    _check_events(events, denominator)
    if events >= BYARS_FROM_EVENTS:
        method = BYARS
        lower, upper = byars_limits(events, level)
    else:
        method = EXACT_POISSON
        lower, upper = exact_poisson_limits(events, level)
    return _interval(
        method,
        events,
        denominator,
        lower / denominator,
        upper / denominator,
        level,
        multiplier,
        unit,
        decimals,
    )


def count_interval(
    events: float, *, level: float = 0.95, decimals: int = 1
) -> Interval:
    """A count with its interval: a rate with denominator 1 and no multiplier."""
    return rate_interval(events, 1, level=level, multiplier=1, decimals=decimals)


def byars_limits(events: float, level: float = 0.95) -> tuple[float, float]:
    """Byars' approximation to the Poisson limits of a count (Breslow and Day 1987).

    lower = x(1 - 1/(9x) - z/(3 sqrt x))^3,
    upper = (x+1)(1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3."""
    z = _z(level)
    x = float(events)
    lower = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3 if x > 0 else 0.0
    above = x + 1
    upper = above * (1 - 1 / (9 * above) + z / (3 * math.sqrt(above))) ** 3
    return lower, upper


def exact_poisson_limits(events: float, level: float = 0.95) -> tuple[float, float]:
    """Exact Poisson limits of a count: chi-square quantiles halved (Armitage and Berry).

    lower = qchisq((1 - level)/2, 2x)/2, upper = qchisq((1 + level)/2, 2x + 2)/2;
    with no events the lower limit is 0 (the chi-square with 0 df sits at 0)."""
    _z(level)
    tail = (1 - level) / 2
    lower = float(chi2.ppf(tail, 2 * events)) / 2 if events > 0 else 0.0
    upper = float(chi2.ppf(1 - tail, 2 * events + 2)) / 2
    return lower, upper


def _z(level: float) -> float:
    try:
        return Z_BY_LEVEL[level]
    except KeyError:
        raise ValueError(UNKNOWN_LEVEL.format(level=level)) from None


def _check_events(events: float, denominator: float) -> None:
    for name, number in (("number of events", events), ("denominator", denominator)):
        if not is_number(number):
            raise ValueError(NOT_A_NUMBER.format(name=name, value=number))
    if events < 0:
        raise ValueError(NEGATIVE_EVENTS.format(events=events))
    if denominator <= 0:
        raise ValueError(DENOMINATOR_NOT_POSITIVE.format(denominator=denominator))


def _interval(
    method: str,
    events: float,
    denominator: float,
    lower: float,
    upper: float,
    level: float,
    multiplier: float,
    unit: str,
    decimals: int,
) -> Interval:
    value = events / denominator * multiplier
    lower, upper = lower * multiplier, upper * multiplier
    count, base = format_number(events, 0), format_number(denominator, 0)
    if method == WILSON:
        source = f"{count} of {base}"
    else:
        source = f"{count} events" + ("" if denominator == 1 else f" in {base}")
        if multiplier != 1:
            source += f", per {format_number(multiplier, 0)}"
    return Interval(
        method=method,
        value=value,
        lower=lower,
        upper=upper,
        level=level,
        inputs=frozen_inputs(
            events=events, denominator=denominator, level=level, multiplier=multiplier
        ),
        reason=(
            f"{format_value(value, unit, decimals)} "
            f"({format_range(lower, upper, decimals)}), "
            f"{format_number(level * 100, 1).removesuffix('.0')}% {method} interval "
            f"from {source}"
        ),
    )
