"""Target RAG and direction of travel, worked by hand from DOMAIN.md's rules: a target
gives Red/Amber/Green only through polarity and an amber tolerance in % of the target;
targets are absolute, a change in % from a baseline, or relative to England."""

import pytest

from indicators.analysis.common import Polarity
from indicators.analysis.rag import (
    AMBER,
    DECREASED,
    DETERIORATED,
    GREEN,
    IMPROVED,
    INCREASED,
    NO_CHANGE,
    NOT_RATED,
    RED,
    TargetKind,
    direction_of_travel,
    rag_rating,
    resolve_target,
)

HIGH = Polarity.HIGHER_IS_BETTER
LOW = Polarity.LOWER_IS_BETTER
NONE = Polarity.NO_JUDGEMENT


def test_rag_rating_reason_in_words():
    # The example: 82.2% against 85.8%, higher is better, is Red (it misses
    # by 3.6, more than a 2% tolerance of 1.716).
    result = rag_rating(
        82.2, polarity=HIGH, target_value=85.8, amber_tolerance=2, unit="%"
    )

    assert result.rating == RED
    assert result.reason == "Red: 82.2% against a target of 85.8%, higher is better"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (90, GREEN),  # beyond the target in the better direction
        (80, GREEN),  # on the target counts as met
        (76, AMBER),  # 4 short, within 5% of 80 (4.0)
        (75.9, RED),  # 4.1 short
    ],
)
def test_rag_rating_higher_is_better(value, expected):
    assert rag_rating(value, polarity=HIGH, target_value=80).rating == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(70, GREEN), (80, GREEN), (84, AMBER), (84.1, RED)],
)
def test_rag_rating_lower_is_better(value, expected):
    assert rag_rating(value, polarity=LOW, target_value=80).rating == expected


def test_rag_rating_amber_reason_names_the_tolerance():
    result = rag_rating(84, polarity=LOW, target_value=80)

    assert result.reason == (
        "Amber: 84.0 against a target of 80.0, within the 5% tolerance, lower is better"
    )


def test_rag_rating_change_from_baseline():
    # "5% reduction in emergency admissions" from a baseline of 1,100: target 1,045.
    result = rag_rating(
        1020,
        polarity=LOW,
        target_kind=TargetKind.CHANGE_FROM_BASELINE,
        target_value=-5,
        baseline_value=1100,
        decimals=0,
    )

    assert result.target == pytest.approx(1045)
    assert result.rating == GREEN
    assert result.reason == (
        "Green: 1,020 against a target of 1,045 (5% reduction from 1,100), "
        "lower is better"
    )


def test_rag_rating_relative_to_england():
    # "Return to national average": England 9.7; 9.9 misses by 0.2, within 5% (0.485).
    result = rag_rating(
        9.9,
        polarity=LOW,
        target_kind="relative_to_england",
        target_value=None,
        england_value=9.7,
    )

    assert result.target == pytest.approx(9.7)
    assert result.rating == AMBER
    assert "(the England value)" in result.reason


def test_resolve_target_relative_to_england_with_offset():
    assert resolve_target(
        TargetKind.RELATIVE_TO_ENGLAND, target_value=10, england_value=50
    ) == pytest.approx(55)


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"polarity": NONE, "target_value": 80}, "no polarity"),
        ({"polarity": HIGH, "target_value": None}, "target is incomplete"),
        (
            {
                "polarity": HIGH,
                "target_kind": "relative_to_england",
                "target_value": None,
                "england_value": None,
            },
            "target is incomplete",
        ),
    ],
)
def test_rag_rating_not_rated_without_polarity_or_target(kwargs, why):
    result = rag_rating(82, **kwargs)

    assert result.rating == NOT_RATED
    assert why in result.reason


def test_rag_rating_without_a_value_is_not_rated():
    assert rag_rating(None, polarity=HIGH, target_value=80).rating == NOT_RATED


@pytest.mark.parametrize(
    ("latest", "previous", "polarity", "expected"),
    [
        (84.0, 82.2, HIGH, IMPROVED),
        (80.0, 82.2, HIGH, DETERIORATED),
        (80.0, 82.2, LOW, IMPROVED),
        (84.0, 82.2, LOW, DETERIORATED),
        (82.2, 82.2, HIGH, NO_CHANGE),
        (84.0, 82.2, NONE, INCREASED),
        (80.0, 82.2, NONE, DECREASED),
    ],
)
def test_direction_of_travel_through_polarity(latest, previous, polarity, expected):
    assert direction_of_travel(latest, previous, polarity=polarity).label == expected


def test_direction_of_travel_reason_in_words():
    result = direction_of_travel(
        84.0,
        82.2,
        polarity=HIGH,
        latest_label="Aug-17",
        previous_label="Jul-17",
        unit="%",
    )

    assert result.reason == (
        "Improved: 84.0% in Aug-17 from 82.2% in Jul-17, higher is better"
    )
    assert result.change == pytest.approx(1.8)


def test_direction_of_travel_needs_two_values():
    assert direction_of_travel(84.0, None, polarity=HIGH).label == NOT_RATED
