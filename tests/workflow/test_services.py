"""The workflow's services and selectors: validation, sanitising, carry-forward with a
difference, reminders sent once, alerts for exceptions no activity addresses."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from actions import selectors as action_selectors
from actions import services as action_services
from actions.models import Action
from scorecard.models import ExceptionCommentary, ReminderSent, ReportingCycle
from scorecard.services import commentary as commentary_services
from scorecard.services.reminders import send_due_reminders, updates_owed
from scorecard.tasks import send_workflow_reminders


def test_narrative_keeps_the_allow_list_only():
    dirty = (
        '<p onclick="x()">A <strong>b</strong> <em>c</em> <b>d</b><br>'
        '<a href="javascript:alert(1)">bad</a> <a href="https://nhs.uk" title="t">ok</a>'
        '<a href="mailto:a@b.c">mail</a></p><ul><li>1</li></ul><ol><li>2</li></ol>'
        "<script>alert(1)</script><img src=x onerror=y>"
    )
    clean = action_services.sanitise_narrative(dirty)
    assert "onclick" not in clean
    assert "<script" not in clean
    assert "<img" not in clean
    assert "<b>" not in clean
    assert "javascript:" not in clean
    assert 'title="t"' not in clean
    assert '<a href="https://nhs.uk" rel="noopener noreferrer">ok</a>' in clean
    assert 'href="mailto:a@b.c"' in clean
    for tag in ("<p>", "<strong>", "<em>", "<br>", "<ul>", "<ol>", "<li>"):
        assert tag in clean


def test_progress_update_reports_every_problem_at_once(lead, action):
    with pytest.raises(ValidationError) as error:
        action_services.progress_report_create(
            action=action,
            author=lead,
            status="nearly",
            rag="amber",
            rag_reason=" ",
            percent_complete=140,
            text="<script>only a script</script>",
        )
    assert set(error.value.message_dict) == {
        "status",
        "rag_reason",
        "percent_complete",
        "text",
    }
    assert not action.progress_reports.filter(author=lead).exists()


def test_action_refuses_indicators_of_another_system(lead, strategy, torbay):
    from indicators.models import Indicator

    other = Indicator.objects.filter(system=torbay).first()
    with pytest.raises(ValidationError) as error:
        action_services.action_create(
            strategy=strategy, user=lead, values={"title": "X", "indicators": [other]}
        )
    assert (
        action_services.MSG_INDICATOR_SYSTEM in error.value.message_dict["indicators"]
    )


def test_carried_forward_commentary_shows_the_change(
    lead, lead2, cycle, strategy, exception_indicator, plymouth
):
    # Last period's commentary, approved.
    earlier = ReportingCycle.objects.create(
        system=plymouth,
        title="Earlier quarter",
        opens=cycle.opens - dt.timedelta(days=120),
        deadline=cycle.opens - dt.timedelta(days=60),
    )
    first = commentary_services.commentary_start(
        cycle=earlier, strategy=strategy, indicator=exception_indicator, user=lead
    )
    first = commentary_services.commentary_submit(
        commentary=first,
        user=lead,
        expected_version=first.version,
        values={
            "story": "<p>Admissions <b>rose</b> in winter</p>",
            "actions_taken": "A",
        },
    )
    commentary_services.commentary_approve(
        commentary=first, user=lead2, expected_version=first.version
    )
    # This period's draft starts from it.
    draft = commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    assert draft.carried_from_id == first.pk
    assert draft.story == "<p>Admissions rose in winter</p>"
    draft = commentary_services.commentary_save(
        commentary=draft,
        user=lead,
        expected_version=draft.version,
        values={"story": "<p>Admissions fell in <script>x</script>spring & summer</p>"},
    )
    story = next(
        d for d in commentary_services.commentary_differences(draft) if d["changed"]
    )
    assert "<del>rose</del>" in story["diff"]
    assert "<del>winter</del>" in story["diff"] or "winter</del>" in story["diff"]
    assert "<ins>fell</ins>" in story["diff"]
    assert "&amp;" in story["diff"]  # escaped
    assert "<script" not in story["diff"]


def test_returned_commentary_needs_a_note_and_goes_back_to_the_author(
    lead, lead2, cycle, strategy, exception_indicator
):
    draft = commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    submitted = commentary_services.commentary_submit(
        commentary=draft,
        user=lead,
        expected_version=draft.version,
        values={"story": "S", "actions_taken": "A"},
    )
    with pytest.raises(ValidationError):
        commentary_services.commentary_return(
            commentary=submitted,
            user=lead2,
            expected_version=submitted.version,
            note="",
        )
    returned = commentary_services.commentary_return(
        commentary=submitted,
        user=lead2,
        expected_version=submitted.version,
        note="Say when it recovers",
    )
    assert returned.status == ExceptionCommentary.Status.RETURNED
    owed = [i for i in updates_owed(lead) if i.kind == "commentary"]
    assert any(i.status == "Returned for changes" for i in owed)


def test_submitting_needs_the_story_and_the_actions(
    lead, cycle, strategy, exception_indicator
):
    draft = commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    with pytest.raises(ValidationError) as error:
        commentary_services.commentary_submit(
            commentary=draft,
            user=lead,
            expected_version=draft.version,
            values={"story": "<p> </p>", "actions_taken": ""},
        )
    assert set(error.value.message_dict) == {"story", "actions_taken"}


def test_unaddressed_exceptions_clear_when_an_activity_links_the_indicator(
    lead, strategy, exception_indicator
):
    before = {i.indicator.pk for i in action_selectors.unaddressed_exceptions(strategy)}
    reported = {
        i.indicator.pk for i in action_selectors.exception_report_items(strategy)
    }
    addressed_by_open = set(
        Action.indicators.through.objects.filter(action__strategy=strategy)
        .exclude(action__status__in=["complete", "closed"])
        .values_list("indicator_id", flat=True)
    )
    assert before == reported - addressed_by_open
    action_services.action_create(
        strategy=strategy,
        user=lead,
        values={"title": "Tackle it", "indicators": [exception_indicator]},
    )
    after = {i.indicator.pk for i in action_selectors.unaddressed_exceptions(strategy)}
    assert exception_indicator.pk not in after


def test_reminders_are_sent_once_within_the_window(
    settings, lead, member, cycle, strategy, exception_indicator
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WORKFLOW_REMINDER_DAYS_BEFORE = 3
    lead.email, member.email = "lead@example.org", "member@example.org"
    lead.save()
    member.save()
    today = timezone.localdate()
    # Deadline in 5 days, window of 3: nothing yet.
    assert send_due_reminders(today=today) == 0
    assert mail.outbox == []
    # Two days later it is inside the window: one e-mail each.
    later = today + dt.timedelta(days=2)
    assert send_due_reminders(today=later) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "lead@example.org",
        "member@example.org",
    ]
    body = next(m.body for m in mail.outbox if m.to == ["lead@example.org"])
    assert exception_indicator.title in body
    assert f"/workflow/cycles/{cycle.pk}/" in body
    # Running again (the beat task runs daily) sends nothing more.
    assert send_due_reminders(today=later) == 0
    assert len(mail.outbox) == 2
    assert ReminderSent.objects.filter(cycle=cycle).count() == 2


def test_reminder_task_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["workflow-reminders"]
    assert entry["task"] == send_workflow_reminders.name


def test_no_reminder_for_a_published_cycle(settings, lead, cycle, system_admin):
    from scorecard.services.publishing import stocktake_publish

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    lead.email = "lead@example.org"
    lead.save()
    stocktake_publish(cycle=cycle, user=system_admin)
    assert send_due_reminders(today=cycle.deadline) == 0
    assert updates_owed(lead) == []


def test_publishing_twice_is_refused(cycle, system_admin):
    from scorecard.services.publishing import stocktake_publish

    stocktake_publish(cycle=cycle, user=system_admin)
    with pytest.raises(ValidationError):
        stocktake_publish(cycle=cycle, user=system_admin)


def test_seed_commentary_is_approved_and_readable(client, plymouth):
    from scorecard.models import Stocktake

    transcribed = ExceptionCommentary.objects.filter(cycle__isnull=True)
    assert transcribed.exists()
    assert set(transcribed.values_list("status", flat=True)) == {"approved"}
    stocktake = Stocktake.objects.filter(system=plymouth).first()
    from tests.conftest import make_user

    client.force_login(make_user("reader", system=plymouth, role="viewer"))
    page = client.get(f"/workflow/stocktakes/{stocktake.pk}/").content.decode()
    note = transcribed.filter(stocktake=stocktake).first()
    assert note.heading in page


def test_approved_commentary_shows_on_the_cached_exception_report_at_once(
    lead, lead2, cycle, strategy, exception_indicator, plymouth
):
    """The workflow writes with versioned UPDATEs (no post_save); the pages' cache must
    still hear of them, or the report shows the old commentary for up to an hour."""
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(lead)
    url = reverse("exception_report", args=[plymouth.slug, strategy.slug])

    draft = commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    draft = commentary_services.commentary_submit(
        commentary=draft,
        user=lead,
        expected_version=draft.version,
        values={
            "story": "<p>Recovery plan agreed at the October board</p>",
            "actions_taken": "<p>Weekly validation of the waiting list</p>",
        },
    )
    # Submitted, not yet approved: not on the report (and the report cached so).
    assert "Recovery plan agreed" not in client.get(url).content.decode()
    commentary_services.commentary_approve(
        commentary=draft, user=lead2, expected_version=draft.version
    )

    assert "Recovery plan agreed" in client.get(url).content.decode()
