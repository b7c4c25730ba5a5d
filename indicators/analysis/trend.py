"""The Fingertips recent trend marker on the latest 5 annual points.

Sources: ../shared/DOMAIN.md "Statistical methods" 2, and the legacy Fingertips server
ukhsa-collaboration/fingertips-open: PholioVisualisationWS/Analysis/TrendMarkers/
TrendMarkerCalculator.cs (IsSignificant and NoOutliersCheck: weights from the 95%
interval width / 3.92, weighted least squares, chi-square against 9.54953570608324,
the slope's sign on all 5 points and on each leave-one-out set) and TrendRequest.cs
(the latest unbroken run of valid points, at least 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from indicators.analysis.common import (
    Polarity,
    as_float,
    as_polarity,
    check_labels,
    format_number,
    frozen_inputs,
    point_label,
    polarity_sign,
)

METHOD = "Fingertips recent trend (weighted least squares on the latest 5 points)"

POINTS_TO_USE = 5
CHI_SQUARE_THRESHOLD = 9.54953570608324  # chi-square, 1 df, 99.8%
CI_WIDTH_TO_SE = 3.92  # a 95% interval is 2 x 1.96 standard errors wide

INCREASING, DECREASING = "Increasing", "Decreasing"
NO_SIGNIFICANT_CHANGE = "No significant change"
CANNOT_BE_CALCULATED = "Cannot be calculated"


@dataclass(frozen=True)
class RecentTrend:
    method: str
    label: str  # e.g. "Increasing and getting worse", "No significant change"
    direction: str | None  # "increasing" or "decreasing" when significant
    is_significant: bool
    chi_square: float | None
    slope: float | None  # change per period, on the indicator's own scale
    points_used: int
    inputs: Mapping[str, object]
    reason: str


def recent_trend(
    values: Sequence[float | None],
    lower_95: Sequence[float | None],
    upper_95: Sequence[float | None],
    *,
    polarity: str | Polarity = Polarity.NO_JUDGEMENT,
    period_labels: Sequence[str] | None = None,
) -> RecentTrend:
    """The trend marker of an annual, non-overlapping series given oldest first.

    Significant only when chi-square = (b / SE(b))^2 > 9.5495 and the slope has the
    same sign on all 5 points and on each set with one point left out."""
    polarity = as_polarity(polarity)
    if not len(values) == len(lower_95) == len(upper_95):
        raise ValueError("Give one lower and one upper limit for every value.")
    labels = check_labels(period_labels, len(values))
    inputs = frozen_inputs(
        values=tuple(values),
        lower_95=tuple(lower_95),
        upper_95=tuple(upper_95),
        polarity=polarity.value,
        period_labels=labels,
    )

    usable = _latest_valid_run(values, lower_95, upper_95)
    if len(usable) < POINTS_TO_USE:
        return RecentTrend(
            METHOD, CANNOT_BE_CALCULATED, None, False, None, None, len(usable), inputs,
            f"{CANNOT_BE_CALCULATED}: {len(usable)} recent points with confidence "
            f"intervals, at least {POINTS_TO_USE} are needed",
        )  # fmt: skip

    chosen = usable[-POINTS_TO_USE:]
    y = np.array([value for _, value, _ in chosen])
    weights = np.array([1 / se**2 for _, _, se in chosen])
    t = np.arange(1, POINTS_TO_USE + 1, dtype=float)

    slope, chi_square = _weighted_slope(t, y, weights, with_chi_square=True)
    # Fingertips counts a zero slope as positive.
    signs = {slope >= 0}
    for left_out in range(POINTS_TO_USE):
        keep = np.arange(POINTS_TO_USE) != left_out
        signs.add(_weighted_slope(t[keep], y[keep], weights[keep])[0] >= 0)
    consistent = len(signs) == 1
    significant = consistent and chi_square > CHI_SQUARE_THRESHOLD

    span = (
        f"{point_label(chosen[0][0], labels)} to {point_label(chosen[-1][0], labels)}"
    )
    statistic = f"chi-square {format_number(chi_square, 2)}"
    if significant:
        direction = "increasing" if slope > 0 else "decreasing"
        label = _label(direction, polarity)
        reason = (
            f"{label}: {statistic} (above {format_number(CHI_SQUARE_THRESHOLD, 2)}) "
            f"on the 5 points {span}, slope {slope:+.3g} a period"
        )
    else:
        direction, label = None, NO_SIGNIFICANT_CHANGE
        why = (
            ""
            if consistent
            else ", and the slope changes sign when a point is left out"
        )
        reason = f"{label}: {statistic} on the 5 points {span}{why}"
    return RecentTrend(
        METHOD, label, direction, significant, chi_square, slope, POINTS_TO_USE, inputs,
        reason,
    )  # fmt: skip


def _latest_valid_run(
    values: Sequence[float | None],
    lower_95: Sequence[float | None],
    upper_95: Sequence[float | None],
) -> list[tuple[int, float, float]]:
    """(index, value, standard error), oldest first, of the unbroken run of valid
    points that ends at the latest. A valid point has a value and a 95% interval of
    positive width, from which SE = width / 3.92."""
    run = []
    for i in range(len(values) - 1, -1, -1):
        value, lower, upper = (
            as_float(n) for n in (values[i], lower_95[i], upper_95[i])
        )
        if value is None or lower is None or upper is None or upper <= lower:
            break
        run.append((i, value, (upper - lower) / CI_WIDTH_TO_SE))
    return run[::-1]


def _weighted_slope(
    t: np.ndarray, y: np.ndarray, w: np.ndarray, *, with_chi_square: bool = False
) -> tuple[float, float]:
    """b = (S1 S2 - S3 S4) / (S1 S5 - S3^2), SE(b) = sqrt(S1 / (S1 S5 - S3^2))."""
    s1, s2, s3 = w.sum(), (w * y * t).sum(), (w * t).sum()
    s4, s5 = (w * y).sum(), (w * t * t).sum()
    determinant = s1 * s5 - s3 * s3
    slope = float((s1 * s2 - s3 * s4) / determinant)
    if not with_chi_square:
        return slope, float("nan")
    standard_error = float(np.sqrt(s1 / determinant))
    return slope, (slope / standard_error) ** 2


def _label(direction: str, polarity: Polarity) -> str:
    word = INCREASING if direction == "increasing" else DECREASING
    sign = polarity_sign(polarity)
    if sign == 0:
        return word
    better = (sign > 0) == (direction == "increasing")
    return f"{word} and getting {'better' if better else 'worse'}"
