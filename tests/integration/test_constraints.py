"""The database, not only the forms, holds the model's invariants."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from indicators.models import Area, Indicator, Observation, Period, Return
from strategies.models import Strategy, StrategyLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(plymouth):
    indicator = Indicator.objects.get(system=plymouth, key="rtt-18-weeks-incomplete")
    area = Area.objects.get(code="E06000026")
    period = Period.objects.create(
        kind="month", start=date(2030, 1, 1), end=date(2030, 1, 31), label="Jan-30"
    )
    source = Return.objects.create(system=plymouth, kind="upload", title="test")
    return indicator, area, period, source


def test_only_one_current_value_per_indicator_area_period_breakdown(series):
    indicator, area, period, source = series
    Observation.objects.create(
        indicator=indicator, area=area, period=period, value=1, source_return=source
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Observation.objects.create(
            indicator=indicator, area=area, period=period, value=2, source_return=source
        )


def test_earlier_versions_and_other_breakdowns_may_coexist(series):
    indicator, area, period, source = series
    Observation.objects.create(
        indicator=indicator,
        area=area,
        period=period,
        value=1,
        source_return=source,
        is_current=False,
    )
    Observation.objects.create(
        indicator=indicator, area=area, period=period, value=2, source_return=source
    )
    Observation.objects.create(
        indicator=indicator,
        area=area,
        period=period,
        breakdown="Female",
        value=3,
        source_return=source,
    )

    assert Observation.objects.filter(indicator=indicator, period=period).count() == 3


def test_confidence_limits_cannot_be_reversed(series):
    indicator, area, period, source = series

    with pytest.raises(IntegrityError), transaction.atomic():
        Observation.objects.create(
            indicator=indicator,
            area=area,
            period=period,
            value=5,
            lower_ci=6,
            upper_ci=4,
            source_return=source,
        )


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.create(
            kind="month", start=date(2031, 2, 1), end=date(2031, 1, 1), label="bad"
        )


def test_indicator_keys_are_unique_within_a_system(plymouth, torbay):
    existing = Indicator.objects.filter(system=plymouth).first()
    fields = {
        "key": existing.key,
        "title": "x",
        "source_framework": "LOCAL",
        "measure_type": "count",
        "period_type": "month",
    }
    Indicator.objects.create(system=torbay, **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.create(system=plymouth, **fields)


def test_a_strategy_cannot_link_to_itself(plymouth):
    strategy = Strategy.objects.get(system=plymouth, slug="community")

    with pytest.raises(IntegrityError), transaction.atomic():
        StrategyLink.objects.create(from_strategy=strategy, to_strategy=strategy)
