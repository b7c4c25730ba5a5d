"""Optimistic locking: two people edit the same activity or commentary; the second save is
refused with what the first person changed, and nothing is overwritten."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions import services as action_services
from scorecard.models import ExceptionCommentary
from scorecard.services import commentary as commentary_services


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _action_post(action, **changes):
    data = {
        "title": action.title,
        "description": action.description,
        "timeframe": action.timeframe,
        "timeframe_start": action.timeframe_start or "",
        "due_date": action.due_date or "",
        "status": action.status,
        "rag": action.rag,
        "version": action.version,
    }
    data.update(changes)
    return data


def test_second_save_of_an_activity_is_refused_with_the_other_persons_changes(
    lead, lead2, action
):
    first, second = _signed_in(lead), _signed_in(lead2)
    url = reverse("actions:action_edit", args=[action.pk])
    # Both open the form at the same version.
    assert first.get(url).status_code == 200
    assert second.get(url).status_code == 200
    read_at = action.version

    saved = first.post(url, _action_post(action, title="Retitled by the first lead"))
    assert saved.status_code == 302

    refused = second.post(
        url, _action_post(action, version=read_at, timeframe="Moved to 2019/20")
    )
    assert refused.status_code == 409
    page = refused.content.decode()
    assert action_services.MSG_CONFLICT in page
    assert 'data-testid="conflict"' in page
    assert "Retitled by the first lead" in page  # what the other person changed
    assert "lead2" not in page.split('data-testid="conflict"')[1].split("</table>")[0]
    action.refresh_from_db()
    assert action.title == "Retitled by the first lead"
    assert action.timeframe != "Moved to 2019/20"  # nothing overwritten
    assert action.version == read_at + 1


def test_second_save_of_commentary_is_refused(
    lead, member, cycle, strategy, exception_indicator
):
    draft = commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    first, second = _signed_in(lead), _signed_in(member)
    url = reverse(
        "workflow:commentary", args=[cycle.pk, strategy.pk, exception_indicator.pk]
    )
    values = {"story": "", "helping": "", "hindering": "", "actions_taken": ""}
    assert (
        first.post(
            url,
            {
                **values,
                "story": "Lead's story",
                "version": draft.version,
                "intent": "save",
            },
        ).status_code
        == 302
    )
    refused = second.post(
        url,
        {
            **values,
            "story": "Member's story",
            "version": draft.version,
            "intent": "save",
        },
    )
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Lead&#x27;s story" in page or "Lead's story" in page
    assert "The story behind the numbers" in page
    draft.refresh_from_db()
    assert "Lead's story" in draft.story
    # The refused form keeps what the member typed, now at the version they have seen.
    assert "Member&#x27;s story" in page or "Member's story" in page
    assert f'name="version" value="{draft.version}"' in page


def test_versioned_update_is_one_conditional_update(
    lead, action, django_assert_num_queries
):
    # The conflict check and the write are one UPDATE ... WHERE id AND version.
    with pytest.raises(action_services.EditConflict) as conflict:
        action_services.action_update(
            action=action,
            user=lead,
            expected_version=action.version + 5,
            values={"title": "Never written"},
        )
    assert conflict.value.current.title == action.title
    action.refresh_from_db()
    assert action.title != "Never written"


def test_progress_update_refused_into_a_published_cycle(
    lead, cycle, action, system_admin
):
    from scorecard.services.publishing import stocktake_publish

    stocktake_publish(cycle=cycle, user=system_admin)
    # With no open cycle left, a new update belongs to no cycle (and so is not locked);
    # updates made for the published cycle can no longer be deleted.
    report = action_services.progress_report_create(
        action=action,
        author=lead,
        status="on_track",
        rag="green",
        rag_reason="On plan",
        percent_complete=10,
        text="Fine",
        on=timezone.localdate(),
    )
    assert report.cycle is None
    report.cycle = cycle
    report.save()
    with pytest.raises(action_services.PeriodLocked):
        action_services.progress_report_delete(report=report, user=lead)
    with pytest.raises(action_services.PeriodLocked):
        commentary_services.commentary_start(
            cycle=cycle,
            strategy=action.strategy,
            indicator=action.strategy.indicators.first(),
            user=lead,
        )
    assert not ExceptionCommentary.objects.filter(cycle=cycle).exists()


def test_changing_linked_indicators_is_in_the_history(lead, action, strategy):
    indicator = strategy.indicators.exclude(actions=action).first()
    action_services.action_update(
        action=action,
        user=lead,
        expected_version=action.version,
        values={
            "title": action.title,
            "indicators": [*action.indicators.all(), indicator],
        },
    )
    latest = action.history.latest("history_id")
    assert latest.history_change_reason.startswith("Indicators linked")
    assert indicator.title[:40] in latest.history_change_reason
    assert list(action.indicators.filter(pk=indicator.pk))
