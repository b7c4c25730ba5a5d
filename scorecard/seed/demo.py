"""Synthetic history for the demo: clearly marked, reproducible, passing through the values
the October 2017 stocktake published.

For each published row the series ends at the published last value (the real, transcribed
observation) and passes through the published first value at the start of the display
window; before that it wanders around the first value. Synthetic values are stored with
`is_synthetic=True` in a return of kind "demo", so every page can say which values are made up.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from indicators.models import Indicator, Observation, Period, Return
from indicators.periods import (
    PeriodSpec,
    calendar_year_period,
    financial_year_period,
    month_period,
    multi_year_period,
    quarter_period,
)
from scorecard.analysis import DISPLAY_POINTS
from scorecard.models import PublishedOverviewRow
from scorecard.seed.sync import SyncStats

DEMO_SEED = 20171031
DEMO_RETURN_TITLE = "Synthetic demo history (not real data)"
# Points before the published period, and where the display window starts among them.
HISTORY_LENGTH = {
    "month": 30,
    "quarter": 14,
    "financial_year": 7,
    "calendar_year": 7,
    "multi_year": 5,
}
# The display window (the sparkline and "First value") ends on the published last value,
# so the published first value sits DISPLAY_POINTS - 1 points before it.
WINDOW = {kind: points - 1 for kind, points in DISPLAY_POINTS.items()}


def previous_periods(spec: PeriodSpec, count: int) -> list[PeriodSpec]:
    """The `count` periods of the same kind before `spec`, oldest first."""
    out = []
    for back in range(count, 0, -1):
        if spec.kind == "month":
            index = spec.start.year * 12 + spec.start.month - 1 - back
            out.append(month_period(index // 12, index % 12 + 1))
        elif spec.kind == "quarter":
            fy = spec.start.year if spec.start.month >= 4 else spec.start.year - 1
            q = (spec.start.month - 4) % 12 // 3 + 1
            index = fy * 4 + (q - 1) - back
            out.append(quarter_period(index // 4, index % 4 + 1))
        elif spec.kind == "financial_year":
            out.append(financial_year_period(spec.start.year - back))
        elif spec.kind == "calendar_year":
            out.append(calendar_year_period(spec.start.year - back))
        else:
            out.append(multi_year_period(spec.start.year - back, spec.end.year - back))
    return out


@dataclass(frozen=True)
class SeriesShape:
    kind: str
    first: float
    last: float
    measure_type: str
    decimal_places: int
    key: str


def synthetic_values(shape: SeriesShape) -> list[float]:
    """The values before the published last one, oldest first. Deterministic per series."""
    n = HISTORY_LENGTH[shape.kind]
    window = WINDOW[shape.kind]
    rng = np.random.default_rng(DEMO_SEED ^ zlib.crc32(shape.key.encode()))
    level = abs(shape.first) or abs(shape.last) or 1.0
    noise = rng.normal(0.0, 0.04 * level, size=n)
    values = np.empty(n)
    lead = n - window
    values[:lead] = shape.first + noise[:lead]
    # From the window's first point (the published first value) towards the last value.
    steps = np.linspace(shape.first, shape.last, window + 1)[:-1]
    values[lead:] = steps + noise[lead:] * 0.6
    values[lead] = shape.first
    if shape.measure_type == "percentage":
        values = np.clip(values, 0.0, 100.0)
    else:
        values = np.clip(values, 0.0, None)
    if shape.measure_type == "count" and float(shape.first).is_integer():
        values = np.round(values)
    places = max(shape.decimal_places, _decimals(shape.first), _decimals(shape.last))
    return [round(float(v), places) for v in values]


def _decimals(value: float) -> int:
    """Decimal places a published figure was printed with, so demo values keep them."""
    text = repr(float(value))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _period(spec: PeriodSpec) -> Period:
    period, _ = Period.objects.get_or_create(
        kind=spec.kind, start=spec.start, end=spec.end, defaults={"label": spec.label}
    )
    return period


def load_demo_history(system, stats: SyncStats) -> int:
    """Write the demo history of every published row of `system`; idempotent."""
    rows = (
        PublishedOverviewRow.objects.filter(
            stocktake__system=system, period__isnull=False
        )
        .exclude(first_value=None)
        .exclude(last_value=None)
        .select_related("indicator", "area", "period")
        .order_by("stocktake__published", "strategy__number", "position")
    )
    demo_return = None
    written = 0
    seen = set()
    for row in rows:
        series_key = (row.indicator_id, row.area_id)
        if series_key in seen:
            continue
        seen.add(series_key)
        indicator: Indicator = row.indicator
        spec = PeriodSpec(
            row.period.kind, row.period.start, row.period.end, row.period.label
        )
        shape = SeriesShape(
            kind=spec.kind,
            first=row.first_value,
            last=row.last_value,
            measure_type=indicator.measure_type,
            decimal_places=indicator.decimal_places,
            key=f"{indicator.key}:{row.area.code}",
        )
        for period_spec, value in zip(
            previous_periods(spec, HISTORY_LENGTH[spec.kind]),
            synthetic_values(shape),
            strict=True,
        ):
            period = _period(period_spec)
            current = Observation.objects.filter(
                indicator=indicator,
                area=row.area,
                period=period,
                breakdown="",
                is_current=True,
            ).first()
            if current is not None:
                continue  # never replace a real value, nor re-write an identical demo one
            if demo_return is None:
                demo_return, _ = Return.objects.get_or_create(
                    system=system,
                    kind=Return.Kind.DEMO,
                    title=DEMO_RETURN_TITLE,
                    defaults={"source": "load_seed_data --demo"},
                )
            Observation.objects.create(
                indicator=indicator,
                area=row.area,
                period=period,
                value=value,
                source_return=demo_return,
                is_synthetic=True,
            )
            written += 1
    if written:
        stats.created["observations (synthetic demo)"] += written
    return written


def demo_data_present(system=None) -> bool:
    qs = Observation.objects.filter(is_synthetic=True, is_current=True)
    if system is not None:
        qs = qs.filter(indicator__system=system)
    return qs.exists()
