"""What each person owes for the open reporting cycles ("My updates"), and the reminder
e-mails the beat schedule sends a set number of days before a deadline, once per person
per cycle however often the task runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from actions.selectors import open_action_ids_without_progress
from scorecard.models import (
    ExceptionCommentary,
    ExceptionFlag,
    ReminderSent,
    ReportingCycle,
)
from strategies.models import SdgMembership

logger = logging.getLogger(__name__)


@dataclass
class OwedItem:
    cycle: ReportingCycle
    strategy: object
    kind: str  # "progress", "commentary", "approval"
    label: str
    url: str
    status: str

    @property
    def due(self) -> dt.date:
        return self.cycle.deadline


def updates_owed(user, *, cycle_ids=None) -> list[OwedItem]:
    """Everything the user owes in unpublished cycles of the strategies whose System
    Design Group they belong to: progress updates on unfinished activities, commentary on
    exception-report indicators, and (for leads) submitted commentary awaiting approval by
    someone other than its submitter. A fixed number of queries."""
    if not user.is_authenticated:
        return []
    memberships = list(
        SdgMembership.objects.filter(user=user).select_related(
            "group__strategy__system"
        )
    )
    if not memberships:
        return []
    role_of = {m.group.strategy_id: m.role for m in memberships}
    strategies = {m.group.strategy_id: m.group.strategy for m in memberships}
    cycles = ReportingCycle.objects.filter(
        system_id__in={s.system_id for s in strategies.values()},
        stocktake__isnull=True,
        opens__lte=timezone.localdate(),
    ).select_related("system")
    if cycle_ids is not None:
        cycles = cycles.filter(pk__in=cycle_ids)
    cycles = list(cycles.order_by("deadline"))
    if not cycles:
        return []
    flagged = defaultdict(dict)
    for flag in (
        ExceptionFlag.objects.filter(
            cleared_at__isnull=True,
            indicator__assignments__strategy_id__in=list(strategies),
        )
        .select_related("indicator")
        .values(
            "indicator_id", "indicator__title", "indicator__assignments__strategy_id"
        )
        .distinct()
    ):
        flagged[flag["indicator__assignments__strategy_id"]][flag["indicator_id"]] = (
            flag["indicator__title"]
        )
    commentaries = {
        (c.cycle_id, c.strategy_id, c.indicator_id): c
        for c in ExceptionCommentary.objects.filter(
            cycle__in=cycles, strategy_id__in=list(strategies)
        )
    }
    items: list[OwedItem] = []
    for cycle in cycles:
        system_strategies = [
            s for s in strategies.values() if s.system_id == cycle.system_id
        ]
        owed_actions = open_action_ids_without_progress(
            [s.pk for s in system_strategies], cycle
        )
        for strategy in sorted(system_strategies, key=lambda s: s.number):
            for action in owed_actions.get(strategy.pk, []):
                items.append(
                    OwedItem(
                        cycle,
                        strategy,
                        "progress",
                        f"Progress update: {action.title}",
                        reverse("actions:action_detail", args=[action.pk]),
                        "No update yet",
                    )
                )
            for indicator_id, title in sorted(
                flagged[strategy.pk].items(), key=lambda kv: kv[1]
            ):
                commentary = commentaries.get((cycle.pk, strategy.pk, indicator_id))
                url = reverse(
                    "workflow:commentary",
                    args=[cycle.pk, strategy.pk, indicator_id],
                )
                status = commentary.status if commentary else None
                if status in (None, "draft", "returned"):
                    items.append(
                        OwedItem(
                            cycle,
                            strategy,
                            "commentary",
                            f"Exception commentary: {title}",
                            url,
                            commentary.get_status_display()
                            if commentary
                            else "Not started",
                        )
                    )
                elif (
                    status == "submitted"
                    and role_of[strategy.pk] == SdgMembership.Role.LEAD
                    and commentary.submitted_by_id != user.pk
                ):
                    items.append(
                        OwedItem(
                            cycle,
                            strategy,
                            "approval",
                            f"Approve commentary: {title}",
                            url,
                            commentary.get_status_display(),
                        )
                    )
    return items


def reminder_days() -> int:
    return int(getattr(settings, "WORKFLOW_REMINDER_DAYS_BEFORE", 7))


def send_due_reminders(*, today: dt.date | None = None) -> int:
    """E-mail everyone who owes something for a cycle whose deadline is within the reminder
    window; at most once per person per cycle (a unique row claims the send first)."""
    today = today or timezone.localdate()
    window_end = today + dt.timedelta(days=reminder_days())
    cycles = list(
        ReportingCycle.objects.filter(
            stocktake__isnull=True, deadline__gte=today, deadline__lte=window_end
        )
    )
    sent = 0
    if not cycles:
        return 0
    users = (
        get_user_model()
        .objects.filter(
            sdg_memberships__group__strategy__system_id__in={
                c.system_id for c in cycles
            },
            is_active=True,
        )
        .distinct()
    )
    already = set(
        ReminderSent.objects.filter(cycle__in=cycles).values_list("cycle_id", "user_id")
    )
    for user in users:
        if not user.email:
            continue
        for cycle in cycles:
            if (cycle.pk, user.pk) in already:
                continue
            items = updates_owed(user, cycle_ids=[cycle.pk])
            if not items:
                continue
            try:
                with transaction.atomic():
                    ReminderSent.objects.create(
                        cycle=cycle, user=user, item_count=len(items)
                    )
                    send_mail(
                        subject=f"{len(items)} updates due by "
                        f"{cycle.deadline:%d %B %Y}: {cycle.title}",
                        message=_reminder_text(user, cycle, items),
                        from_email=None,
                        recipient_list=[user.email],
                    )
            except IntegrityError:
                continue  # another run claimed it first
            sent += 1
    logger.info("Sent %s workflow reminders", sent)
    return sent


def _reminder_text(user, cycle, items) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    lines = [
        f"Dear {user.get_full_name() or user.get_username()},",
        "",
        f"These updates are due by {cycle.deadline:%d %B %Y} for {cycle.title}:",
        "",
    ]
    lines += [
        f"- {item.strategy.name}: {item.label}\n  {base}{item.url}" for item in items
    ]
    lines += ["", f"See all your updates: {base}{reverse('workflow:my_updates')}"]
    return "\n".join(lines)
