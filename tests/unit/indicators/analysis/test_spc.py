"""Making Data Count XmR charts, against DOMAIN.md's worked examples and the reference
package nhs-r-community/NHSRplotthedots (its tests and snapshots, cited per case).

Expected numbers come from those sources, or are worked by hand from DOMAIN.md's rules
where a comment says so; none is taken from this code's own output."""

import pytest

from indicators.analysis.spc import (
    COMMON_CAUSE,
    CONCERN,
    CONSISTENTLY_FAILS,
    CONSISTENTLY_PASSES,
    HIT_AND_MISS,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NOT_ENOUGH_DATA,
    OUTSIDE_LIMITS,
    SHIFT,
    TREND,
    TWO_IN_THREE,
    assurance_type,
    spc,
    xmr_limits,
)
from indicators.analysis.spc_rules import (
    shift_points,
    trend_points,
    two_in_three_points,
)

# DOMAIN.md, "Statistical methods" 1, worked examples.
DOMAIN_SERIES = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]

# R: set.seed(123); rnorm(20), printed to 8 decimals (e.g. the regts package's tests,
# tests/testthat/test_conversion.R). NHSRplotthedots tests/testthat/
# test-ptd_spc_standard.R and test-ptd_spc.R build their data from it.
RNORM_SEED_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774,
    1.71506499, 0.46091621, -1.26506123, -0.68685285, -0.44566197,
    1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113,
    1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip

MONTHS = [
    "Jul-16", "Aug-16", "Sep-16", "Oct-16", "Nov-16", "Dec-16", "Jan-17", "Feb-17",
    "Mar-17", "Apr-17", "May-17", "Jun-17", "Jul-17", "Aug-17", "Sep-17",
]  # fmt: skip


def special_causes(result):
    return [(p.index, p.rule) for p in result.points if p.rule is not None]


# --- limits -----------------------------------------------------------------------


def test_xmr_limits_domain_example_with_screening():
    # DOMAIN.md: mean 1.9444, limits -0.7156 / 4.6044 with screening.
    limits = xmr_limits(DOMAIN_SERIES)

    assert limits.mean == pytest.approx(1.9444, abs=5e-5)
    assert limits.lower_limit == pytest.approx(-0.7156, abs=5e-5)
    assert limits.upper_limit == pytest.approx(4.6044, abs=5e-5)


def test_xmr_limits_domain_example_without_screening():
    # DOMAIN.md: -3.0626 / 6.9515 without screening.
    limits = xmr_limits(DOMAIN_SERIES, screen_outliers=False)

    assert limits.lower_limit == pytest.approx(-3.0626, abs=5e-5)
    assert limits.upper_limit == pytest.approx(6.9515, abs=5e-5)


@pytest.mark.parametrize("screen_outliers", [True, False])
def test_spc_domain_example_point_5_is_the_only_special_cause(screen_outliers):
    # DOMAIN.md: "point 5 is the only special cause" (index 4).
    result = spc(DOMAIN_SERIES, screen_outliers=screen_outliers)

    assert special_causes(result) == [(4, OUTSIDE_LIMITS)]
    assert result.points[4].point_type == NEUTRAL_HIGH


def test_xmr_limits_domain_example_two_sigma_lines():
    # DOMAIN.md: 3,1,4,1,5,9,2 gives mean 3.5714, limits -6.6252 / 13.7681,
    # 2-sigma lines -3.2263 / 10.3692.
    limits = xmr_limits([3, 1, 4, 1, 5, 9, 2])

    assert limits.mean == pytest.approx(3.5714, abs=5e-5)
    assert limits.lower_limit == pytest.approx(-6.6252, abs=5e-5)
    assert limits.upper_limit == pytest.approx(13.7681, abs=5e-5)
    assert limits.lower_two_sigma == pytest.approx(-3.2263, abs=5e-5)
    assert limits.upper_two_sigma == pytest.approx(10.3692, abs=5e-5)


def test_xmr_limits_domain_example_one_to_ten():
    # DOMAIN.md: 1..10 gives mean 5.5, limits 2.84 / 8.16.
    limits = spc(list(range(1, 11))).groups[0].limits

    assert limits.mean == pytest.approx(5.5, abs=5e-5)
    assert limits.lower_limit == pytest.approx(2.84, abs=5e-5)
    assert limits.upper_limit == pytest.approx(8.16, abs=5e-5)


