"""Properties the statistics must have whatever the data (hypothesis). The worked examples
from the methods' own sources are in tests/unit/indicators/analysis/."""

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from indicators.analysis.intervals import wilson_interval
from indicators.analysis.spc import spc
from indicators.analysis.spc_rules import CONCERN, IMPROVEMENT, TREND

# Values on a realistic scale, rounded as returns are; 12 to 40 points (SPC needs >= 10).
values = st.lists(
    st.floats(min_value=-1000, max_value=1000, allow_nan=False).map(
        lambda v: round(v, 2)
    ),
    min_size=12,
    max_size=40,
)
profile = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _special(result):
    return {p.index for p in result.points if p.point_type != "common_cause"}


@profile
@given(values)
def test_limits_are_symmetric_about_the_mean(series):
    group = spc(series, improvement_direction=1).groups[0].limits

    assert group.upper_limit - group.mean == pytest.approx(
        group.mean - group.lower_limit
    )
    assert group.upper_two_sigma - group.mean == pytest.approx(
        group.mean - group.lower_two_sigma
    )


@profile
@given(values, st.integers(min_value=-500, max_value=500))
def test_adding_a_constant_shifts_mean_and_limits_and_no_point_type(series, shift):
    base = spc(series, improvement_direction=1)
    moved = spc([v + shift for v in series], improvement_direction=1)

    for before, after in zip(base.groups, moved.groups, strict=True):
        assert after.limits.mean == pytest.approx(before.limits.mean + shift, abs=1e-6)
        assert after.limits.upper_limit == pytest.approx(
            before.limits.upper_limit + shift, abs=1e-6
        )
    # Rounding at a boundary could move a point; data away from the limits cannot.
    assume(
        all(
            abs(p.value - p.upper_limit) > 1e-6 and abs(p.value - p.lower_limit) > 1e-6
            for p in base.points
        )
    )
    assert [p.point_type for p in moved.points] == [p.point_type for p in base.points]


@profile
@given(values)
def test_reversing_the_improvement_direction_swaps_improvement_and_concern(series):
    up = spc(series, improvement_direction=1)
    down = spc(series, improvement_direction=-1)
    swap = {IMPROVEMENT: CONCERN, CONCERN: IMPROVEMENT}

    assert [swap.get(p.point_type, p.point_type) for p in up.points] == [
        p.point_type for p in down.points
    ]


@profile
@given(values)
def test_a_series_reversed_in_time_mirrors_its_signals(series):
    forward = spc(series, improvement_direction=1)
    backward = spc(list(reversed(series)), improvement_direction=1)
    last = len(series) - 1

    assert {last - i for i in _special(forward)} == _special(backward)
    for point in forward.points:
        if point.rule == TREND:
            mirrored = backward.points[last - point.index]
            assert mirrored.rule == TREND
            assert mirrored.side != point.side


@given(st.integers(min_value=1, max_value=100_000), st.data())
def test_wilson_limits_stay_in_0_1_and_contain_the_estimate(denominator, data):
    events = data.draw(st.integers(min_value=0, max_value=denominator))

    interval = wilson_interval(events, denominator)

    assert 0 <= interval.lower <= events / denominator <= interval.upper <= 1
    assert not math.isnan(interval.lower)
