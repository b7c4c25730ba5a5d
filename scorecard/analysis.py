"""Everything the scorecard computes for one series, from plain data to a plain result.

Pure: no Django. The recompute service reads the database into `SeriesInput`s, calls
`analyse_series` for each, and writes the `SeriesOutput`s back; the statistics themselves
live in `indicators.analysis`, each checked against its method's reference values.

A series arrives either as `Point`s or, from the batch path, as `PointColumns` already
in time order with its SPC computed for many series at once (`spc_batch`); both take
the same road through `analyse_series`, so both give the same result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from indicators.analysis import choose, comparison, intervals, rag, trend
from indicators.analysis.common import polarity_sign
from indicators.analysis.spc import CONCERN, CONSISTENTLY_FAILS, SpcResult
from indicators.analysis.spc import spc as statistical_process_control
from indicators.analysis.spc_batch import BatchPoints, SpcBatch

# How many points the sparkline and "first value" of the overview show, by period type.
DISPLAY_POINTS = {
    "month": 13,
    "quarter": 9,
    "financial_year": 5,
    "calendar_year": 5,
    "multi_year": 5,
}
# Days after a period ends before its value is normally published, by period type.
DEFAULT_PUBLICATION_LAG = {
    "month": 62,
    "quarter": 92,
    "financial_year": 183,
    "calendar_year": 183,
    "multi_year": 365,
}
PERIOD_DAYS = {
    "month": 31,
    "quarter": 92,
    "financial_year": 366,
    "calendar_year": 366,
    "multi_year": 366,
}
RATE_MULTIPLIERS = {"rate_per_1000": 1_000, "rate_per_100000": 100_000}


@dataclass(frozen=True)
class TargetInput:
    id: int
    kind: str
    value: float | None
    baseline_value: float | None
    baseline_period_id: int | None
    applies_to: date | None
    amber_tolerance: float | None
    text: str


@dataclass(frozen=True)
class Point:
    observation_id: int
    return_id: int
    period_id: int
    label: str
    start: date
    end: date
    value: float
    lower: float | None
    upper: float | None
    numerator: float | None
    denominator: float | None
    is_synthetic: bool


@dataclass(frozen=True)
class PointColumns:
    """A series' points as columns, oldest first (ordered by period start). Optional
    numbers are None (or NaN) where missing."""

    observation_ids: Sequence[int]
    return_ids: Sequence[int]
    period_ids: Sequence[int]
    labels: Sequence[str]
    ends: Sequence[date]
    values: Sequence[float]
    lower: Sequence[float | None]
    upper: Sequence[float | None]
    numerator: Sequence[float | None]
    denominator: Sequence[float | None]
    is_synthetic: Sequence[bool]

    @classmethod
    def from_points(cls, points: Iterable[Point]) -> PointColumns:
        ordered = sorted(points, key=lambda p: p.start)
        return cls(
            observation_ids=[p.observation_id for p in ordered],
            return_ids=[p.return_id for p in ordered],
            period_ids=[p.period_id for p in ordered],
            labels=[p.label for p in ordered],
            ends=[p.end for p in ordered],
            values=[p.value for p in ordered],
            lower=[p.lower for p in ordered],
            upper=[p.upper for p in ordered],
            numerator=[p.numerator for p in ordered],
            denominator=[p.denominator for p in ordered],
            is_synthetic=[p.is_synthetic for p in ordered],
        )


@dataclass(frozen=True)
class BatchRow:
    """A series' row in an `SpcBatch` computed from exactly its values, in time order,
    with its improvement direction and screening."""

    batch: SpcBatch
    index: int


@dataclass
class SeriesInput:
    title: str
    measure_type: str
    unit: str
    decimals: int
    polarity: str
    period_type: str
    points: list[Point]
    england_by_period: dict[int, float] = field(default_factory=dict)
    is_england: bool = False
    targets: list[TargetInput] = field(default_factory=list)
    amber_tolerance: float = 5.0
    rebase_period_ids: set[int] = field(default_factory=set)
    screen_outliers: bool = True
    fix_limits_after: int | None = None
    publication_lag_days: int | None = None
    as_at: date = field(default_factory=date.today)
    # The batch path gives columns instead of points, and the series' SPC row.
    columns: PointColumns | None = None
    spc_row: BatchRow | None = None


@dataclass
class SeriesOutput:
    """The SeriesResult fields, JSON-ready but for one thing: a batch row's
    fields["spc"]["points"] is its `BatchPoints` (see `plain_fields`)."""

    fields: dict
    rules: dict[str, str]  # rule -> reason in words, for each exception rule that fires

    def plain_fields(self) -> dict:
        """The fields as plain JSON-ready data."""
        spc = self.fields.get("spc")
        if spc is None or not isinstance(spc.get("points"), BatchPoints):
            return self.fields
        return {**self.fields, "spc": {**spc, "points": spc["points"].records()}}


def _display_unit(series: SeriesInput) -> str:
    return "%" if series.measure_type == "percentage" else ""


def _present(number: float | None) -> float | None:
    return None if number is None or math.isnan(number) else number


def _with_interval(
    series: SeriesInput, columns: PointColumns, i: int
) -> tuple[float | None, float | None]:
    """Point i's 95% interval as supplied, or computed from its counts."""
    lower, upper = _present(columns.lower[i]), _present(columns.upper[i])
    if lower is not None and upper is not None:
        return lower, upper
    numerator = _present(columns.numerator[i])
    denominator = _present(columns.denominator[i])
    if numerator is None or not denominator:
        return None, None
    if series.measure_type == "percentage":
        interval = intervals.wilson_interval(numerator, denominator, multiplier=100)
    elif series.measure_type in RATE_MULTIPLIERS:
        interval = intervals.rate_interval(
            numerator, denominator, multiplier=RATE_MULTIPLIERS[series.measure_type]
        )
    else:
        return None, None
    return interval.lower, interval.upper