def test_xmr_limits_reference_snapshot_rnorm():
    # NHSRplotthedots tests/testthat/_snaps/ptd_spc_standard.md, r1.
    limits = xmr_limits(RNORM_SEED_123)

    assert limits.mean == pytest.approx(0.1416238, abs=1e-6)
    assert limits.lower_limit == pytest.approx(-3.01138, abs=1e-5)
    assert limits.upper_limit == pytest.approx(3.294627, abs=1e-6)


def test_xmr_limits_reference_snapshot_outlier_screened_and_not():
    # NHSRplotthedots _snaps/ptd_spc_standard.md, r2 (y[15] <- 10, screened) and r3
    # (screen_outliers = FALSE).
    values = [*RNORM_SEED_123]
    values[14] = 10

    screened = xmr_limits(values)
    unscreened = xmr_limits(values, screen_outliers=False)

    assert screened.mean == pytest.approx(0.6694159, abs=1e-6)
    assert screened.lower_limit == pytest.approx(-2.383666, abs=1e-6)
    assert screened.upper_limit == pytest.approx(3.722497, abs=1e-6)
    assert unscreened.lower_limit == pytest.approx(-4.596625, abs=1e-6)
    assert unscreened.upper_limit == pytest.approx(5.935457, abs=1e-6)


def test_spc_reference_snapshot_rnorm_is_all_common_cause():
    # NHSRplotthedots _snaps/ptd_spc.md, summary: n 20, common_cause 20.
    result = spc(RNORM_SEED_123, improvement_direction=1)

    assert [p.point_type for p in result.points] == [COMMON_CAUSE] * 20
    assert result.variation == COMMON_CAUSE


def test_spc_rebase_reference_snapshot_two_groups_of_ten():
    # NHSRplotthedots _snaps/ptd_spc.md, summary by facet 0/1 (ten points each):
    # 0.0746 / -2.60 / 2.75 and 0.209 / -3.28 / 3.70, all common cause.
    result = spc(RNORM_SEED_123, improvement_direction=1, rebase_at=[10])

    first, second = (group.limits for group in result.groups)
    assert (first.mean, first.lower_limit, first.upper_limit) == pytest.approx(
        (0.0746, -2.60, 2.75), abs=0.005
    )
    assert (second.mean, second.lower_limit, second.upper_limit) == pytest.approx(
        (0.209, -3.28, 3.70), abs=0.005
    )
    assert {p.point_type for p in result.points} == {COMMON_CAUSE}


def test_xmr_limits_all_equal_series_has_zero_spread():
    # By hand: every moving range 0, so mR-bar 0 and the limits sit on the mean.
    limits = xmr_limits([5.0] * 12)

    assert (limits.mr_bar, limits.lower_limit, limits.upper_limit) == (0, 5, 5)


def test_spc_all_equal_series_is_common_cause():
    # By hand: nothing is strictly beyond a limit and every point is on the mean.
    result = spc([5.0] * 12, improvement_direction=1)

    assert special_causes(result) == []
    assert result.variation == COMMON_CAUSE


def test_spc_fix_after_n_points_applies_early_limits_to_later_points():
    # By hand from DOMAIN.md's 1..10 example: limits 2.84 / 8.16 fixed from the first
    # 10 points, so two later points at 20 are outside them.
    result = spc([*range(1, 11), 20, 20], fix_after_n_points=10)

    limits = result.groups[0].limits
    assert (limits.lower_limit, limits.upper_limit) == pytest.approx((2.84, 8.16))
    assert [p.rule for p in result.points[10:]] == [OUTSIDE_LIMITS] * 2


# --- data needed ------------------------------------------------------------------


def test_spc_fewer_than_10_points_is_not_enough_data():
    # DOMAIN.md: below about 10 points SPC is not shown.
    result = spc([3, 1, 4, 1, 5, 9, 2, 6, 5])

    assert result.enough_data is False
    assert result.variation == NOT_ENOUGH_DATA
    assert result.points == ()
    assert result.reason == "Not enough data for SPC: 9 points, at least 10 are needed"


