"""Exception commentary: start (carrying last period's approved commentary forward), save,
submit, approve or return. Every write is atomic, validated whole, refused in a published
cycle, and versioned (optimistic locking: `EditConflict` when someone saved in between).

Callers check `can_write_commentary` / `can_approve_commentary` first."""

from __future__ import annotations

import difflib
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from actions.services import (
    EditConflict,  # noqa: F401  (re-exported for callers)
    PeriodLocked,
    cycle_is_published,
    sanitise_narrative,
    versioned_update,
)
from commissioning.html import plain_text
from scorecard.models import ExceptionCommentary, ReportingCycle

Status = ExceptionCommentary.Status

TEXT_FIELDS = ("story", "helping", "hindering", "actions_taken")
MSG_NOT_EDITABLE = (
    "This commentary has been submitted or approved and can no longer be edited; "
    "a lead can return it for changes."
)
MSG_NOT_SUBMITTED = "Only submitted commentary can be approved or returned."
MSG_OWN_APPROVAL = "You submitted this commentary, so another lead must approve it."
MSG_NOTE_NEEDED = "Say what needs to change when returning commentary"
MSG_STORY_NEEDED = "Enter the story behind the numbers"
MSG_ACTIONS_NEEDED = "Enter the actions taken"


_plain = plain_text


def previous_approved(cycle: ReportingCycle, strategy, indicator):
    """The latest approved commentary on this indicator from an earlier period (a cycle that
    ended before this one, or a stocktake transcribed from a document)."""
    return (
        ExceptionCommentary.objects.filter(
            strategy=strategy, indicator=indicator, status=Status.APPROVED
        )
        .filter(Q(cycle__isnull=True) | Q(cycle__deadline__lt=cycle.deadline))
        .exclude(cycle=cycle)
        .order_by("-dated", "-pk")
        .first()
    )


@transaction.atomic
def commentary_start(*, cycle: ReportingCycle, strategy, indicator, user):
    """This cycle's commentary on the indicator, made as a draft from last period's
    approved commentary when there is none yet."""
    if strategy.system_id != cycle.system_id or indicator.system_id != cycle.system_id:
        raise ValidationError(
            "The strategy and indicator must belong to the cycle's system"
        )
    existing = ExceptionCommentary.objects.filter(
        cycle=cycle, strategy=strategy, indicator=indicator
    ).first()
    if existing is not None:
        return existing
    if cycle_is_published(cycle.pk):
        raise PeriodLocked()
    previous = previous_approved(cycle, strategy, indicator)
    draft = ExceptionCommentary(
        cycle=cycle,
        strategy=strategy,
        indicator=indicator,
        heading=indicator.title[:300],
        dated=cycle.deadline,
        author=user,
        author_name=user.get_full_name() or user.get_username(),
        status=Status.DRAFT,
        carried_from=previous,
    )
    if previous is not None:
        for name in TEXT_FIELDS:
            setattr(draft, name, getattr(previous, name))
        if previous.cycle_id is None and not previous.story:
            # Transcribed commentary is one block of text: it becomes the story.
            draft.story = previous.text
        draft.expected_recovery = previous.expected_recovery
    draft._history_user = user
    draft.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:
        # Someone started it at the same moment: theirs is the draft.
        return ExceptionCommentary.objects.get(
            cycle=cycle, strategy=strategy, indicator=indicator
        )
    return draft


def _refuse_if_locked(commentary: ExceptionCommentary) -> None:
    if commentary.cycle_id is None or cycle_is_published(commentary.cycle_id):
        raise PeriodLocked()


@transaction.atomic
def commentary_save(
    *, commentary: ExceptionCommentary, user, expected_version: int, values: dict
) -> ExceptionCommentary:
    """Save a draft (or returned) commentary's fields."""
    _refuse_if_locked(commentary)
    if commentary.status not in (Status.DRAFT, Status.RETURNED):
        raise ValidationError(MSG_NOT_EDITABLE)
    changes = {name: sanitise_narrative(values.get(name, "")) for name in TEXT_FIELDS}
    changes["expected_recovery"] = values.get("expected_recovery")
    return versioned_update(
        commentary, expected_version=expected_version, user=user, values=changes
    )


@transaction.atomic
def commentary_submit(
    *, commentary: ExceptionCommentary, user, expected_version: int, values: dict
) -> ExceptionCommentary:
    """Save and submit for a lead's approval; the story and the actions are required."""
    _refuse_if_locked(commentary)
    if commentary.status not in (Status.DRAFT, Status.RETURNED):
        raise ValidationError(MSG_NOT_EDITABLE)
    problems: dict[str, list[str]] = {}
    if not _plain(sanitise_narrative(values.get("story", ""))):
        problems["story"] = [MSG_STORY_NEEDED]
    if not _plain(sanitise_narrative(values.get("actions_taken", ""))):
        problems["actions_taken"] = [MSG_ACTIONS_NEEDED]
    if problems:
        raise ValidationError(problems)
    changes = {name: sanitise_narrative(values.get(name, "")) for name in TEXT_FIELDS}
    changes.update(
        expected_recovery=values.get("expected_recovery"),
        status=Status.SUBMITTED,
        submitted_by=user,
        submitted_at=timezone.now(),
        return_note="",
    )
    return versioned_update(
        commentary, expected_version=expected_version, user=user, values=changes
    )


@transaction.atomic
def commentary_approve(
    *, commentary: ExceptionCommentary, user, expected_version: int
) -> ExceptionCommentary:
    _refuse_if_locked(commentary)
    if commentary.status != Status.SUBMITTED:
        raise ValidationError(MSG_NOT_SUBMITTED)
    if commentary.submitted_by_id == user.pk:
        raise ValidationError(MSG_OWN_APPROVAL)
    return versioned_update(
        commentary,
        expected_version=expected_version,
        user=user,
        values={
            "status": Status.APPROVED,
            "approved_by": user,
            "approved_at": timezone.now(),
        },
    )


@transaction.atomic
def commentary_return(
    *, commentary: ExceptionCommentary, user, expected_version: int, note: str
) -> ExceptionCommentary:
    _refuse_if_locked(commentary)
    if commentary.status != Status.SUBMITTED:
        raise ValidationError(MSG_NOT_SUBMITTED)
    if not (note or "").strip():
        raise ValidationError({"note": [MSG_NOTE_NEEDED]})
    return versioned_update(
        commentary,
        expected_version=expected_version,
        user=user,
        values={"status": Status.RETURNED, "return_note": note.strip()[:2000]},
    )


_TOKEN = re.compile(r"\s+|[^\s]+")


def text_difference(before: str, after: str) -> SafeString:
    """Word-level difference of two rich texts (compared as plain text), HTML-escaped, with
    removed words in <del> and added words in <ins>."""
    old = _TOKEN.findall(_plain(before))
    new = _TOKEN.findall(_plain(after))
    out = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(old[a1:a2])))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(''.join(old[a1:a2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(''.join(new[b1:b2]))}</ins>")
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


def commentary_differences(commentary: ExceptionCommentary) -> list[dict]:
    """Per field, how this commentary differs from last period's it was carried from."""
    previous = commentary.carried_from
    if previous is None:
        return []
    out = []
    for name in TEXT_FIELDS:
        before = getattr(previous, name)
        if name == "story" and previous.cycle_id is None and not before:
            before = previous.text
        after = getattr(commentary, name)
        label = ExceptionCommentary._meta.get_field(name).verbose_name.capitalize()
        out.append(
            {
                "label": label,
                "changed": _plain(before) != _plain(after),
                "diff": text_difference(before, after),
            }
        )
    return out
