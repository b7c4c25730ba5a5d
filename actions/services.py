"""Every write to action plans: activities, progress updates, milestones.

Callers (pages, the API) check permission first with strategies/permissions.py; these
functions validate everything, report every problem at once (ValidationError with a dict)
and write atomically. Activities carry a `version`: an update names the version it was read
at and is refused with `EditConflict` when someone else saved in between."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import nh3
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone

from actions.models import Action, ActionPlan, Milestone, ProgressReport, Rag
from commissioning.html import plain_text
from commissioning.signals import rows_updated

NARRATIVE_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "br"}

MSG_CONFLICT = (
    "Your changes were not saved: someone else saved this after you opened it. "
    "Their changes are shown below; review them and make your changes again."
)
MSG_LOCKED = "This reporting period has been published and is locked: it can no longer be changed."
MSG_RAG_REASON = "Give a reason for the RAG rating"
MSG_PERCENT = "Percentage complete must be a whole number from 0 to 100"
MSG_TITLE = "Enter a title"
MSG_NARRATIVE = "Enter the progress narrative"
MSG_INDICATOR_SYSTEM = "Indicators must belong to the same system as the activity"


def sanitise_narrative(text: str) -> str:
    """Rich text users write: paragraphs, lists, bold, italic, links (http, https, mailto)."""
    return nh3.clean(
        text or "",
        tags=NARRATIVE_TAGS,
        # "*": nothing, so the generic defaults (title, lang) are dropped too.
        attributes={"a": {"href"}, "*": set()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def cycle_is_published(cycle_id: int | None) -> bool:
    """Asked of the database, not of an object that may have been read before publishing."""
    from scorecard.models import ReportingCycle

    return (
        bool(cycle_id)
        and ReportingCycle.objects.filter(pk=cycle_id, stocktake__isnull=False).exists()
    )


class PeriodLocked(Exception):
    """A write into a published reporting period."""

    def __init__(self, message: str = MSG_LOCKED):
        super().__init__(message)
        self.message = message


@dataclass
class FieldChange:
    field: str
    label: str
    before: str
    after: str


class EditConflict(Exception):
    """The row changed since the caller read it; nothing was written."""

    def __init__(self, *, current, changes: list[FieldChange], by, at):
        super().__init__(MSG_CONFLICT)
        self.message = MSG_CONFLICT
        self.current = current
        self.changes = changes
        self.by = by
        self.at = at


def _display(instance, field: models.Field, value, users: dict | None = None) -> str:
    if value in (None, ""):
        return "(blank)"
    if getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if users is not None and field.is_relation and value in users:
        from django.contrib.auth import get_user_model

        if field.related_model is get_user_model():
            return users[value]
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y").lstrip("0")
    if isinstance(field, models.TextField):  # rich text: the words, not the markup
        return plain_text(value)
    return str(value)


FIELD_LABELS = {"rag": "RAG", "rag_reason": "Reason for the RAG rating"}


def field_label(field: models.Field) -> str:
    return FIELD_LABELS.get(field.name) or str(field.verbose_name).capitalize()


def user_names_for(model, records) -> dict:
    """Names of the users that user fields of `records` point at: one query."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    attnames = [
        f.attname
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is user_model
    ]
    ids = {getattr(r, a, None) for r in records for a in attnames} - {None}
    if not ids:
        return {}
    return {
        u.pk: u.get_full_name() or u.get_username()
        for u in user_model.objects.filter(pk__in=ids)
    }


