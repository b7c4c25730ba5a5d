"""The vectorised SPC engine gives exactly what the per-series `spc` gives.

`spc` (indicators/analysis/spc.py) is the reference, tested against NHSRplotthedots
and DOMAIN.md in tests/unit/indicators/analysis/test_spc.py. Here hypothesis builds
random series of 10 to 80 points, many at once and of mixed lengths (ties, flat runs,
points exactly on the mean, all-equal series, outliers; screening on and off; every
improvement direction), and every number, point type, rule, side, icon, assurance and
reason of the batch must equal the reference's. Limits must be equal to the last bit,
not merely close: a mean one unit in the last place away would move a point that sits
exactly on the mean off it, and change the runs. The DOMAIN.md worked examples follow.
"""

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.analysis.spc import (
    NEUTRAL_HIGH,
    NOT_ENOUGH_DATA,
    OUTSIDE_LIMITS,
    spc,
)
from indicators.analysis.spc_batch import (
    POINT_TYPES,
    RULES,
    from_padded,
    ragged,
    spc_batch,
)

DOMAIN_SERIES = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]

profile = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- series that stress the rules ---------------------------------------------------


def _rounded(n: int):
    """Noise on a level, rounded as returns are: ties and equal steps are common."""
    return st.lists(
        st.floats(min_value=-50, max_value=50, allow_nan=False).map(
            lambda v: round(v, 1)
        ),
        min_size=n,
        max_size=n,
    )


def _few_values(n: int):
    """A handful of distinct values: flat runs, ties, long runs on one side."""
    return st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0]), min_size=n, max_size=n)


def _on_the_mean(n: int):
    """Pairs m + d, m - d and copies of m, shuffled: the mean is exactly m (integer
    arithmetic), so some points sit exactly on it."""
    half = n // 2
    return st.tuples(
        st.integers(-20, 20),
        st.lists(st.integers(0, 6), min_size=half, max_size=half),
        st.randoms(use_true_random=False),
    ).map(lambda t: _symmetric(*t, n))


def _symmetric(m, deltas, rng, n):
    values = [float(m + d) for d in deltas] + [float(m - d) for d in deltas]
    values += [float(m)] * (n - len(values))
    rng.shuffle(values)
    return values


def _trending(n: int):
    """Monotone stretches broken by ties, so trends start, stop and turn."""
    return st.lists(st.sampled_from([-1.0, 0.0, 1.0, 1.0, -1.0, 2.5]), min_size=n, max_size=n).map(
        lambda steps: list(np.cumsum(steps))
    )  # fmt: skip


def _flat_with_outlier(n: int):
    return st.tuples(st.floats(-5, 5).map(lambda v: round(v, 2)), st.integers(0, n - 1), st.sampled_from([0.0, 0.5, 40.0])).map(
        lambda t: [t[0] + (t[2] if i == t[1] else 0.0) for i in range(n)]
    )  # fmt: skip


series_values = st.integers(10, 80).flatmap(
    lambda n: st.one_of(
        _rounded(n),
        _few_values(n),
        _on_the_mean(n),
        _trending(n),
        _flat_with_outlier(n),
    )
)
series_options = st.tuples(st.sampled_from([-1, 0, 1]), st.booleans())
many_series = st.lists(st.tuples(series_values, series_options), min_size=1, max_size=8)


def _assert_same(batch, i, values, direction, screen):
    labels = [f"P{j}" for j in range(len(values))]
    target = round(float(np.mean(values)) + 0.7, 1)
    expected = spc(
        values,
        improvement_direction=direction,
        screen_outliers=screen,
        period_labels=labels,
        target=target,
        unit="%",
    )
    got = batch.result(i, period_labels=labels, target=target, unit="%")

    (group,) = expected.groups
    lim, batch_lim = group.limits, got.groups[0].limits
    assert batch_lim == lim  # every float equal to the last bit
    assert batch_lim.lower_limit == pytest.approx(lim.lower_limit, abs=1e-9)
    assert got.groups == expected.groups
    assert list(got.points) == list(expected.points)
    start, stop = batch.offsets[i], batch.offsets[i + 1]
    assert [POINT_TYPES[c] for c in batch.point_type[start:stop]] == [
        p.point_type for p in expected.points
    ]
    assert [RULES[c] for c in batch.rule[start:stop]] == [
        p.rule for p in expected.points
    ]
    assert got.variation == expected.variation
    assert got.variation_icon == expected.variation_icon
    assert got.assurance == expected.assurance
    assert got.assurance_reason == expected.assurance_reason
    assert got.reason == expected.reason
    assert got.inputs == expected.inputs
    records = [
        {"rule": p.rule, "type": p.point_type, "label": p.label, "value": p.value}
        for p in expected.points
    ]
    assert got.points.records() == records
    assert got.points.json() == json.dumps(records, ensure_ascii=False)


# --- the properties -----------------------------------------------------------------