def _applicable_target(series: SeriesInput, latest_end: date) -> TargetInput | None:
    """The target in force for the latest period: the earliest one not yet past, else the
    last one to have applied; targets without dates apply throughout."""
    dated = sorted(
        (t for t in series.targets if t.applies_to), key=lambda t: t.applies_to
    )
    for target in dated:
        if target.applies_to >= latest_end:
            return target
    undated = [t for t in series.targets if not t.applies_to]
    if undated:
        return undated[0]
    return dated[-1] if dated else None


def _overdue(
    series: SeriesInput, latest_end: date, latest_label: str
) -> tuple[bool, str]:
    lag = series.publication_lag_days
    if lag is None:
        lag = DEFAULT_PUBLICATION_LAG[series.period_type]
    next_end = latest_end + timedelta(days=PERIOD_DAYS[series.period_type])
    due = next_end + timedelta(days=lag)
    if series.as_at > due:
        return True, (
            f"Data overdue: the value after {latest_label} was due by "
            f"{due:%d %b %Y}; the latest is still {latest_label}"
        )
    return False, ""


def analyse_series(series: SeriesInput) -> SeriesOutput:
    c = (
        series.columns
        if series.columns is not None
        else PointColumns.from_points(series.points)
    )
    count = len(c.values)
    unit = _display_unit(series)
    decimals = series.decimals
    f: dict = {
        "point_count": count,
        "has_synthetic": any(c.is_synthetic),
        "inputs": {
            "returns": sorted(set(c.return_ids)),
            "observations": list(c.observation_ids),
        },
    }
    rules: dict[str, str] = {}
    if not count:
        f.update(method="insufficient_data", spc_reason="No values yet")
        return SeriesOutput(f, rules)

    last = count - 1
    latest_value, latest_label, latest_end = (
        c.values[last],
        c.labels[last],
        c.ends[last],
    )
    previous_value = c.values[last - 1] if count > 1 else None
    first = max(count - DISPLAY_POINTS[series.period_type], 0)
    f.update(
        latest_value=latest_value,
        latest_period_id=c.period_ids[last],
        previous_value=previous_value,
        change=latest_value - previous_value if previous_value is not None else None,
        window_first_value=c.values[first],
        window_first_label=c.labels[first],
        sparkline=[
            [label, value]
            for label, value in zip(c.labels[first:], c.values[first:], strict=True)
        ],
    )
    # Only the latest point's interval is needed, but for the recent trend.
    latest_lower, latest_upper = _with_interval(series, c, last)
    choice = choose.choose_method(
        series.period_type, count, has_intervals=latest_lower is not None
    )
    f["method"] = choice.method

    target = _applicable_target(series, latest_end)
    england_latest = series.england_by_period.get(c.period_ids[last])

    if choice.method == choose.SPC:
        result = _spc(series, c, target, unit, decimals)
        f.update(
            variation=result.variation,
            assurance=result.assurance or "",
            spc_reason=result.reason,
            spc=_spc_json(result),
        )
        if result.variation == CONCERN:
            rules["special_cause_concern"] = result.reason
        if result.assurance == CONSISTENTLY_FAILS:
            rules["failing_target"] = result.assurance_reason or result.reason
    else:
        f["spc_reason"] = choice.reason

    if not series.is_england and england_latest is not None:
        compared = comparison.compare_with_england(
            latest_value,
            latest_lower,
            latest_upper,
            england_latest,
            polarity=series.polarity,
            unit=unit,
            decimals=decimals,
        )
        f.update(
            england_value=england_latest,
            comparison=compared.label,
            comparison_reason=compared.reason,
        )
        if compared.label in ("Worse", "Worst"):
            rules["worse_than_england"] = compared.reason

    if series.period_type in ("financial_year", "calendar_year"):
        cis = [_with_interval(series, c, i) for i in range(count)]
        marker = trend.recent_trend(
            list(c.values),
            [ci[0] for ci in cis],
            [ci[1] for ci in cis],
            polarity=series.polarity,
            period_labels=list(c.labels),
        )
        f.update(
            trend=marker.label,
            trend_chi_square=marker.chi_square,
            trend_reason=marker.reason,
        )
        if marker.label.endswith("getting worse"):
            rules["trend_worsening"] = marker.reason

    if target is not None:
        baseline = target.baseline_value
        if baseline is None and target.baseline_period_id is not None:
            baseline = next(
                (
                    value
                    for value, period_id in zip(c.values, c.period_ids, strict=True)
                    if period_id == target.baseline_period_id
                ),
                None,
            )
        rating = rag.rag_rating(
            latest_value,
            polarity=series.polarity,
            target_value=target.value,
            target_kind=target.kind,
            baseline_value=baseline,
            england_value=england_latest,
            amber_tolerance=(
                target.amber_tolerance
                if target.amber_tolerance is not None
                else series.amber_tolerance
            ),
            unit=unit,
            decimals=decimals,
        )
        f.update(rag=rating.rating, rag_reason=rating.reason, target_id=target.id)
        if rating.rating == "Red":
            rules["rag_red"] = rating.reason

    if previous_value is not None and choice.method != choose.SPC:
        travel = rag.direction_of_travel(
            latest_value,
            previous_value,
            polarity=series.polarity,
            latest_label=latest_label,
            previous_label=c.labels[last - 1],
            unit=unit,
            decimals=decimals,
        )
        f.update(direction=travel.label, direction_reason=travel.reason)

    overdue, reason = _overdue(series, latest_end, latest_label)
    f.update(overdue=overdue, overdue_reason=reason)
    if overdue:
        rules["data_overdue"] = reason
    return SeriesOutput(f, rules)


