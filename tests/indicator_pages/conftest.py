"""A fresh indicator with a series of our own making, so tests can grow it (more points,
revisions, flags, actions) and see the page follow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from django.core.cache import cache
from django.utils import timezone

from indicators.models import Area, Indicator, Observation, Period, Return
from indicators.periods import month_period
from scorecard.services.recompute import recompute


def month(index: int):
    """The index-th month from April 2014."""
    year, month0 = divmod(3 + index, 12)
    return month_period(2014 + year, month0 + 1)


def period_for(index: int) -> Period:
    spec = month(index)
    period, _ = Period.objects.get_or_create(
        kind=spec.kind, start=spec.start, end=spec.end, defaults={"label": spec.label}
    )
    return period


def add_values(
    indicator: Indicator,
    area: Area,
    values: Sequence[float | None],
    *,
    start: int = 0,
    source: Return | None = None,
    synthetic: bool = False,
    **extra,
) -> list[Observation]:
    source = source or Return.objects.create(
        system=indicator.system, kind=Return.Kind.UPLOAD, title="Test return"
    )
    return Observation.objects.bulk_create(
        Observation(
            indicator=indicator,
            area=area,
            period=period_for(start + i),
            value=value,
            source_return=source,
            is_synthetic=synthetic,
            **extra,
        )
        for i, value in enumerate(values)
    )


def revise(
    observation: Observation, value: float, title="Revising return"
) -> Observation:
    """A later return's new version of a value; the old one is kept, not current."""
    newer_return = Return.objects.create(
        system=observation.indicator.system, kind=Return.Kind.UPLOAD, title=title
    )
    observation.is_current = False
    observation.superseded_at = timezone.now()
    observation.save()
    newer = Observation.objects.create(
        indicator=observation.indicator,
        area=observation.area,
        period=observation.period,
        value=value,
        source_return=newer_return,
    )
    observation.superseded_by = newer
    observation.save()
    return newer


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """Each test starts with an empty page cache: the indicator page is cached, and a
    test's rolled-back writes must not leave pages cached for the next one (ids are
    reused after a rollback on SQLite)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_indicator(plymouth):
    def make(key="test-waits", system=None, **fields) -> Indicator:
        defaults = {
            "title": "Test waits within 18 weeks",
            "source_framework": Indicator.SourceFramework.LOCAL,
            "measure_type": Indicator.MeasureType.PERCENTAGE,
            "unit": "%",
            "decimal_places": 1,
            "polarity": Indicator.Polarity.HIGHER_IS_BETTER,
            "period_type": "month",
            "definition": "Patients waiting under 18 weeks, as a percentage.",
        }
        return Indicator.objects.create(
            system=system or plymouth, key=key, **{**defaults, **fields}
        )

    return make


@pytest.fixture
def home_area(plymouth) -> Area:
    return plymouth.home_area


def compute(indicator: Indicator) -> None:
    recompute(indicator_ids=[indicator.pk], as_at=date(2017, 11, 1))
