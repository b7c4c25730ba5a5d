"""Method choice, from DOMAIN.md "Statistical methods" 4: SPC needs frequent comparable
points (monthly or quarterly, at least 10); the public health methods suit annual
indicators with confidence intervals; otherwise "insufficient data"."""

import pytest

from indicators.analysis.choose import (
    INSUFFICIENT_DATA,
    PUBLIC_HEALTH,
    SPC,
    choose_method,
)


@pytest.mark.parametrize("period_type", ["month", "quarter"])
def test_choose_method_frequent_series_with_10_points_is_spc(period_type):
    choice = choose_method(period_type, 10)

    assert choice.method == SPC
    assert not choice.recent_trend_possible


def test_choose_method_spc_reason_in_words():
    assert choose_method("month", 24).reason == (
        "SPC: 24 monthly points, at least 10 are needed"
    )


def test_choose_method_frequent_series_below_10_points_is_insufficient():
    choice = choose_method("month", 9)

    assert choice.method == INSUFFICIENT_DATA
    assert choice.reason == "Insufficient data: 9 monthly points; SPC needs at least 10"


def test_choose_method_short_frequent_series_with_intervals_uses_public_health():
    # DOMAIN.md: below about 10 points the simpler methods apply.
    assert choose_method("quarter", 6, has_intervals=True).method == PUBLIC_HEALTH


@pytest.mark.parametrize("period_type", ["financial_year", "calendar_year"])
def test_choose_method_annual_series_with_intervals_is_public_health(period_type):
    choice = choose_method(period_type, 5, has_intervals=True)

    assert choice.method == PUBLIC_HEALTH
    assert choice.recent_trend_possible


def test_choose_method_annual_series_with_4_points_has_no_recent_trend():
    # DOMAIN.md: the recent trend needs at least 5 annual points.
    choice = choose_method("financial_year", 4, has_intervals=True)

    assert choice.method == PUBLIC_HEALTH
    assert not choice.recent_trend_possible


def test_choose_method_pooled_years_have_no_recent_trend():
    # DOMAIN.md: the trend needs non-overlapping points; rolling 3-year figures overlap.
    choice = choose_method("multi_year", 8, has_intervals=True)

    assert choice.method == PUBLIC_HEALTH
    assert not choice.recent_trend_possible


def test_choose_method_annual_series_without_intervals_is_insufficient():
    # Annual points are never SPC, however many there are.
    assert choose_method("calendar_year", 12).method == INSUFFICIENT_DATA


def test_choose_method_no_points_is_insufficient():
    assert choose_method("financial_year", 0, has_intervals=True).method == (
        INSUFFICIENT_DATA
    )


def test_choose_method_unknown_period_type_raises():
    with pytest.raises(ValueError, match="Unknown period type"):
        choose_method("week", 30)
