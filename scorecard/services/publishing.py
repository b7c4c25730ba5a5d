"""Publishing a reporting cycle as a stocktake: values, flags, commentary and action
progress as at that moment, frozen as JSON rows that nothing changes afterwards. Reading a
published stocktake compares its values with today's data to say which were revised."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from actions.models import Action, ProgressReport
from actions.selectors import exception_report_items
from indicators.models import IndicatorAssignment, Observation
from scorecard.models import (
    ExceptionCommentary,
    ReportingCycle,
    SeriesResult,
    SnapshotRow,
    Stocktake,
)
from strategies.models import Strategy

MSG_ALREADY_PUBLISHED = "This reporting cycle has already been published."

SERIES_FIELDS = (
    "latest_value",
    "previous_value",
    "change",
    "method",
    "variation",
    "assurance",
    "spc_reason",
    "england_value",
    "comparison",
    "comparison_reason",
    "trend",
    "trend_reason",
    "rag",
    "rag_reason",
    "direction",
    "direction_reason",
    "overdue",
    "overdue_reason",
    "has_synthetic",
)


def _words(code: str) -> str:
    """A stored code ("special_cause_concern") as words ("Special cause concern")."""
    return (code or "").replace("_", " ").capitalize()


def _overview_rows(system, strategies) -> dict[int, list[dict]]:
    """Per strategy, one row per indicator and series (the system's home area first)."""
    assignments = (
        IndicatorAssignment.objects.filter(strategy__in=strategies)
        .select_related("indicator")
        .order_by("strategy__number", "position", "indicator__title")
    )
    indicator_ids = {a.indicator_id for a in assignments}
    results = defaultdict(list)
    for result in (
        SeriesResult.objects.filter(indicator_id__in=indicator_ids)
        .select_related("area", "latest_period")
        .order_by("area__code", "breakdown")
    ):
        results[result.indicator_id].append(result)
    observation_ids = {
        (o.indicator_id, o.area_id, o.period_id, o.breakdown): (o.pk, o.value)
        for o in Observation.objects.filter(
            indicator_id__in=indicator_ids, is_current=True
        ).only("pk", "indicator_id", "area_id", "period_id", "breakdown", "value")
    }
    rows = defaultdict(list)
    for assignment in assignments:
        series = results.get(assignment.indicator_id, [])
        home = [r for r in series if r.area_id == system.home_area_id]
        for result in home or series:
            key = (
                result.indicator_id,
                result.area_id,
                result.latest_period_id,
                result.breakdown,
            )
            observation = observation_ids.get(key, (None, None))
            row = {name: getattr(result, name) for name in SERIES_FIELDS}
            row.update(
                indicator_id=assignment.indicator_id,
                indicator=assignment.indicator.title,
                polarity=assignment.effective_polarity,
                area_id=result.area_id,
                area=f"{result.area.name} ({result.area.code})",
                breakdown=result.breakdown,
                period_id=result.latest_period_id,
                period=result.latest_period.label if result.latest_period else "",
                observation_id=observation[0],
                method_label=result.get_method_display(),
                variation_label=_words(result.variation),
                assurance_label=_words(result.assurance),
                comparison_label=_words(result.comparison),
            )
            rows[assignment.strategy_id].append(row)
    return rows


def _exception_rows(cycle, strategy) -> list[dict]:
    commentaries = {
        c.indicator_id: c
        for c in ExceptionCommentary.objects.filter(cycle=cycle, strategy=strategy)
    }
    rows = []
    for item in exception_report_items(strategy):
        commentary = commentaries.get(item.indicator.pk)
        rows.append(
            {
                "indicator_id": item.indicator.pk,
                "indicator": item.indicator.title,
                "flags": [
                    {
                        "rule": flag.get_rule_display(),
                        "severity": flag.get_severity_display(),
                        "reason": flag.reason,
                        "area": flag.area.code,
                    }
                    for flag in item.flags
                ],
                "commentary": None
                if commentary is None
                else {
                    "id": commentary.pk,
                    "status": commentary.status,
                    "status_label": commentary.get_status_display(),
                    "story": commentary.story,
                    "helping": commentary.helping,
                    "hindering": commentary.hindering,
                    "actions_taken": commentary.actions_taken,
                    "expected_recovery": commentary.expected_recovery.isoformat()
                    if commentary.expected_recovery
                    else None,
                },
            }
        )
    return rows


def _action_rows(cycle, strategy) -> list[dict]:
    rows = []
    actions = (
        Action.objects.filter(strategy=strategy)
        .prefetch_related("milestones")
        .order_by("position")
    )
    latest: dict[int, ProgressReport] = {}
    for report in ProgressReport.objects.filter(action__strategy=strategy).order_by(
        "date", "position"
    ):
        latest[report.action_id] = report
    for action in actions:
        report = latest.get(action.pk)
        rows.append(
            {
                "action_id": action.pk,
                "title": action.title,
                "timeframe": action.timeframe,
                "due_date": action.due_date.isoformat() if action.due_date else None,
                "status": action.get_status_display() if action.status else "",
                "rag": action.rag,
                "progress": None
                if report is None
                else {
                    "date": report.date.isoformat(),
                    "status": report.get_status_display() if report.status else "",
                    "rag": report.rag,
                    "rag_reason": report.rag_reason,
                    "percent_complete": report.percent_complete,
                    "text": report.text,
                    "author": report.author_name,
                    "in_this_cycle": report.cycle_id == cycle.pk,
                },
                "milestones": [
                    {
                        "title": m.title,
                        "due_date": m.due_date.isoformat(),
                        "completed_on": m.completed_on.isoformat()
                        if m.completed_on
                        else None,
                    }
                    for m in action.milestones.all()
                ],
            }
        )
    return rows


@transaction.atomic
def stocktake_publish(*, cycle: ReportingCycle, user) -> Stocktake:
    """Freeze the cycle as a stocktake. Callers check `can_publish_stocktake` first."""
    cycle = ReportingCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.is_published:
        raise ValidationError(MSG_ALREADY_PUBLISHED)
    system = cycle.system
    now = timezone.now()
    stocktake = Stocktake.objects.create(
        system=system,
        slug=f"{slugify(cycle.title)[:80]}-{cycle.pk}",
        title=cycle.title,
        published=timezone.localdate(),
        published_at=now,
        published_by=user,
        source="Published in the application",
    )
    strategies = list(Strategy.objects.filter(system=system).order_by("number"))
    overview = _overview_rows(system, strategies)
    snapshot = []
    for strategy in strategies:
        for kind, rows in (
            (SnapshotRow.Kind.OVERVIEW, overview.get(strategy.pk, [])),
            (SnapshotRow.Kind.EXCEPTION, _exception_rows(cycle, strategy)),
            (SnapshotRow.Kind.ACTION, _action_rows(cycle, strategy)),
        ):
            snapshot.extend(
                SnapshotRow(
                    stocktake=stocktake,
                    kind=kind,
                    strategy=strategy,
                    position=i,
                    data=row,
                )
                for i, row in enumerate(rows)
            )
    SnapshotRow.objects.bulk_create(snapshot)
    cycle.stocktake = stocktake
    cycle.save(update_fields=["stocktake", "updated_at"])
    return stocktake


@dataclass
class StrategySnapshot:
    strategy: Strategy
    overview: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)


