"""The lead's journey of issue 6, through the pages: see what is owed, update an action,
write commentary, a second lead approves, an administrator publishes, new data arrives and
the published stocktake stays exactly as published; every step is in the history."""

import re

import pytest
from django.urls import reverse

from actions.models import Action, ProgressReport
from indicators.models import Observation
from scorecard.models import ExceptionCommentary, SnapshotRow
from scorecard.services.publishing import stocktake_snapshot


def _client(client_factory, user):
    client = client_factory()
    client.force_login(user)
    return client


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


def test_lead_journey_end_to_end(
    client_factory, lead, lead2, system_admin, strategy, cycle, exception_indicator
):
    lead_client = _client(client_factory, lead)

    # 1. My updates lists progress owed on open activities and the commentary owed.
    page = lead_client.get(reverse("workflow:my_updates")).content.decode()
    open_actions = strategy.actions.exclude(status__in=["complete", "closed"])
    assert page.count('data-kind="progress"') == open_actions.count()
    assert f"Exception commentary: {exception_indicator.title}" in page

    # 2. A progress update on an activity.
    action = open_actions.order_by("position").first()
    response = lead_client.post(
        reverse("actions:progress_create", args=[action.pk]),
        {
            "status": "at_risk",
            "rag": "amber",
            "rag_reason": "Recruitment is behind plan",
            "percent_complete": "40",
            "text": "<p>Two of <strong>five</strong> posts filled.</p><script>x()</script>",
        },
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get(action=action, cycle=cycle)
    assert report.text == "<p>Two of <strong>five</strong> posts filled.</p>"
    action.refresh_from_db()
    assert (action.status, action.rag) == ("at_risk", "amber")
    page = lead_client.get(reverse("workflow:my_updates")).content.decode()
    assert f"Progress update: {action.title}" not in page

    # 3. Commentary, carried forward from last period's approved text, then submitted.
    url = reverse(
        "workflow:commentary", args=[cycle.pk, strategy.pk, exception_indicator.pk]
    )
    form_page = lead_client.get(url)
    assert form_page.status_code == 200
    response = lead_client.post(
        url,
        {
            "version": "0",
            "story": "<p>Rates rose after the winter.</p>",
            "helping": "<ul><li>New clinic</li></ul>",
            "hindering": "Staff shortages",
            "actions_taken": "<p>Extra sessions <a href='https://example.org'>booked</a></p>",
            "expected_recovery": "2027-03-31",
            "intent": "submit",
        },
    )
    assert response.status_code == 302
    commentary = ExceptionCommentary.objects.get(
        cycle=cycle, strategy=strategy, indicator=exception_indicator
    )
    assert commentary.status == "submitted"
    assert commentary.submitted_by == lead

    # The submitter may not approve their own commentary.
    review_url = reverse(
        "workflow:commentary_review",
        args=[cycle.pk, strategy.pk, exception_indicator.pk],
    )
    lead_client.post(review_url, {"version": commentary.version, "intent": "approve"})
    commentary.refresh_from_db()
    assert commentary.status == "submitted"

    # 4. The second lead approves it.
    lead2_client = _client(client_factory, lead2)
    page = lead2_client.get(reverse("workflow:my_updates")).content.decode()
    assert f"Approve commentary: {exception_indicator.title}" in page
    response = lead2_client.post(
        review_url, {"version": commentary.version, "intent": "approve"}
    )
    assert response.status_code == 302
    commentary.refresh_from_db()
    assert (commentary.status, commentary.approved_by) == ("approved", lead2)

    # 5. The administrator publishes the stocktake.
    admin_client = _client(client_factory, system_admin)
    response = admin_client.post(
        reverse("workflow:cycle_publish", args=[cycle.pk]), {"confirm": "on"}
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    stocktake = cycle.stocktake
    assert stocktake is not None
    published_page = admin_client.get(response.url).content.decode()
    assert "Rates rose after the winter." in published_page
    assert "Revised since publication" not in published_page

    # The snapshot holds what the commentary and the action were at that moment.
    exception_rows = SnapshotRow.objects.filter(stocktake=stocktake, kind="exception")
    published = next(
        r.data
        for r in exception_rows
        if r.data["indicator_id"] == exception_indicator.pk
    )
    assert published["commentary"]["status"] == "approved"
    action_row = SnapshotRow.objects.get(
        stocktake=stocktake, kind="action", data__action_id=action.pk
    )
    assert action_row.data["progress"]["percent_complete"] == 40

    # 6. New data arrives: a published value is revised.
    sections = stocktake_snapshot(stocktake)
    row = next(r for s in sections for r in s.overview if r["observation_id"])
    old = Observation.objects.get(pk=row["observation_id"])
    Observation.objects.filter(pk=old.pk).update(is_current=False)
    Observation.objects.create(
        indicator=old.indicator,
        area=old.area,
        period=old.period,
        breakdown=old.breakdown,
        value=(old.value or 0) + 1,
        source_return=old.source_return,
    )
    # And the action changes after publication.
    Action.objects.filter(pk=action.pk).update(status="off_track")

    page = admin_client.get(
        reverse("workflow:stocktake_detail", args=[stocktake.pk])
    ).content.decode()
    assert "Revised since publication" in page
    # The published value is still shown, exactly as published.
    cell = re.search(
        r'data-testid="published-value">([^<]*)<br><span class="app-revised"', page
    )
    assert cell is not None
    assert cell.group(1).strip() == str(row["latest_value"])
    assert action_row.data["status"] == "At risk"
    assert "Rates rose after the winter." in page

    # 7. The cycle is locked: the commentary form is hidden and writes are refused.
    page = lead_client.get(url).content.decode()
    assert 'data-testid="commentary-form"' not in page
    response = lead_client.post(
        url,
        {"version": commentary.version, "story": "Changed", "intent": "save"},
    )
    commentary.refresh_from_db()
    assert commentary.story == "<p>Rates rose after the winter.</p>"

    # 8. Every step is in the history, with who made it.
    history = commentary.history.order_by("history_id")
    assert [h.status for h in history] == ["draft", "submitted", "approved"]
    assert [h.history_user for h in history] == [lead, lead, lead2]
    assert action.history.filter(history_user=lead, status="at_risk").exists()
    detail = lead_client.get(
        reverse("actions:action_detail", args=[action.pk])
    ).content.decode()
    assert 'data-testid="history"' in detail
    assert "At risk" in detail