@pytest.mark.parametrize(("size", "trial"), [(12, True), (13, False)])
def test_spc_trial_limits_below_13_points(size, trial):
    # DOMAIN.md: fewer than 13 points in a group gives trial limits (NHSRplotthedots
    # ptd_add_short_group_warnings warns below 12; DOMAIN.md wins).
    result = spc([1, 2] * (size // 2) + [1] * (size % 2))

    assert result.groups[0].is_trial is trial
    assert all(p.is_trial is trial for p in result.points)


def test_spc_missing_value_raises_clear_error():
    with pytest.raises(ValueError, match="point 3 has none"):
        spc([1, 2, None, 4, 5, 6, 7, 8, 9, 10])


# --- run rules, against NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R


@pytest.mark.parametrize(
    ("sides", "expected"),
    [
        ([1] * 6, [False] * 6),
        ([1] * 6 + [-1], [False] * 7),
        ([1] * 8 + [-1], [True] * 8 + [False]),
        ([-1] * 8 + [1], [True] * 8 + [False]),
        ([-1] + [1] * 8 + [-1], [False] + [True] * 8 + [False]),
    ],
)
def test_shift_points_reference_cases(sides, expected):
    # ptd_seven_point_one_side_mean then ptd_part_of_seven_trend, as in the R tests.
    assert shift_points(sides) == expected


def test_shift_points_point_on_the_mean_breaks_a_run():
    # DOMAIN.md: a point exactly on the mean (side 0) breaks the run.
    assert shift_points([1, 1, 1, 0, 1, 1, 1, 1]) == [False] * 8


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 5, 6], [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),  # a tie breaks the trend
        ([1, 2, 3, 4, 5, 6, 7], [1] * 7),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0] + [1] * 7 + [0]),
        ([7, 6, 5, 4, 3, 2, 1], [-1] * 7),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0] + [-1] * 7 + [0]),
    ],
)
def test_trend_points_reference_cases(values, expected):
    # ptd_seven_point_trend then ptd_part_of_seven_trend, as in the R tests.
    assert trend_points(values) == expected


def test_trend_points_tie_between_two_trends_keeps_each_direction():
    # By hand: 1..7, 7, 6..1 is an increasing trend then a decreasing one; the tie
    # breaks both, so the first 7 stays increasing.
    assert (
        trend_points([1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1]) == [1] * 7 + [-1] * 7
    )