def _spc(
    series: SeriesInput,
    c: PointColumns,
    target: TargetInput | None,
    unit: str,
    decimals: int,
) -> SpcResult:
    """The series' XmR chart: its batch row when it has one and needs neither rebasing
    nor fixed limits (which the batch leaves to `spc`), else computed alone."""
    direction = polarity_sign(series.polarity)
    absolute = target.value if target and target.kind == "absolute" else None
    rebase_at = (
        [
            i
            for i, period_id in enumerate(c.period_ids)
            if i and period_id in series.rebase_period_ids
        ]
        if series.rebase_period_ids
        else []
    )
    row = series.spc_row
    if (
        row is not None
        and not rebase_at
        and series.fix_limits_after is None
        and row.batch.computed[row.index]
    ):
        batch = row.batch
        if (
            int(batch.improvement_direction[row.index]) != direction
            or bool(batch.screen_outliers[row.index]) != series.screen_outliers
            or batch.series_values(row.index).tolist() != list(c.values)
        ):
            raise ValueError("The series' SPC batch row has other inputs.")
        return batch.result(
            row.index,
            period_labels=c.labels,
            target=absolute,
            unit=unit,
            decimals=decimals,
        )
    return statistical_process_control(
        list(c.values),
        improvement_direction=direction,
        period_labels=list(c.labels),
        target=absolute,
        rebase_at=rebase_at,
        fix_after_n_points=series.fix_limits_after,
        screen_outliers=series.screen_outliers,
        unit=unit,
        decimals=decimals,
    )


def _spc_json(result: SpcResult) -> dict:
    # Keys in the order PostgreSQL prints a jsonb object (shorter keys first), so the
    # batch writer can tell a stored value is unchanged from its text alone.
    # A batch row keeps its BatchPoints: the writer turns them into these dicts
    # (`records()`) or straight into their JSON text (`json()`), which is faster.
    points = (
        result.points
        if isinstance(result.points, BatchPoints)
        else [
            {"rule": p.rule, "type": p.point_type, "label": p.label, "value": p.value}
            for p in result.points
        ]
    )
    # A rebase on the latest point has one point and no spread: its limits are NaN,
    # stored as null (JSON has no NaN).
    return {
        "groups": [
            {
                "end": g.end,
                "mean": _present(g.limits.mean),
                "start": g.start,
                "is_trial": g.is_trial,
                "lower_limit": _present(g.limits.lower_limit),
                "upper_limit": _present(g.limits.upper_limit),
                "lower_two_sigma": _present(g.limits.lower_two_sigma),
                "upper_two_sigma": _present(g.limits.upper_two_sigma),
            }
            for g in result.groups
        ],
        "points": points,
        "reason": result.reason,
        "variation_icon": result.variation_icon,
        "assurance_reason": result.assurance_reason,
    }
