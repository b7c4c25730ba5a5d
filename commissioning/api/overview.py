"""The performance overview of one strategy, row by row, as the strategy page shows it:
under each aim (the first level of the system's framework) each indicator of the strategy
with its headline series, and that series' computed flags. A fixed number of queries
however many indicators.

`as_at` gives the overview as it stood on a date: the values of periods ended by then,
each in the version that was current at the end of that day (a value loaded later for a
past period, such as transcribed history, counts in its first version), analysed afresh
with the same `analyse_series` the recompute uses; nothing is written."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Prefetch
from django.utils import timezone

from commissioning.api.selectors import display_areas, status_of
from indicators.models import (
    Area,
    Indicator,
    IndicatorAssignment,
    Observation,
    Period,
    Return,
    Target,
)
from scorecard.analysis import Point, analyse_series
from scorecard.models import ExceptionFlag, ExceptionRule, SeriesResult
from scorecard.services.recompute import RESULT_DEFAULTS, _Context, default_rules
from strategies.models import FrameworkItem, Strategy


@dataclass
class FiredRule:
    rule: str
    severity: str
    reason: str
    raised_at: datetime | None = None

    @property
    def label(self) -> str:
        return ExceptionRule.Rule(self.rule).label


@dataclass
class OverviewRow:
    position: int
    aim: FrameworkItem | None
    indicator: Indicator
    polarity: str
    area: Area | None
    result: SeriesResult | None
    rules: list[FiredRule] = field(default_factory=list)

    @property
    def status(self) -> str:
        return status_of(self.result)


def overview_rows(
    strategy: Strategy, *, as_at: date | None = None
) -> list[OverviewRow]:
    assignments = list(
        IndicatorAssignment.objects.filter(strategy=strategy)
        .select_related("indicator")
        .prefetch_related(
            Prefetch(
                "indicator__framework_items",
                queryset=FrameworkItem.objects.filter(strategy=strategy)
                .select_related("level")
                .order_by("level__position", "position"),
            )
        )
        .order_by("position", "indicator__title")
    )
    indicator_ids = [a.indicator_id for a in assignments]
    areas = display_areas(strategy.system, indicator_ids)
    if as_at is None:
        results, rules = _current_results(areas)
    else:
        results, rules = _results_as_at(strategy.system, areas, as_at)
    area_objects = Area.objects.in_bulk(set(areas.values()))
    rows = []
    for a in assignments:
        items = list(a.indicator.framework_items.all())
        top = [i for i in items if items and i.level_id == items[0].level_id]
        area_id = areas.get(a.indicator_id)
        key = (a.indicator_id, area_id)
        rows.append(
            OverviewRow(
                position=a.position,
                aim=top[0] if top else None,
                indicator=a.indicator,
                polarity=a.effective_polarity,
                area=area_objects.get(area_id),
                result=results.get(key),
                rules=rules.get(key, []),
            )
        )
    # Under each aim in the framework's order; rows without an aim last.
    rows.sort(
        key=lambda r: (
            r.aim is None,
            r.aim.position if r.aim else 0,
            r.aim.pk if r.aim else 0,
            r.position,
        )
    )
    return rows


def _current_results(areas: dict[int, int]):
    wanted = set(areas.items())
    results = {
        (r.indicator_id, r.area_id): r
        for r in SeriesResult.objects.filter(
            indicator_id__in=list(areas), breakdown=""
        ).select_related("latest_period", "target")
        if (r.indicator_id, r.area_id) in wanted
    }
    rules: dict[tuple[int, int], list[FiredRule]] = defaultdict(list)
    for flag in ExceptionFlag.objects.filter(
        indicator_id__in=list(areas), breakdown="", cleared_at__isnull=True
    ).order_by("rule"):
        key = (flag.indicator_id, flag.area_id)
        if key in wanted:
            rules[key].append(
                FiredRule(flag.rule, flag.severity, flag.reason, flag.raised_at)
            )
    return results, rules


def _version_known_at(versions: list[tuple], moment: datetime):
    """The version current at `moment`, else (history loaded later) the first one."""
    known = [
        v for v in versions if v[-2] <= moment and (v[-1] is None or v[-1] > moment)
    ]
    if known:
        return known[-1]
    earliest = versions[0]
    return earliest if earliest[-2] > moment else None


def _results_as_at(system, areas: dict[int, int], as_at: date):
    if not areas:
        return {}, {}
    moment = timezone.make_aware(datetime.combine(as_at, time.max))
    context = _Context.load(set(areas))
    england = context.england
    wanted_areas = set(areas.values()) | ({england} if england else set())
    rows = (
        Observation.objects.filter(
            indicator_id__in=list(areas),
            area_id__in=wanted_areas,
            breakdown="",
            value__isnull=False,
            period__end__lte=as_at,
        )
        .exclude(source_return__status=Return.Status.ROLLED_BACK)
        .values_list(
            "id", "indicator_id", "area_id", "source_return_id", "period_id",
            "period__label", "period__start", "period__end", "value", "lower_ci",
            "upper_ci", "numerator", "denominator", "is_synthetic",
            "recorded_at", "superseded_at",
        )
        .order_by("period__start", "recorded_at", "id")
    )  # fmt: skip
    versions: dict[tuple[int, int, int], list[tuple]] = defaultdict(list)
    for row in rows:
        versions[row[1], row[2], row[4]].append(row)
    points: dict[tuple[int, int], list[Point]] = defaultdict(list)
    england_values: dict[int, dict[int, float]] = defaultdict(dict)
    for (indicator_id, area_id, period_id), found in versions.items():
        row = _version_known_at(found, moment)
        if row is None:
            continue
        if area_id == england:
            england_values[indicator_id][period_id] = row[8]
        if areas.get(indicator_id) == area_id:
            points[indicator_id, area_id].append(
                Point(
                    observation_id=row[0], return_id=row[3], period_id=row[4],
                    label=row[5], start=row[6], end=row[7], value=row[8],
                    lower=row[9], upper=row[10], numerator=row[11],
                    denominator=row[12], is_synthetic=row[13],
                )
            )  # fmt: skip
    enabled = default_rules(system)
    outputs = {}
    for indicator_id, area_id in areas.items():
        series = context.series_input(
            (indicator_id, area_id, ""),
            points=sorted(
                points.get((indicator_id, area_id), []), key=lambda p: p.start
            ),
            england_by_period=england_values.get(indicator_id, {}),
            as_at=as_at,
        )
        outputs[indicator_id, area_id] = analyse_series(series)
    periods = Period.objects.in_bulk(
        {o.fields.get("latest_period_id") for o in outputs.values()} - {None}
    )
    targets = Target.objects.in_bulk(
        {o.fields.get("target_id") for o in outputs.values()} - {None}
    )
    results, rules = {}, {}
    for (indicator_id, area_id), output in outputs.items():
        fields = {**RESULT_DEFAULTS, **output.plain_fields()}
        result = SeriesResult(
            indicator_id=indicator_id, area_id=area_id, breakdown="", **fields
        )
        result.computed_at = moment
        result.latest_period = periods.get(fields.get("latest_period_id"))
        result.target = targets.get(fields.get("target_id"))
        results[indicator_id, area_id] = result
        rules[indicator_id, area_id] = [
            FiredRule(rule, enabled[rule], reason)
            for rule, reason in sorted(output.rules.items())
            if rule in enabled
        ]
    return results, rules
