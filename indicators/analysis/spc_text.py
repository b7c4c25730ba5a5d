"""The one-line reasons of an SPC result, in the scorecard's words.

"Special cause concern: 7 consecutive points below the mean since Mar-17";
"Consistently fails the target: target 95.0% is above the upper process limit 93.2,
higher is better".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from indicators.analysis.common import (
    format_number,
    format_range,
    format_value,
    point_label,
)
from indicators.analysis.spc_rules import (
    ASSURANCE_WORDS,
    OUTSIDE_LIMITS,
    POINT_TYPE_WORDS,
    SHIFT,
    TREND,
    TWO_IN_THREE,
    assurance_type,
)

if TYPE_CHECKING:
    from indicators.analysis.spc import SpcGroup, SpcPoint, XmrLimits

HEADINGS = POINT_TYPE_WORDS


def assurance_with_reason(
    limits: XmrLimits, target: float | None, direction: int, unit: str, decimals: int
) -> tuple[str | None, str | None]:
    """The assurance icon from the latest group's limits, and why; (None, None) with
    no target."""
    if target is None:
        return None, None
    if direction == 0:
        return None, "No assurance: the indicator has no improvement direction"
    if not np.isfinite(limits.mr_bar):
        return None, "No assurance: the latest group has too few points for limits"
    assurance = assurance_type(
        limits.lower_limit, limits.upper_limit, target, direction
    )
    better = "higher is better" if direction > 0 else "lower is better"
    target_text = f"target {format_value(target, unit, decimals)}"
    upper = format_number(limits.upper_limit, decimals)
    lower = format_number(limits.lower_limit, decimals)
    if target > limits.upper_limit:
        where = f"above the upper process limit {upper}"
    elif target < limits.lower_limit:
        where = f"below the lower process limit {lower}"
    else:
        where = "within the process limits " + format_range(
            limits.lower_limit, limits.upper_limit, decimals
        )
    heading = ASSURANCE_WORDS[assurance]
    return assurance, f"{heading}: {target_text} is {where}, {better}"


def variation_reason(
    y: np.ndarray,
    labels: tuple[str, ...] | None,
    points: list[SpcPoint],
    latest: SpcGroup,
    unit: str,
    decimals: int,
) -> str:
    """Why the last point has its type: the rule that fired and since when."""
    last = points[-1]
    lim = latest.limits
    heading = HEADINGS[last.point_type]
    up = last.side == "high"
    if not np.isfinite(lim.mr_bar):
        detail = (
            f"{last.label} ({format_value(last.value, unit, decimals)}) starts a new "
            "group, whose limits need a second point"
        )
    elif last.rule is None:
        detail = (
            f"{last.label} ({format_value(last.value, unit, decimals)}) inside the "
            f"process limits {format_range(lim.lower_limit, lim.upper_limit, decimals)}"
            ", no special cause pattern"
        )
    elif last.rule == OUTSIDE_LIMITS:
        limit = lim.upper_limit if up else lim.lower_limit
        detail = (
            f"{last.label} ({format_value(last.value, unit, decimals)}) "
            f"{'above the upper' if up else 'below the lower'} process limit "
            f"{format_number(limit, decimals)}"
        )
    elif last.rule == TWO_IN_THREE:
        line = lim.upper_two_sigma if up else lim.lower_two_sigma
        recent = y[-3:]
        beyond = int(np.sum(recent > line) if up else np.sum(recent < line))
        detail = (
            f"{beyond} of the last 3 points beyond the "
            f"{'upper' if up else 'lower'} 2-sigma line {format_number(line, decimals)}"
            f", latest {last.label}"
        )
    else:
        start = _run_start(y, points, latest.start, last.rule)
        movement = {
            TREND: "increasing" if up else "decreasing",
            SHIFT: "above the mean" if up else "below the mean",
        }[last.rule]
        count = len(points) - start
        detail = (
            f"{count} consecutive points {movement} since {point_label(start, labels)}"
        )
    if latest.is_trial and np.isfinite(lim.mr_bar):
        detail += f" (trial limits from {lim.points_used} points)"
    return f"{heading}: {detail}"


def _run_start(
    y: np.ndarray, points: list[SpcPoint], group_start: int, rule: str
) -> int:
    """First index of the run (trend or shift) that the last point belongs to."""
    last = len(points) - 1
    start = last
    if rule == TREND:
        step = np.sign(y[last] - y[last - 1])
        while start > group_start and np.sign(y[start] - y[start - 1]) == step:
            start -= 1
    else:
        side = np.sign(y[last] - points[last].mean)
        while start > group_start and np.sign(y[start - 1] - points[last].mean) == side:
            start -= 1
    return start
