"""Wilson, Byars and exact Poisson intervals, against DOMAIN.md's examples and published
outputs of the reference implementations (cited per case)."""

import math
import re

import pytest

from indicators.analysis.intervals import (
    BYARS,
    DENOMINATOR_NOT_POSITIVE,
    EXACT_POISSON,
    WILSON,
    count_interval,
    rate_interval,
    wilson_interval,
)

# PHEindicatormethods vignette "Introduction to PHEindicatormethods", rendered output of
# phe_proportion(df, obs, pop) and phe_proportion(..., confidence = 99.8), multiplier 100
# (inst/doc/Introduction_to_PHEindicatormethods.html of the CRAN build, as mirrored in
# r-hub2/some-psychogenic-africanporcupine-PHEindicatormethods).
VIGNETTE_PROPORTIONS = [
    # obs, pop, 95% lower, 95% upper, 99.8% lower, 99.8% upper (percentages)
    (27, 106, 18.13642, 34.52262, 14.81031, 40.18735),
    (22, 113, 13.22333, 27.72229, 10.54176, 33.15448),
    (80, 150, 45.36625, 61.13395, 40.92696, 65.34069),
    (53, 193, 21.65053, 34.15146, 18.77465, 38.27289),
    (37, 159, 17.38037, 30.42162, 14.61350, 34.95622),
    (84, 122, 60.16542, 76.38851, 54.93185, 80.03596),
    (89, 101, 80.37295, 93.07128, 74.76217, 94.88987),
    (85, 196, 36.62266, 50.36703, 32.98917, 54.36182),
]

# Same vignette: phe_rate(df, obs, pop) (95%, per 100,000) and
# phe_rate(df, obs, pop, confidence = 99.8, multiplier = 100); all Byars.
VIGNETTE_RATES = [
    # obs, pop, 95% lower, 95% upper per 100,000, 99.8% lower, 99.8% upper per 100
    (27, 106, 16782.04, 37061.41, 12.926737, 44.59202),
    (22, 113, 12196.90, 29477.68, 9.074329, 36.05431),
    (80, 150, 42288.58, 66378.77, 36.773690, 74.46881),
    (53, 193, 20568.85, 35920.56, 17.249087, 41.24758),
    (37, 159, 16382.37, 32076.16, 13.193195, 37.70884),
    (84, 122, 54917.70, 85245.02, 47.933814, 95.39407),
    (89, 101, 70764.64, 108438.96, 62.029689, 120.99575),
    (85, 196, 34639.24, 53625.01, 30.260955, 59.97329),
]

# Published Fingertips values used as trend test data in dhsc-govuk/FingertipsNext
# (TrendMarkerCalculatorTests.cs): MMR one dose at 2 years, Yorkshire and the Humber
# (proportion, Wilson, %) and preventable sight loss from diabetic eye disease (crude
# rate per 100,000, Byars). Values and limits as published, to 4 decimals.
FINGERTIPS_MMR = [
    (53185, 59028, 90.1013, 89.8578, 90.3396),
    (51767, 57508, 90.017, 89.7694, 90.2594),
    (53681, 59074, 90.8708, 90.6358, 91.1004),
    (55865, 60511, 92.3221, 92.1072, 92.5315),
    (57274, 61834, 92.6254, 92.4168, 92.8288),
]
FINGERTIPS_SIGHT_LOSS = [
    (1502, 49866388, 3.0121, 2.8616, 3.1683),
    (1415, 49300918, 2.8701, 2.7225, 3.0237),
    (1344, 48753376, 2.7567, 2.6113, 2.9082),
    (935, 48440507, 1.93028, 1.8085, 2.058),
    (1416, 48246126, 2.935, 2.7841, 3.0919),
]


def test_wilson_interval_domain_example():
    # DOMAIN.md: x=65, n=100 gives 0.552544-0.736358 (95%).
    interval = wilson_interval(65, 100)

    assert interval.method == WILSON
    assert interval.value == pytest.approx(0.65)
    assert interval.lower == pytest.approx(0.552544, abs=5e-7)
    assert interval.upper == pytest.approx(0.736358, abs=5e-7)


@pytest.mark.parametrize(
    ("obs", "pop", "lo95", "hi95", "lo998", "hi998"), VIGNETTE_PROPORTIONS
)
def test_wilson_interval_reference_vignette(obs, pop, lo95, hi95, lo998, hi998):
    at_95 = wilson_interval(obs, pop, multiplier=100)
    at_998 = wilson_interval(obs, pop, level=0.998, multiplier=100)

    assert (at_95.lower, at_95.upper) == pytest.approx((lo95, hi95), abs=5e-5)
    assert (at_998.lower, at_998.upper) == pytest.approx((lo998, hi998), abs=5e-5)


@pytest.mark.parametrize(
    ("events", "denominator", "value", "lower", "upper"), FINGERTIPS_MMR
)
def test_wilson_interval_reference_fingertips(events, denominator, value, lower, upper):
    interval = wilson_interval(events, denominator, multiplier=100)

    assert interval.value == pytest.approx(value, abs=5e-5)
    assert (interval.lower, interval.upper) == pytest.approx((lower, upper), abs=5e-5)


def test_wilson_interval_zero_events():
    # By hand from the formula: x = 0 gives lower 0 and upper z^2 / (n + z^2),
    # 3.8414589 / 103.8414589 = 0.0369935 with z = 1.959964.
    interval = wilson_interval(0, 100)

    assert interval.lower == pytest.approx(0, abs=1e-12)
    assert interval.upper == pytest.approx(0.0369935, abs=1e-7)


