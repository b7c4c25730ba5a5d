"""Reads of action plans, in a fixed number of queries however many activities there are."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from actions.models import Action, Milestone, ProgressReport
from indicators.models import Indicator
from scorecard.models import ExceptionFlag

FINISHED = {Action.Status.COMPLETE, Action.Status.CLOSED}


@dataclass
class MilestoneRow:
    milestone: Milestone
    overdue: bool


@dataclass
class ActionRow:
    action: Action
    latest: ProgressReport | None
    milestones: list[MilestoneRow]
    indicators: list[Indicator]
    overdue: bool

    @property
    def overdue_milestones(self) -> int:
        return sum(1 for m in self.milestones if m.overdue)


def is_overdue(action: Action, today: dt.date) -> bool:
    return bool(
        action.due_date and action.due_date < today and action.status not in FINISHED
    )


def action_rows(strategy, *, today: dt.date | None = None) -> list[ActionRow]:
    """The strategy's activities with latest progress, milestones and indicators: four
    queries."""
    today = today or timezone.localdate()
    actions = (
        Action.objects.filter(strategy=strategy)
        .select_related("plan")
        .prefetch_related(
            Prefetch(
                "progress_reports",
                queryset=ProgressReport.objects.order_by("-date", "-position"),
            ),
            Prefetch(
                "milestones", queryset=Milestone.objects.order_by("due_date", "id")
            ),
            Prefetch("indicators", queryset=Indicator.objects.order_by("title")),
        )
        .order_by("plan__start", "position")
    )
    rows = []
    for action in actions:
        reports = list(action.progress_reports.all())
        rows.append(
            ActionRow(
                action=action,
                latest=reports[0] if reports else None,
                milestones=[
                    MilestoneRow(
                        m, overdue=m.completed_on is None and m.due_date < today
                    )
                    for m in action.milestones.all()
                ],
                indicators=list(action.indicators.all()),
                overdue=is_overdue(action, today),
            )
        )
    return rows


@dataclass
class ExceptionItem:
    indicator: Indicator
    flags: list[ExceptionFlag] = field(default_factory=list)


def exception_report_items(strategy) -> list[ExceptionItem]:
    """Indicators of the strategy with open exception flags (the exception report), each
    with its flags; two queries."""
    flags = (
        ExceptionFlag.objects.filter(
            cleared_at__isnull=True, indicator__assignments__strategy=strategy
        )
        .select_related("indicator", "area")
        .order_by("indicator__title", "rule", "area__code")
    )
    items: dict[int, ExceptionItem] = {}
    for flag in flags:
        item = items.setdefault(flag.indicator_id, ExceptionItem(flag.indicator))
        item.flags.append(flag)
    return list(items.values())


def exception_reports(strategies) -> dict[int, list[ExceptionItem]]:
    """exception_report_items for many strategies at once: two queries."""
    from django.db.models import F

    flags = (
        ExceptionFlag.objects.filter(
            cleared_at__isnull=True, indicator__assignments__strategy__in=strategies
        )
        .annotate(strategy_id=F("indicator__assignments__strategy_id"))
        .select_related("indicator", "area")
        .order_by("indicator__title", "rule", "area__code")
    )
    reports: dict[int, dict[int, ExceptionItem]] = defaultdict(dict)
    for flag in flags:
        items = reports[flag.strategy_id]
        items.setdefault(flag.indicator_id, ExceptionItem(flag.indicator)).flags.append(
            flag
        )
    return {sid: list(items.values()) for sid, items in reports.items()}


def unaddressed_exceptions(strategy) -> list[ExceptionItem]:
    """Indicators on the strategy's exception report that no open activity of the strategy
    aims to move: the scorecard raises an alert for each."""
    items = exception_report_items(strategy)
    if not items:
        return []
    addressed = set(
        Action.indicators.through.objects.filter(
            action__strategy=strategy, indicator_id__in=[i.indicator.pk for i in items]
        )
        .exclude(action__status__in=FINISHED)
        .values_list("indicator_id", flat=True)
    )
    return [item for item in items if item.indicator.pk not in addressed]


def open_action_ids_without_progress(strategy_ids, cycle) -> dict[int, list[Action]]:
    """Per strategy, the unfinished activities with no progress update in `cycle`."""
    reported = set(
        ProgressReport.objects.filter(
            action__strategy_id__in=strategy_ids, cycle=cycle
        ).values_list("action_id", flat=True)
    )
    owed: dict[int, list[Action]] = defaultdict(list)
    for action in (
        Action.objects.filter(strategy_id__in=strategy_ids)
        .exclude(status__in=FINISHED)
        .order_by("position")
    ):
        if action.pk not in reported:
            owed[action.strategy_id].append(action)
    return owed


@dataclass
class AuditEntry:
    at: dt.datetime
    who: str
    what: str
    changes: list  # [FieldChange]
    note: str = ""


def audit_trail(model, ids, *, label=None) -> list[AuditEntry]:
    """Who changed what and when, before and after, for rows `ids` of `model`, newest
    first: two queries (the history, and the names of users it points at)."""
    from actions.services import FieldChange, _display, field_label, user_names_for

    records = list(
        model.history.filter(id__in=list(ids))
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    users = user_names_for(model, records)
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.name not in {"id", "version", "created_at", "updated_at"}
    ]
    kinds = {"+": "Created", "~": "Changed", "-": "Deleted"}
    entries: list[AuditEntry] = []
    previous = None
    for record in records:
        if previous is not None and previous.id != record.id:
            previous = None
        changes = []
        if previous is not None:
            for f in fields:
                old = getattr(previous, f.attname, None)
                new = getattr(record, f.attname, None)
                if old != new:
                    changes.append(
                        FieldChange(
                            f.name,
                            field_label(f),
                            _display(previous, f, old, users),
                            _display(record, f, new, users),
                        )
                    )
        user = record.history_user
        name = label(record) if label else model._meta.verbose_name.capitalize()
        entries.append(
            AuditEntry(
                at=record.history_date,
                who=(user.get_full_name() or user.get_username()) if user else "System",
                what=f"{kinds.get(record.history_type, 'Changed')}: {name}",
                changes=changes,
                note=record.history_change_reason or "",
            )
        )
        previous = record
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
