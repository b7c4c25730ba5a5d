"""Making Data Count XmR charts (NHS England), as implemented by NHSRplotthedots.

Sources: ../shared/DOMAIN.md "Statistical methods" 1, and the reference package
nhs-r-community/NHSRplotthedots: R/ptd_spc_standard.R (mean, moving ranges, screening,
limits, fixing), R/ptd_calculate_point_type.R (rules, priority, improvement/concern),
R/ptd_calculate_assurance_type.R (assurance), R/ptd_add_short_group_warnings.R (short
groups). Where the package and DOMAIN.md differ, DOMAIN.md wins:

- two-in-three counts every point beyond a 2-sigma line, including points outside the
  process limits ("near or beyond 2 sigma"; NHS England changed its tools to this in
  2023, NHSRplotthedots issue #194). The package still counts only points between the
  2-sigma line and the limit.
- trial limits below 13 points in a group (the package warns below 12).
- a point that ends one trend and starts the next takes the later trend's direction, as
  in the package; but where a tie follows an increasing trend the package can call its
  last point "decreasing" (it reads the tie's side), and here it stays increasing.
- a group whose moving ranges are all 0 keeps mR-bar 0: screening needs a spread to
  screen against (the package gives NaN limits there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators.analysis.common import check_labels, frozen_inputs, point_label
from indicators.analysis.spc_rules import (
    COMMON_CAUSE,
    CONCERN,
    CONSISTENTLY_FAILS,
    CONSISTENTLY_PASSES,
    HIT_AND_MISS,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    NOT_ENOUGH_DATA,
    OUTSIDE_LIMITS,
    RULES_IN_PRIORITY_ORDER,
    SHIFT,
    TREND,
    TWO_IN_THREE,
    assurance_type,
    point_type_for,
    shift_points,
    trend_points,
    two_in_three_points,
)
from indicators.analysis.spc_text import assurance_with_reason, variation_reason

# Re-exported: callers compare results with these names.
__all__ = [
    "COMMON_CAUSE", "CONCERN", "CONSISTENTLY_FAILS", "CONSISTENTLY_PASSES",
    "HIT_AND_MISS", "IMPROVEMENT", "NEUTRAL_HIGH", "NEUTRAL_LOW", "NOT_ENOUGH_DATA",
    "OUTSIDE_LIMITS", "SHIFT", "TREND", "TWO_IN_THREE", "SpcGroup", "SpcPoint",
    "SpcResult", "XmrLimits", "assurance_type", "point_type_for", "spc", "xmr_limits",
]  # fmt: skip

METHOD = "Making Data Count XmR chart (NHSRplotthedots rules)"

PROCESS_LIMIT_FACTOR = 2.66
TWO_SIGMA_FACTOR = 2 * PROCESS_LIMIT_FACTOR / 3  # 1.7733...; R's `limitclose`
SCREENING_FACTOR = 3.267
MINIMUM_POINTS = 10
TRIAL_LIMITS_BELOW = 13


@dataclass(frozen=True)
class XmrLimits:
    """Centre line and limits of one group of points (one rebase group)."""

    mean: float
    mr_bar: float
    lower_limit: float
    upper_limit: float
    lower_two_sigma: float
    upper_two_sigma: float
    points_used: int
    moving_ranges_screened: int


@dataclass(frozen=True)
class SpcGroup:
    start: int  # index of the group's first point
    end: int  # one past its last point
    limits: XmrLimits
    is_trial: bool


@dataclass(frozen=True)
class SpcPoint:
    index: int
    label: str
    value: float
    group: int
    mean: float
    lower_limit: float
    upper_limit: float
    lower_two_sigma: float
    upper_two_sigma: float
    point_type: str
    rule: str | None  # the highest-priority rule that flagged the point
    side: str | None  # "high" or "low" for a special cause
    is_trial: bool


@dataclass(frozen=True)
class SpcResult:
    method: str
    inputs: Mapping[str, object]
    enough_data: bool
    points: tuple[SpcPoint, ...]
    groups: tuple[SpcGroup, ...]
    variation: str  # the point type of the last point, or "not_enough_data"
    variation_icon: str | None  # e.g. "concern_low", as the Making Data Count icons
    assurance: str | None
    assurance_reason: str | None
    reason: str

    def to_frame(self) -> pd.DataFrame:
        """One row per point, for charts: value, mean, limits, 2-sigma lines, type."""
        columns = [
            "label", "value", "group", "mean", "lower_limit", "upper_limit",
            "lower_two_sigma", "upper_two_sigma", "point_type", "rule", "is_trial",
        ]  # fmt: skip
        rows = [
            {name: getattr(point, name) for name in columns} for point in self.points
        ]
        return pd.DataFrame(rows, columns=columns)


def xmr_limits(values: Sequence[float], *, screen_outliers: bool = True) -> XmrLimits:
    """Mean, mR-bar and limits of a run of points (NHSRplotthedots ptd_spc_standard).

    Moving ranges >= 3.267 x mR-bar are screened out and mR-bar recomputed when
    `screen_outliers` (the package default; the NHS England Excel tool does not screen).
    """
    y = np.asarray(values, dtype=float)
    if y.size < 2:
        raise ValueError("XmR limits need at least 2 points.")
    moving_ranges = np.abs(np.diff(y))
    mr_bar = float(moving_ranges.mean())
    screened = 0
    if screen_outliers:
        kept = moving_ranges[moving_ranges < SCREENING_FACTOR * mr_bar]
        if kept.size:  # empty only when every moving range is 0
            screened = moving_ranges.size - kept.size
            mr_bar = float(kept.mean())
    # A flat run has no spread: its mean is its value exactly. NumPy's mean of twelve 0.1s
    # is one unit in the last place off 0.1, which would put every point "outside" limits
    # that sit on the mean (the batch engine does the same).
    mean = float(y[0]) if not moving_ranges.any() else float(y.mean())
    return XmrLimits(
        mean=mean,
        mr_bar=mr_bar,
        lower_limit=mean - PROCESS_LIMIT_FACTOR * mr_bar,
        upper_limit=mean + PROCESS_LIMIT_FACTOR * mr_bar,
        lower_two_sigma=mean - TWO_SIGMA_FACTOR * mr_bar,
        upper_two_sigma=mean + TWO_SIGMA_FACTOR * mr_bar,
        points_used=int(y.size),
        moving_ranges_screened=screened,
    )


def spc(
    values: Sequence[float],
    *,
    improvement_direction: int = 0,
    period_labels: Sequence[str] | None = None,
    target: float | None = None,
    rebase_at: Sequence[int] = (),
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
    unit: str = "",
    decimals: int = 1,
) -> SpcResult:
    """An XmR chart of a series in time order, with every rule of DOMAIN.md section 1.

    `improvement_direction` is +1 (increase is better), -1 or 0 (neutral); see
    `common.polarity_sign`. `rebase_at` holds the index of each point that starts a
    new group: limits and every rule are computed afresh from there. With
    `fix_after_n_points` each group's limits come from its first n points only.
    Below 10 points no chart is drawn and the result says "not enough data".
    """
    labels = check_labels(period_labels, len(values))
    y = _checked_values(values, labels)
    if improvement_direction not in (-1, 0, 1):
        raise ValueError("improvement_direction must be +1, -1 or 0.")
    if fix_after_n_points is not None and fix_after_n_points < 2:
        raise ValueError("Limits can be fixed from 2 points or more.")
    inputs = frozen_inputs(
        values=tuple(float(v) for v in y),
        period_labels=labels,
        improvement_direction=improvement_direction,
        target=target,
        rebase_at=tuple(sorted(set(rebase_at))),
        fix_after_n_points=fix_after_n_points,
        screen_outliers=screen_outliers,
    )
    if y.size < MINIMUM_POINTS:
        return SpcResult(
            method=METHOD, inputs=inputs, enough_data=False, points=(), groups=(),
            variation=NOT_ENOUGH_DATA, variation_icon=None, assurance=None,
            assurance_reason=None,
            reason=f"Not enough data for SPC: {y.size} points, at least "
            f"{MINIMUM_POINTS} are needed",
        )  # fmt: skip

    groups = tuple(
        _group(y, start, end, fix_after_n_points, screen_outliers)
        for start, end in _group_bounds(y.size, rebase_at)
    )
    points: list[SpcPoint] = []
    for number, group in enumerate(groups):
        points.extend(_group_points(y, labels, number, group, improvement_direction))

    last, latest = points[-1], groups[-1]
    assurance, assurance_reason = assurance_with_reason(
        latest.limits, target, improvement_direction, unit, decimals
    )
    return SpcResult(
        method=METHOD,
        inputs=inputs,
        enough_data=True,
        points=tuple(points),
        groups=groups,
        variation=last.point_type,
        variation_icon=_icon(last),
        assurance=assurance,
        assurance_reason=assurance_reason,
        reason=variation_reason(y, labels, points, latest, unit, decimals),
    )


def _checked_values(
    values: Sequence[float], labels: Sequence[str] | None
) -> np.ndarray:
    y = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    missing = np.flatnonzero(~np.isfinite(y))
    if missing.size:
        where = point_label(int(missing[0]), labels)
        raise ValueError(f"SPC needs a value for every point; {where} has none.")
    return y


def _group_bounds(size: int, rebase_at: Sequence[int]) -> list[tuple[int, int]]:
    starts = sorted({0, *rebase_at})
    if starts[-1] >= size or starts[0] < 0:
        raise ValueError(f"Rebase points must index the series (0 to {size - 1}).")
    return list(zip(starts, [*starts[1:], size], strict=True))


def _group(
    y: np.ndarray, start: int, end: int, fix_after: int | None, screen: bool
) -> SpcGroup:
    base = y[start:end] if fix_after is None else y[start : min(end, start + fix_after)]
    if base.size < 2:  # a rebase on the latest point: no spread to measure yet
        nan = float("nan")
        limits = XmrLimits(float(base.mean()), nan, nan, nan, nan, nan, 1, 0)
    else:
        limits = xmr_limits(base, screen_outliers=screen)
    return SpcGroup(start, end, limits, is_trial=base.size < TRIAL_LIMITS_BELOW)


def _group_points(
    y: np.ndarray,
    labels: tuple[str, ...] | None,
    number: int,
    group: SpcGroup,
    direction: int,
) -> list[SpcPoint]:
    values = y[group.start : group.end]
    lim = group.limits
    outside = (values > lim.upper_limit) | (values < lim.lower_limit)
    beyond_two_sigma = (values > lim.upper_two_sigma) | (values < lim.lower_two_sigma)
    sides = [int(s) for s in np.sign(values - lim.mean)]
    signals = {
        OUTSIDE_LIMITS: [bool(o) for o in outside],
        TREND: trend_points(values),
        TWO_IN_THREE: two_in_three_points(beyond_two_sigma, sides),
        SHIFT: shift_points(sides),
    }
    points = []
    for offset, value in enumerate(values):
        rule = next((r for r in RULES_IN_PRIORITY_ORDER if signals[r][offset]), None)
        side = 0 if rule is None else sides[offset]
        if rule == TREND:  # an increasing trend is a high-side signal
            side = signals[TREND][offset]
        index = group.start + offset
        points.append(
            SpcPoint(
                index=index,
                label=point_label(index, labels),
                value=float(value),
                group=number,
                mean=lim.mean,
                lower_limit=lim.lower_limit,
                upper_limit=lim.upper_limit,
                lower_two_sigma=lim.lower_two_sigma,
                upper_two_sigma=lim.upper_two_sigma,
                point_type=point_type_for(side, direction),
                rule=rule,
                side={1: "high", -1: "low"}.get(side),
                is_trial=group.is_trial,
            )
        )
    return points


def _icon(point: SpcPoint) -> str:
    if point.side is None:
        return COMMON_CAUSE
    kind = point.point_type.removeprefix("special_cause_").split("_")[0]
    return f"{kind}_{point.side}"
