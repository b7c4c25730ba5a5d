"""Compared with England, against the legacy Fingertips server's own tests:
ukhsa-collaboration/fingertips-open PholioVisualisationWS/AnalysisTest/
SingleOverlappingCIsComparatorTest.cs and SingleOverlappingCIsForTwoCILevelsComparerTest.cs
(Fingertips PolarityId 0 is "low is good", 1 "high is good"), and DOMAIN.md."""

import pytest

from indicators.analysis.common import Polarity
from indicators.analysis.comparison import (
    BEST,
    BETTER,
    HIGHER,
    LOWER,
    METHOD_95,
    METHOD_TWO_LEVELS,
    NOT_COMPARED,
    SIMILAR,
    WORSE,
    WORST,
    compare_with_england,
)

HIGH = Polarity.HIGHER_IS_BETTER
LOW = Polarity.LOWER_IS_BETTER
NONE = Polarity.NO_JUDGEMENT


@pytest.mark.parametrize("polarity", [LOW, HIGH])
def test_compare_with_england_same_value_is_similar(polarity):
    # TestSameExactly: 11 (10-12) against 11.
    result = compare_with_england(11, 10, 12, 11, polarity=polarity)

    assert result.label == SIMILAR


def test_compare_with_england_inside_interval_is_similar():
    # TestSame: 3.05 (2.7-3.1) against 3.0.
    assert compare_with_england(3.05, 2.7, 3.1, 3.0, polarity=LOW).label == SIMILAR


@pytest.mark.parametrize(("polarity", "expected"), [(LOW, WORSE), (HIGH, BETTER)])
def test_compare_with_england_higher_through_polarity(polarity, expected):
    # TestHigher: 3.3 (3.2-3.5) against 3.0.
    assert compare_with_england(3.3, 3.2, 3.5, 3.0, polarity=polarity).label == expected


@pytest.mark.parametrize(("polarity", "expected"), [(LOW, BETTER), (HIGH, WORSE)])
def test_compare_with_england_lower_through_polarity(polarity, expected):
    # TestLower: 2.5 (2.2-2.8) against 3.0.
    assert compare_with_england(2.5, 2.2, 2.8, 3.0, polarity=polarity).label == expected


@pytest.mark.parametrize(
    ("value", "lower", "upper", "england"),
    [
        (None, None, None, 3.0),  # TestMinusOneData
        (2.5, 2.2, 2.8, None),  # TestMinusOneParent
        (4.0, None, 4.1, 3.0),  # TestNoCIsOnLocalDataReturnNoneSignificance
        (4.0, 4.0, None, 3.0),
        (4.0, float("nan"), float("nan"), 3.0),
    ],
)
def test_compare_with_england_missing_data_is_not_compared(
    value, lower, upper, england
):
    result = compare_with_england(value, lower, upper, england, polarity=HIGH)

    assert result.label == NOT_COMPARED
    assert result.colour == "grey"


@pytest.mark.parametrize("england", [2.2, 2.8])
def test_compare_with_england_interval_ends_count_as_similar(england):
    # DOMAIN.md: Similar if England lies inside the 95% interval, ends included
    # (IsBetweenConfidenceInverval uses <= and >=).
    assert compare_with_england(2.5, 2.2, 2.8, england, polarity=HIGH).label == SIMILAR


@pytest.mark.parametrize(("england", "expected"), [(3.0, LOWER), (2.0, HIGHER)])
def test_compare_with_england_no_polarity_keeps_higher_lower(england, expected):
    # DOMAIN.md: with no polarity the words stay Higher/Lower, the colour neutral.
    result = compare_with_england(2.5, 2.2, 2.8, england, polarity=NONE)

    assert result.label == expected
    assert result.colour == "blue"


# Two levels: SingleOverlappingCIsForTwoCILevelsComparerTest.GetData():
# LowerCI99_8 2.3, LowerCI95 2.5, Value 2.6, UpperCI95 2.7, UpperCI99_8 2.9.
@pytest.mark.parametrize(
    ("england", "low_is_good", "high_is_good"),
    [
        (3.0, BEST, WORST),  # Test_Benchmark_Value_Higher_Than_Upper_99_8
        (2.8, BETTER, WORSE),  # Test_Benchmark_Value_Between_Upper_CIs
        (2.6, SIMILAR, SIMILAR),  # TestSame
        (2.4, WORSE, BETTER),  # Test_Benchmark_Value_Between_Lower_CIs
        (2.2, WORST, BEST),  # Test_Benchmark_Value_Lower_Than_Upper_99_8
    ],
)
def test_compare_with_england_two_levels_reference_cases(
    england, low_is_good, high_is_good
):
    def compare(polarity):
        return compare_with_england(
            2.6, 2.5, 2.7, england, polarity=polarity, lower_998=2.3, upper_998=2.9
        )

    assert compare(LOW).label == low_is_good
    assert compare(HIGH).label == high_is_good
    assert compare(LOW).method == METHOD_TWO_LEVELS


def test_compare_with_england_reason_in_words():
    # The example wording.
    result = compare_with_england(13.5, 12.1, 15.0, 10.6, polarity=LOW, unit="%")

    assert result.label == WORSE
    assert result.colour == "red"
    assert result.method == METHOD_95
    assert (
        result.reason == "Worse than England: 13.5% (12.1-15.0) against England 10.6%"
    )
    assert dict(result.inputs)["england_value"] == 10.6


def test_compare_with_england_accepts_model_polarity_strings():
    assert compare_with_england(
        3.3, 3.2, 3.5, 3.0, polarity="higher_is_better"
    ).label == (BETTER)


def test_compare_with_england_unknown_polarity_raises():
    with pytest.raises(ValueError, match="Unknown polarity"):
        compare_with_england(3.3, 3.2, 3.5, 3.0, polarity="up")