def test_wilson_interval_all_events():
    # By hand: x = n mirrors x = 0: upper 1, lower n / (n + z^2) = 0.9630065.
    interval = wilson_interval(100, 100)

    assert interval.upper == pytest.approx(1)
    assert interval.lower == pytest.approx(0.9630065, abs=1e-7)


def test_rate_interval_domain_example_byars():
    # DOMAIN.md: x=20, n=100 per 100,000 gives 12211.43-30889.88 (95%).
    interval = rate_interval(20, 100)

    assert interval.method == BYARS
    assert interval.lower == pytest.approx(12211.43, abs=0.005)
    assert interval.upper == pytest.approx(30889.88, abs=0.005)


@pytest.mark.parametrize(
    ("obs", "pop", "lo95", "hi95", "lo998", "hi998"), VIGNETTE_RATES
)
def test_rate_interval_reference_vignette(obs, pop, lo95, hi95, lo998, hi998):
    per_100000 = rate_interval(obs, pop)
    per_100_at_998 = rate_interval(obs, pop, level=0.998, multiplier=100)

    assert (per_100000.lower, per_100000.upper) == pytest.approx(
        (lo95, hi95), abs=0.005
    )
    assert (per_100_at_998.lower, per_100_at_998.upper) == pytest.approx(
        (lo998, hi998), abs=1e-5
    )


@pytest.mark.parametrize(
    ("events", "denominator", "value", "lower", "upper"), FINGERTIPS_SIGHT_LOSS
)
def test_rate_interval_reference_fingertips(events, denominator, value, lower, upper):
    # Only the limits: two published values (3.0121, 1.93028) are not count /
    # denominator x 100,000 to 4 decimals (3.0120, 1.9302), a slip in the source.
    interval = rate_interval(events, denominator)

    # 2.058 is published to 3 decimals
    assert (interval.lower, interval.upper) == pytest.approx((lower, upper), abs=5e-4)


def test_count_interval_exact_poisson_below_10():
    # survival::cipoisson(4) documents 1.089865 / 10.24153 (95%), the exact interval
    # that PHEindicatormethods R/Rates.R computes as qchisq(0.025, 8)/2 and
    # qchisq(0.975, 10)/2 for counts below 10. survival finds the upper root
    # numerically and its own example shows ppois(4, 10.24153) = 0.02500096, so that
    # limit is good to 1e-4 only.
    interval = count_interval(4)

    assert interval.method == EXACT_POISSON
    assert interval.lower == pytest.approx(1.089865, abs=5e-7)
    assert interval.upper == pytest.approx(10.24153, abs=1e-4)


def test_count_interval_exact_poisson_one_event_lower_limit():
    # By hand: qchisq(0.025, 2)/2 = -ln(0.975), a chi-square with 2 df being
    # exponential with mean 2.
    assert count_interval(1).lower == pytest.approx(-math.log(0.975), abs=1e-9)


def test_count_interval_zero_events():
    # By hand: no events gives lower 0 and upper qchisq(0.975, 2)/2 = -ln(0.025).
    interval = count_interval(0)

    assert interval.lower == 0
    assert interval.upper == pytest.approx(-math.log(0.025), abs=1e-9)


@pytest.mark.parametrize(("events", "method"), [(9, EXACT_POISSON), (10, BYARS)])
def test_rate_interval_switches_to_byars_at_10(events, method):
    # PHEindicatormethods R/Rates.R: if_else(x < 10, exact, Byars).
    assert rate_interval(events, 1000).method == method


def test_rate_interval_scales_per_1000():
    # By hand: the same count per 1,000 is the per-100,000 rate divided by 100.
    per_1000 = rate_interval(20, 100, multiplier=1000)

    assert per_1000.lower == pytest.approx(122.1143, abs=1e-4)
    assert per_1000.upper == pytest.approx(308.8988, abs=1e-4)


@pytest.mark.parametrize("make", [wilson_interval, rate_interval])
def test_intervals_zero_denominator_raises_clear_error(make):
    message = DENOMINATOR_NOT_POSITIVE.format(denominator=0)

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make(0, 0)


@pytest.mark.parametrize("make", [wilson_interval, rate_interval])
def test_intervals_negative_events_raise(make):
    with pytest.raises(ValueError, match="must not be negative"):
        make(-1, 100)


def test_wilson_interval_events_above_denominator_raise():
    with pytest.raises(ValueError, match="no greater than the denominator"):
        wilson_interval(101, 100)


def test_intervals_unknown_level_raises():
    with pytest.raises(ValueError, match=r"0\.95 or 0\.998"):
        wilson_interval(65, 100, level=0.9)


def test_wilson_interval_reason_in_words():
    interval = wilson_interval(65, 100, multiplier=100, unit="%")

    assert interval.reason == (
        "65.0% (55.3-73.6), 95% Wilson score interval from 65 of 100"
    )
    assert dict(interval.inputs) == {
        "events": 65,
        "denominator": 100,
        "level": 0.95,
        "multiplier": 100,
    }


@pytest.mark.parametrize(("events", "denominator"), [(0, 1), (1, 1), (3, 7), (65, 100)])
@pytest.mark.parametrize("level", [0.95, 0.998])
def test_wilson_interval_stays_in_unit_range_and_contains_estimate(
    events, denominator, level
):
    interval = wilson_interval(events, denominator, level=level)

    assert 0 <= interval.lower <= interval.value <= interval.upper <= 1 + 1e-12


def test_rate_interval_reason_in_words():
    # The numbers are DOMAIN.md's Byars example, rounded to 1 decimal.
    assert rate_interval(20, 100).reason == (
        "20,000.0 (12,211.4-30,889.9), 95% Byars interval from 20 events in 100, "
        "per 100,000"
    )