def stocktake_snapshot(stocktake: Stocktake) -> list[StrategySnapshot]:
    """The stocktake exactly as published, each overview row marked `revised` (with the
    value now) when the observation it showed has since been revised or withdrawn. Three
    queries."""
    rows = list(
        SnapshotRow.objects.filter(stocktake=stocktake)
        .select_related("strategy")
        .order_by("strategy__number", "kind", "position")
    )
    shown = [r.data for r in rows if r.kind == SnapshotRow.Kind.OVERVIEW]
    current = {}
    if shown:
        for o in Observation.objects.filter(
            indicator_id__in={d["indicator_id"] for d in shown},
            period_id__in={d["period_id"] for d in shown if d["period_id"]},
            is_current=True,
        ).only("pk", "indicator_id", "area_id", "period_id", "breakdown", "value"):
            current[(o.indicator_id, o.area_id, o.period_id, o.breakdown)] = o
    by_strategy: dict[int, StrategySnapshot] = {}
    for row in rows:
        entry = by_strategy.setdefault(row.strategy_id, StrategySnapshot(row.strategy))
        data = dict(row.data)
        if row.kind == SnapshotRow.Kind.OVERVIEW:
            now = current.get(
                (
                    data["indicator_id"],
                    data["area_id"],
                    data["period_id"],
                    data["breakdown"],
                )
            )
            published_id = data.get("observation_id")
            data["revised"] = published_id is not None and (
                now is None or now.pk != published_id
            )
            data["value_now"] = None if now is None else now.value
            entry.overview.append(data)
        elif row.kind == SnapshotRow.Kind.EXCEPTION:
            entry.exceptions.append(data)
        else:
            entry.actions.append(data)
    return list(by_strategy.values())
