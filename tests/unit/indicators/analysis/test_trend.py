"""The Fingertips recent trend marker, against Fingertips' own tests (cited per case)
and DOMAIN.md."""

import pytest

from indicators.analysis.common import Polarity
from indicators.analysis.trend import (
    CANNOT_BE_CALCULATED,
    NO_SIGNIFICANT_CHANGE,
    recent_trend,
)

YEARS = ["2014", "2015", "2016", "2017", "2018"]

# ukhsa-collaboration/fingertips-open PholioVisualisationWS/AnalysisTest/
# TrendMarkerCalculatorTest.cs, GetTrendData_Set1 (oldest first); also DOMAIN.md's
# example: chi-square 46.77, increasing.
SET1 = (
    [24.67, 24.6, 28, 30.2, 30.6],
    [23.16, 23.15, 26.44, 28.63, 28.98],
    [26.25, 26.19, 29.64, 31.9, 32.25],
)

# Same file, GetTrendData_Set2: TestIsSignificantReturnsFalse.
SET2 = (
    [20.5506, 19.5952, 19.0349, 21.3966, 18.4372],
    [18.1803, 17.3444, 16.8421, 19.0918, 16.2925],
    [23.1427, 22.0602, 21.4394, 23.8975, 20.7941],
)

# dhsc-govuk/FingertipsNext TrendMarkerCalculatorTests.cs,
# DiabeticEyeDiseaseTrendMarkersAreCorrect (crude rate, 2020-2024): "Increasing".
SIGHT_LOSS = (
    [2.935, 1.93028, 2.7567, 2.8701, 3.0121],
    [2.7841, 1.8085, 2.6113, 2.7225, 2.8616],
    [3.0919, 2.058, 2.9082, 3.0237, 3.1683],
)


def test_recent_trend_reference_set1_is_increasing():
    result = recent_trend(*SET1, period_labels=YEARS)

    assert result.is_significant
    assert round(result.chi_square, 2) == 46.77  # Math.Round(ChiSquare, 2) == 46.77
    assert result.label == "Increasing"
    assert result.direction == "increasing"
    assert result.points_used == 5


@pytest.mark.parametrize(
    ("polarity", "label"),
    [
        (Polarity.HIGHER_IS_BETTER, "Increasing and getting better"),
        (Polarity.LOWER_IS_BETTER, "Increasing and getting worse"),
    ],
)
def test_recent_trend_words_follow_polarity(polarity, label):
    # DOMAIN.md: "Increasing" / "Decreasing" with polarity "... and getting better/worse".
    assert recent_trend(*SET1, polarity=polarity).label == label


def test_recent_trend_reference_set2_is_not_significant():
    result = recent_trend(*SET2)

    assert not result.is_significant
    assert result.label == NO_SIGNIFICANT_CHANGE


def test_recent_trend_reference_fingertips_next_sight_loss_is_increasing():
    assert recent_trend(*SIGHT_LOSS).label == "Increasing"


def test_recent_trend_decreasing_is_the_mirror_of_increasing():
    # By hand: time reversed, Set1's slope changes sign and its chi-square is the same.
    values, lower, upper = (list(reversed(series)) for series in SET1)

    result = recent_trend(values, lower, upper, polarity=Polarity.LOWER_IS_BETTER)

    assert result.label == "Decreasing and getting better"
    assert round(result.chi_square, 2) == 46.77


def test_recent_trend_uses_the_latest_five_points():
    # Fingertips GetMostRecentData: the 5 most recent; an older point is ignored.
    values, lower, upper = SET1

    result = recent_trend([99, *values], [98, *lower], [100, *upper])

    assert round(result.chi_square, 2) == 46.77


def test_recent_trend_leave_one_out_sign_change_is_not_significant():
    # By hand from DOMAIN.md's formulas: y = 1, 0, 0, 0, 10 with SE 0.1 everywhere
    # (interval width 0.392) gives b = 1.8, SE(b) = sqrt(0.001), chi-square 3240;
    # without the last point the slope is negative, so no significant change.
    values = [1, 0, 0, 0, 10]

    result = recent_trend(
        values, [v - 0.196 for v in values], [v + 0.196 for v in values]
    )

    assert result.chi_square == pytest.approx(3240)
    assert result.slope == pytest.approx(1.8)
    assert result.label == NO_SIGNIFICANT_CHANGE
    assert not result.is_significant


def test_recent_trend_fewer_than_5_points_cannot_be_calculated():
    # Fingertips TrendRequest.IsValid: "Not enough data points" below 5;
    # WhenUsingTrendMarkerCalculator ..._For_InsufficientTrendData (4 points).
    values, lower, upper = (series[1:] for series in SET1)

    result = recent_trend(values, lower, upper)

    assert result.label == CANNOT_BE_CALCULATED
    assert result.chi_square is None
    assert result.reason == (
        "Cannot be calculated: 4 recent points with confidence intervals, "
        "at least 5 are needed"
    )


def test_recent_trend_gap_breaks_the_run_of_valid_points():
    # Fingertips TrendRequest.GetValidDataList: the unbroken run back from the latest.
    values, lower, upper = SET1
    lower = [*lower[:2], None, *lower[3:]]

    assert recent_trend([10, *values], [9, *lower], [11, *upper]).label == (
        CANNOT_BE_CALCULATED
    )


def test_recent_trend_zero_width_intervals_cannot_be_calculated():
    # Fingertips TestIsSignificantForProportionsCannotBeCalculated: intervals 0-0.
    values = [100, 60, 20, 25, 50]

    result = recent_trend(values, [0] * 5, [0] * 5)

    assert result.label == CANNOT_BE_CALCULATED
    assert not result.is_significant


def test_recent_trend_reason_in_words():
    result = recent_trend(*SET1, polarity=Polarity.LOWER_IS_BETTER, period_labels=YEARS)

    assert result.reason.startswith(
        "Increasing and getting worse: chi-square 46.77 (above 9.55) on the 5 points "
        "2014 to 2018"
    )


def test_recent_trend_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="one lower and one upper"):
        recent_trend([1, 2, 3, 4, 5], [0, 1, 2, 3], [2, 3, 4, 5, 6])