@profile
@given(many_series)
def test_batch_gives_exactly_what_spc_gives(series):
    values, offsets = ragged([s for s, _ in series])
    batch = spc_batch(
        values,
        offsets,
        improvement_direction=[options[0] for _, options in series],
        screen_outliers=[options[1] for _, options in series],
    )

    for i, (s, (direction, screen)) in enumerate(series):
        _assert_same(batch, i, s, direction, screen)


@profile
@given(series_values, series_options)
def test_one_series_alone_or_in_a_crowd_gives_the_same(values, options):
    crowd = [values, values[::-1], [v + 1 for v in values], values]
    alone = spc_batch(*ragged([values]), improvement_direction=options[0])
    together = spc_batch(*ragged(crowd), improvement_direction=options[0])

    one, same = alone.result(0), together.result(3)
    assert one.groups == same.groups
    assert list(one.points) == list(same.points)
    assert one.reason == same.reason


@profile
@given(st.integers(10, 80), st.floats(-100, 100, allow_nan=False), series_options)
def test_an_all_equal_series_is_common_cause_as_in_spc(n, level, options):
    # A level whose NumPy mean is not exactly itself (0.1 ten times averages
    # 0.10000000000000002) must not leave every point "outside" limits of width 0.
    values = [level] * n
    batch = spc_batch(
        *ragged([values]), improvement_direction=options[0], screen_outliers=options[1]
    )

    _assert_same(batch, 0, values, *options)
    assert batch.mr_bar[0] == 0
    assert set(batch.rule.tolist()) == {0}


@profile
@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=0, max_size=9))
def test_short_series_are_left_to_spc_which_says_not_enough_data(values):
    batch = spc_batch(*ragged([values]))

    assert not batch.computed[0]
    assert batch.result(0) == spc(values)
    assert batch.result(0).variation == NOT_ENOUGH_DATA


def test_a_missing_value_is_left_to_spc_which_says_which():
    values = [1.0] * 12
    values[3] = math.nan
    batch = spc_batch(*ragged([values, [2.0] * 12]))

    assert list(batch.computed) == [False, True]
    with pytest.raises(ValueError, match="point 4 has none"):
        batch.result(0)


def test_padded_rows_read_as_their_values():
    padded = np.array([[1.0, 2.0, 3.0, np.nan], [4.0, 5.0, 6.0, 7.0], [np.nan] * 4])

    values, offsets = from_padded(padded)

    assert list(values) == [1, 2, 3, 4, 5, 6, 7]
    assert list(offsets) == [0, 3, 7, 7]


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="must be"):
        spc_batch(*ragged([[1.0] * 10]), improvement_direction=2)
    with pytest.raises(ValueError, match="offsets"):
        spc_batch(np.ones(5), np.array([0, 3]))


# --- DOMAIN.md "Statistical methods" 1, worked examples ----------------------------


def test_domain_example_with_and_without_screening():
    batch = spc_batch(
        *ragged([DOMAIN_SERIES, DOMAIN_SERIES]), screen_outliers=[True, False]
    )

    assert batch.mean[0] == pytest.approx(1.9444, abs=5e-5)
    assert batch.lower_limit[0] == pytest.approx(-0.7156, abs=5e-5)
    assert batch.upper_limit[0] == pytest.approx(4.6044, abs=5e-5)
    assert batch.lower_limit[1] == pytest.approx(-3.0626, abs=5e-5)
    assert batch.upper_limit[1] == pytest.approx(6.9515, abs=5e-5)
    for i in (0, 1):  # point 5 is the only special cause
        result = batch.result(i)
        assert [(p.index, p.rule) for p in result.points if p.rule] == [
            (4, OUTSIDE_LIMITS)
        ]
        assert result.points[4].point_type == NEUTRAL_HIGH


def test_domain_example_two_sigma_lines():
    # 3,1,4,1,5,9,2: below spc's 10 points, so computed with a lower minimum.
    batch = spc_batch(*ragged([[3, 1, 4, 1, 5, 9, 2]]), minimum_points=3)

    assert batch.mean[0] == pytest.approx(3.5714, abs=5e-5)
    assert batch.lower_limit[0] == pytest.approx(-6.6252, abs=5e-5)
    assert batch.upper_limit[0] == pytest.approx(13.7681, abs=5e-5)
    assert batch.lower_two_sigma[0] == pytest.approx(-3.2263, abs=5e-5)
    assert batch.upper_two_sigma[0] == pytest.approx(10.3692, abs=5e-5)


def test_domain_example_one_to_ten():
    batch = spc_batch(*ragged([list(range(1, 11))]))

    assert batch.mean[0] == pytest.approx(5.5, abs=5e-5)
    assert batch.lower_limit[0] == pytest.approx(2.84, abs=5e-5)
    assert batch.upper_limit[0] == pytest.approx(8.16, abs=5e-5)
    _assert_same(batch, 0, list(range(1, 11)), 0, True)  # a trend of ten points