def changes_between(
    model, pk: int, from_version: int
) -> tuple[list[FieldChange], object, object]:
    """Field-by-field what changed since `from_version`, from the audit history: the
    changes, who made the latest and when."""
    history = model.history.filter(id=pk)
    before = history.filter(version=from_version).order_by("-history_id").first()
    latest = history.order_by("-history_id").select_related("history_user").first()
    changes: list[FieldChange] = []
    if before is not None and latest is not None:
        users = user_names_for(model, [before, latest])
        for field in model._meta.concrete_fields:
            if field.name in {"id", "version", "created_at", "updated_at"}:
                continue
            if not hasattr(latest, field.attname):
                continue
            old, new = getattr(before, field.attname), getattr(latest, field.attname)
            if old != new:
                changes.append(
                    FieldChange(
                        field=field.name,
                        label=field_label(field),
                        before=_display(before, field, old, users),
                        after=_display(latest, field, new, users),
                    )
                )
    by = latest.history_user if latest is not None else None
    at = latest.history_date if latest is not None else None
    return changes, by, at


def versioned_update(
    instance, *, expected_version: int, user, values: dict, change_reason: str = ""
):
    """UPDATE ... WHERE id = .. AND version = ..: writes `values` only if nobody saved since
    `expected_version`, then records the change in the audit history. Returns the fresh row."""
    model = type(instance)
    updated = model.objects.filter(pk=instance.pk, version=expected_version).update(
        **values, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        changes, by, at = changes_between(model, instance.pk, expected_version)
        raise EditConflict(
            current=model.objects.get(pk=instance.pk), changes=changes, by=by, at=at
        )
    fresh = model.objects.get(pk=instance.pk)
    rows_updated.send(sender=model)
    # .update() sends no signals, so the history row is written here.
    model.history.bulk_history_create(
        [fresh], update=True, default_user=user, default_change_reason=change_reason
    )
    return fresh


def _problems_for_action(values: dict, strategy) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not (values.get("title") or "").strip():
        problems["title"] = [MSG_TITLE]
    for indicator in values.get("indicators") or []:
        if indicator.system_id != strategy.system_id:
            problems["indicators"] = [MSG_INDICATOR_SYSTEM]
    start, due = values.get("timeframe_start"), values.get("due_date")
    if start and due and due < start:
        problems["due_date"] = ["The due date must be on or after the start"]
    return problems


ACTION_FIELDS = (
    "title",
    "description",
    "timeframe",
    "timeframe_start",
    "due_date",
    "status",
    "rag",
)


@transaction.atomic
def action_create(*, strategy, user, values: dict) -> Action:
    problems = _problems_for_action(values, strategy)
    if problems:
        raise ValidationError(problems)
    plan = ActionPlan.objects.filter(system=strategy.system).order_by(
        "-start"
    ).first() or ActionPlan.objects.create(
        system=strategy.system, slug="action-plan", name="Action plan"
    )
    position = (
        Action.objects.filter(plan=plan, strategy=strategy).aggregate(
            m=Max("position")
        )["m"]
        or 0
    ) + 1
    action = Action(
        plan=plan,
        strategy=strategy,
        position=position,
        **{k: values.get(k) for k in ACTION_FIELDS if k in values},
    )
    action.description = sanitise_narrative(action.description or "")
    action.timeframe = action.timeframe or ""
    action.status = action.status or ""
    action.rag = action.rag or ""
    action._history_user = user
    action.full_clean()
    action.save()
    action.indicators.set(values.get("indicators") or [])
    return action


@transaction.atomic
def action_update(
    *, action: Action, user, expected_version: int, values: dict
) -> Action:
    problems = _problems_for_action(values, action.strategy)
    if problems:
        raise ValidationError(problems)
    changes = {k: values[k] for k in ACTION_FIELDS if k in values}
    if "description" in changes:
        changes["description"] = sanitise_narrative(changes["description"] or "")
    for key in ("timeframe", "status", "rag"):
        if key in changes and changes[key] is None:
            changes[key] = ""
    reason = ""
    if "indicators" in values:
        reason = _indicator_link_change(action, values["indicators"])
    fresh = versioned_update(
        action,
        expected_version=expected_version,
        user=user,
        values=changes,
        change_reason=reason,
    )
    if "indicators" in values:
        fresh.indicators.set(values["indicators"])
    return fresh


def _indicator_link_change(action: Action, wanted) -> str:
    """The change to the activity's linked indicators in words, for the history (the
    many-to-many itself is not versioned)."""
    before = {i.pk: i.title for i in action.indicators.all()}
    after = {i.pk: i.title for i in wanted}
    added = [after[k] for k in after.keys() - before.keys()]
    removed = [before[k] for k in before.keys() - after.keys()]
    parts = []
    if added:
        parts.append("linked " + "; ".join(sorted(added)))
    if removed:
        parts.append("unlinked " + "; ".join(sorted(removed)))
    return ("Indicators " + ", ".join(parts))[:100] if parts else ""


def open_cycle_for(system, on: dt.date):
    """The reporting cycle a change made on `on` belongs to: the first open (opened,
    unpublished) cycle whose deadline has not passed, or else the latest open one."""
    from scorecard.models import ReportingCycle

    cycles = ReportingCycle.objects.filter(
        system=system, stocktake__isnull=True, opens__lte=on
    )
    return (
        cycles.filter(deadline__gte=on).order_by("deadline").first()
        or cycles.order_by("-deadline").first()
    )


@transaction.atomic
def progress_report_create(
    *,
    action: Action,
    author,
    status: str,
    rag: str,
    rag_reason: str,
    percent_complete: int | None,
    text: str,
    on: dt.date | None = None,
) -> ProgressReport:
    """A progress update; it also becomes the activity's current status and RAG."""
    on = on or timezone.localdate()
    problems: dict[str, list[str]] = {}
    narrative = sanitise_narrative(text)
    if not nh3.clean(narrative, tags=set()).strip():
        problems["text"] = [MSG_NARRATIVE]
    if status not in Action.Status.values:
        problems["status"] = ["Choose a status"]
    if rag not in Rag.values:
        problems["rag"] = ["Choose a RAG rating"]
    elif not (rag_reason or "").strip():
        problems["rag_reason"] = [MSG_RAG_REASON]
    if percent_complete is not None and not 0 <= percent_complete <= 100:
        problems["percent_complete"] = [MSG_PERCENT]
    if problems:
        raise ValidationError(problems)
    cycle = open_cycle_for(action.strategy.system, on)
    position = ProgressReport.objects.filter(action=action, date=on).aggregate(
        m=Max("position")
    )["m"]
    report = ProgressReport(
        action=action,
        date=on,
        author=author,
        author_name=author.get_full_name() or author.get_username(),
        status=status,
        rag=rag,
        rag_reason=rag_reason.strip(),
        percent_complete=percent_complete,
        text=narrative,
        cycle=cycle,
        position=0 if position is None else position + 1,
    )
    report._history_user = author
    report.full_clean()
    report.save()
    # The activity shows its latest status; bumping its version tells anyone editing it.
    Action.objects.filter(pk=action.pk).update(
        status=status, rag=rag, version=F("version") + 1, updated_at=timezone.now()
    )
    action.refresh_from_db()
    Action.history.bulk_history_create([action], update=True, default_user=author)
    return report


@transaction.atomic
def progress_report_delete(*, report: ProgressReport, user) -> None:
    if cycle_is_published(report.cycle_id):
        raise PeriodLocked()
    report._history_user = user
    report.delete()


@transaction.atomic
def milestone_create(*, action: Action, user, title: str, due_date) -> Milestone:
    problems: dict[str, list[str]] = {}
    if not (title or "").strip():
        problems["title"] = [MSG_TITLE]
    if due_date is None:
        problems["due_date"] = ["Enter the due date"]
    if problems:
        raise ValidationError(problems)
    milestone = Milestone(action=action, title=title.strip(), due_date=due_date)
    milestone._history_user = user
    milestone.full_clean()
    milestone.save()
    return milestone


@transaction.atomic
def milestone_complete(
    *, milestone: Milestone, user, on: dt.date | None = None
) -> Milestone:
    milestone.completed_on = on or timezone.localdate()
    milestone._history_user = user
    milestone.save()
    return milestone
