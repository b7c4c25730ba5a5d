"""The rules of a Making Data Count chart: point types, run rules and assurance.

Source: nhs-r-community/NHSRplotthedots R/ptd_calculate_point_type.R
(ptd_seven_point_one_side_mean, ptd_seven_point_trend, ptd_two_in_three and their
`part_of` companions, ptd_point_type), R/ptd_calculate_assurance_type.R, and
../shared/DOMAIN.md "Statistical methods" 1. Each run rule returns, per point, whether
it flags the point; `spc.spc` applies the priority order. Callers pass one rebase group
at a time, so no run ever crosses a rebase.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

RUN_LENGTH = 7

COMMON_CAUSE = "common_cause"
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
NEUTRAL_HIGH = "special_cause_neutral_high"
NEUTRAL_LOW = "special_cause_neutral_low"
NOT_ENOUGH_DATA = "not_enough_data"

OUTSIDE_LIMITS = "outside_limits"
TREND = "trend"
TWO_IN_THREE = "two_in_three"
SHIFT = "shift"
RULES_IN_PRIORITY_ORDER = (OUTSIDE_LIMITS, TREND, TWO_IN_THREE, SHIFT)

CONSISTENTLY_PASSES = "consistently_passes"
CONSISTENTLY_FAILS = "consistently_fails"
HIT_AND_MISS = "hit_and_miss"

# The one vocabulary every page, pack, reason and API word comes from, so a status
# reads the same wherever it is shown.
POINT_TYPE_WORDS = {
    COMMON_CAUSE: "Common cause variation",
    IMPROVEMENT: "Special cause improvement",
    CONCERN: "Special cause concern",
    NEUTRAL_HIGH: "Special cause, high (no judgement)",
    NEUTRAL_LOW: "Special cause, low (no judgement)",
    NOT_ENOUGH_DATA: "Not enough data",
}
ASSURANCE_WORDS = {
    CONSISTENTLY_PASSES: "Consistently passes the target",
    CONSISTENTLY_FAILS: "Consistently fails the target",
    HIT_AND_MISS: "Hit and miss against the target",
}


def shift_points(sides: Sequence[int], run_length: int = RUN_LENGTH) -> list[bool]:
    """Points in a run of `run_length` or more on the same side of the mean.

    `sides` holds +1 (above), -1 (below) or 0 (exactly on the mean, which breaks a
    run). Every point of the run is flagged."""
    flags = [False] * len(sides)
    start = 0
    for end in range(1, len(sides) + 1):
        if end < len(sides) and sides[end] == sides[start]:
            continue
        if sides[start] != 0 and end - start >= run_length:
            flags[start:end] = [True] * (end - start)
        start = end
    return flags


def trend_points(values: Sequence[float], run_length: int = RUN_LENGTH) -> list[int]:
    """+1 for points in an increasing trend, -1 in a decreasing one, else 0.

    A trend is `run_length` points each strictly higher (lower) than the one before;
    a tie breaks it. All its points are flagged. A point that ends one trend and
    starts the next takes the later trend's direction, as the reference package does.
    """
    directions = [0] * len(values)
    steps = [_sign(float(b) - float(a)) for a, b in pairwise(values)]
    start = 0  # steps[start:end] is a run of equal steps
    for end in range(1, len(steps) + 1):
        if end < len(steps) and steps[end] == steps[start]:
            continue
        if steps[start] != 0 and end - start >= run_length - 1:
            # steps i..end-1 join points i..end
            for point in range(start, end + 1):
                directions[point] = steps[start]
        start = end
    return directions


def two_in_three_points(
    beyond_two_sigma: Sequence[bool], sides: Sequence[int]
) -> list[bool]:
    """Points beyond a 2-sigma line that belong to 3 consecutive points, all on the
    same side of the mean, of which at least 2 are beyond the 2-sigma line.

    Only the points beyond the line are flagged, never the third one."""
    size = len(sides)
    flags = [False] * size
    for start in range(size - 2):
        window = range(start, start + 3)
        same_side = sides[start] != 0 and all(sides[i] == sides[start] for i in window)
        if same_side and sum(bool(beyond_two_sigma[i]) for i in window) >= 2:
            for i in window:
                flags[i] = flags[i] or bool(beyond_two_sigma[i])
    return flags


def _sign(number: float) -> int:
    return int(number > 0) - int(number < 0)


def assurance_type(
    lower_limit: float, upper_limit: float, target: float, improvement_direction: int
) -> str | None:
    """Will the process meet the target? (NHSRplotthedots ptd_calculate_assurance_type)

    A target on a limit counts as hit and miss. None with a neutral direction."""
    if improvement_direction == 0:
        return None
    if target > upper_limit:
        return CONSISTENTLY_FAILS if improvement_direction > 0 else CONSISTENTLY_PASSES
    if target < lower_limit:
        return CONSISTENTLY_PASSES if improvement_direction > 0 else CONSISTENTLY_FAILS
    return HIT_AND_MISS


def point_type_for(side: int, improvement_direction: int) -> str:
    """A signal's side (+1 high: above or increasing; -1 low) through the direction."""
    if side == 0:
        return COMMON_CAUSE
    if improvement_direction == 0:
        return NEUTRAL_HIGH if side > 0 else NEUTRAL_LOW
    return IMPROVEMENT if side * improvement_direction > 0 else CONCERN