@pytest.mark.parametrize(
    ("beyond", "sides", "expected"),
    [
        ([1, 0, 1], [1, 1, 1], [1, 0, 1]),
        ([0, 1, 1], [1, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),
        ([1, 0, 0, 1], [1] * 4, [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),
        # opposite sides of the mean never count (NHSRplotthedots issue #143)
        ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
        ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
    ],
)
def test_two_in_three_points_reference_cases(beyond, sides, expected):
    # ptd_two_in_three then ptd_part_of_two_in_three, as in the R tests.
    assert two_in_three_points([bool(b) for b in beyond], sides) == [
        bool(e) for e in expected
    ]


def test_spc_two_close_points_on_opposite_sides_are_common_cause():
    # NHSRplotthedots test-ptd_spc_standard.R: symmetric data with 5.5 and -5.5 last.
    values = [1, -1] * 8
    values[14], values[15] = 5.5, -5.5

    result = spc(values)

    assert [p.point_type for p in result.points[-2:]] == [COMMON_CAUSE] * 2


def test_spc_two_in_three_counts_points_beyond_the_limits():
    # DOMAIN.md "near or beyond 2 sigma" (NHS England's 2023 rule, NHSRplotthedots
    # issue #194; the package's own code would leave the last point common cause,
    # issue #153). By hand: limits fixed from 0,2,0,2,... are 1 +/- 5.32, 2-sigma
    # 1 +/- 3.5467; 7, 7 are outside, 5 is beyond the 2-sigma line.
    result = spc([0, 2] * 5 + [7, 7, 5], fix_after_n_points=10)

    assert special_causes(result) == [
        (10, OUTSIDE_LIMITS),
        (11, OUTSIDE_LIMITS),
        (12, TWO_IN_THREE),
    ]


def test_spc_point_exactly_on_the_mean_breaks_a_shift():
    # By hand: mean exactly 0; 1,3,1 then 0 then 3,1,3,1 is 3 + 4 points above the
    # mean, not 8; the last 7 points are below (limits +/- 5.32, 2-sigma +/- 3.55).
    values = [1, 3, 1, 0, 3, 1, 3, 1, -1, -3, -1, -3, -1, -3, -1]

    result = spc(values)

    assert result.groups[0].limits.mean == 0
    assert special_causes(result) == [(i, SHIFT) for i in range(8, 15)]


def test_spc_rebase_resets_runs():
    # By hand: the 7 low points of the previous case, split by a rebase at index 11,
    # are 3 points in one group and 4 in the next: no shift in either.
    values = [1, 3, 1, 0, 3, 1, 3, 1, -1, -3, -1, -3, -1, -3, -1]

    result = spc(values, rebase_at=[11])

    assert len(result.groups) == 2
    assert special_causes(result) == []
    assert result.groups[1].is_trial


def test_spc_decreasing_trend_above_the_mean_is_concern():
    # DOMAIN.md: an increasing trend is a high-side signal, so a decreasing one is low
    # whichever side of the mean it sits (NHSRplotthedots PR #180, issue #171). By
    # hand: mean 6.73, limits 6.73 +/- 13.6; points 8..15 fall and stay above it.
    values = [0, 10, 0, 10, 0, 10, 0, 10, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5, 8.4]

    result = spc(values, improvement_direction=1)

    assert special_causes(result) == [(i, TREND) for i in range(7, 15)]
    assert result.variation == CONCERN
    assert result.variation_icon == "concern_low"
    assert result.reason == (
        "Special cause concern: 8 consecutive points decreasing since point 8"
    )


@pytest.mark.parametrize(
    ("direction", "expected"),
    [(1, IMPROVEMENT), (-1, CONCERN), (0, NEUTRAL_HIGH)],
)
def test_spc_improvement_direction_sets_point_type(direction, expected):
    # DOMAIN.md: a high-side signal times the direction > 0 is improvement, < 0
    # concern, 0 neutral; point 5 of DOMAIN.md's example is above the upper limit.
    result = spc(DOMAIN_SERIES, improvement_direction=direction)

    assert result.points[4].point_type == expected


def test_spc_reason_names_the_shift_and_its_start():
    # The example wording. By hand: mean 10.53, 2-sigma 8.63 / 12.43, no
    # trend; the last 7 points (from Mar-17) are below the mean.
    values = [12, 11, 12, 11, 12, 11, 12, 11, 9, 10, 9, 10, 9, 10, 9]

    result = spc(values, improvement_direction=1, period_labels=MONTHS)

    assert result.variation == CONCERN
    assert result.reason == (
        "Special cause concern: 7 consecutive points below the mean since Mar-17"
    )


# --- assurance, against NHSRplotthedots tests/testthat/test-ptd_calculate_assurance_type.R


@pytest.mark.parametrize(
    ("lower", "upper", "direction", "expected"),
    [
        (1, 3, 1, CONSISTENTLY_FAILS),
        (5, 7, 1, CONSISTENTLY_PASSES),
        (1, 5, 1, HIT_AND_MISS),
        (1, 3, -1, CONSISTENTLY_PASSES),
        (5, 7, -1, CONSISTENTLY_FAILS),
        (1, 5, -1, HIT_AND_MISS),
        (1, 5, 0, None),
    ],
)
def test_assurance_type_reference_cases(lower, upper, direction, expected):
    assert assurance_type(lower, upper, 4, direction) == expected


@pytest.mark.parametrize(("lower", "upper"), [(1, 4), (4, 7)])
def test_assurance_type_target_on_a_limit_is_hit_and_miss(lower, upper):
    # DOMAIN.md: inclusive boundaries count as hit and miss.
    assert assurance_type(lower, upper, 4, 1) == HIT_AND_MISS


def test_spc_assurance_uses_latest_group_limits():
    # By hand: after the rebase the latest group is 5.0 throughout, limits 5 / 5, so
    # a target of 6 with increase better consistently fails.
    values = [1, 9] * 6 + [5.0] * 12

    result = spc(values, improvement_direction=1, target=6, rebase_at=[12])

    assert result.assurance == CONSISTENTLY_FAILS
    assert result.assurance_reason == (
        "Consistently fails the target: target 6.0 is above the upper process "
        "limit 5.0, higher is better"
    )


def test_spc_to_frame_has_one_row_per_point():
    frame = spc(DOMAIN_SERIES).to_frame()

    assert len(frame) == len(DOMAIN_SERIES)
    assert list(frame.columns[:8]) == [
        "label", "value", "group", "mean", "lower_limit", "upper_limit",
        "lower_two_sigma", "upper_two_sigma",
    ]  # fmt: skip
    assert frame.loc[4, "rule"] == OUTSIDE_LIMITS


def test_spc_rebase_on_the_latest_point_has_no_limits_yet():
    # By hand: a group of one point has no moving range, so no limits and no
    # assurance; the point is not flagged.
    values = [1, 2] * 6 + [5]

    result = spc(values, improvement_direction=1, target=3, rebase_at=[12])

    assert result.variation == COMMON_CAUSE
    assert result.assurance is None
    assert result.reason == (
        "Common cause variation: point 13 (5.0) starts a new group, whose limits "
        "need a second point"
    )


def test_spc_reason_for_a_point_outside_the_limits():
    # By hand from DOMAIN.md's 1..10 example: 10 is above the upper limit 8.16.
    result = spc(list(range(1, 11)), improvement_direction=1)

    assert result.points[-1].rule == OUTSIDE_LIMITS
    assert result.variation_icon == "improvement_high"
    assert result.reason == (
        "Special cause improvement: point 10 (10.0) above the upper process limit "
        "8.2 (trial limits from 10 points)"
    )


def test_spc_records_method_and_inputs():
    result = spc(DOMAIN_SERIES, improvement_direction=-1, target=3, rebase_at=[5])

    assert result.method.startswith("Making Data Count XmR chart")
    assert dict(result.inputs) == {
        "values": tuple(float(v) for v in DOMAIN_SERIES),
        "period_labels": None,
        "improvement_direction": -1,
        "target": 3,
        "rebase_at": (5,),
        "fix_after_n_points": None,
        "screen_outliers": True,
    }


# --- invariants of the method (the property list, on the reference series)

SERIES_FOR_INVARIANTS = [
    DOMAIN_SERIES,
    RNORM_SEED_123,
    [0, 10, 0, 10, 0, 10, 0, 10, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5, 8.4],
    [1, 3, 1, 0, 3, 1, 3, 1, -1, -3, -1, -3, -1, -3, -1],
]


@pytest.mark.parametrize("values", SERIES_FOR_INVARIANTS)
def test_spc_limits_are_symmetric_about_the_mean(values):
    limits = xmr_limits(values)

    assert limits.upper_limit - limits.mean == pytest.approx(
        limits.mean - limits.lower_limit
    )


@pytest.mark.parametrize("values", SERIES_FOR_INVARIANTS)
def test_spc_adding_a_constant_changes_no_point_type(values):
    before = spc(values, improvement_direction=1)
    after = spc([v + 100 for v in values], improvement_direction=1)

    assert after.groups[0].limits.mean == pytest.approx(
        before.groups[0].limits.mean + 100
    )
    assert [p.point_type for p in after.points] == [p.point_type for p in before.points]


@pytest.mark.parametrize("values", SERIES_FOR_INVARIANTS)
def test_spc_reversing_direction_swaps_improvement_and_concern(values):
    swap = {IMPROVEMENT: CONCERN, CONCERN: IMPROVEMENT, COMMON_CAUSE: COMMON_CAUSE}

    up = spc(values, improvement_direction=1)
    down = spc(values, improvement_direction=-1)

    assert [p.point_type for p in down.points] == [
        swap[p.point_type] for p in up.points
    ]


@pytest.mark.parametrize("level", [0.1, 0.7, 83.3, 5.0])
def test_a_flat_series_is_common_cause(level):
    # A series that never moves has no special cause (NHSRplotthedots: R's mean of a
    # constant is the constant). NumPy's mean of twelve 0.1s is 1 ulp off 0.1, which
    # must not put every point "outside" limits of width 0.
    result = spc([level] * 12, improvement_direction=1)

    assert result.groups[0].limits.mean == level
    assert {p.point_type for p in result.points} == {COMMON_CAUSE}
    assert result.variation == COMMON_CAUSE
