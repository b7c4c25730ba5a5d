"""What the action plan page shows: overdue activities and milestones as a word with an
icon, the alert for exceptions no activity addresses, and forms only for those allowed."""

import datetime as dt

from django.test import Client
from django.urls import reverse

from actions import selectors
from actions.models import Action, Milestone


def _page(user, strategy):
    client = Client()
    client.force_login(user)
    url = reverse("actions:action_plan", args=[strategy.system.slug, strategy.slug])
    return client.get(url).content.decode()


def test_overdue_activities_and_milestones_stand_out(lead, strategy, action):
    Action.objects.filter(pk=action.pk).update(
        due_date=dt.date(2018, 3, 31), status="on_track"
    )
    Milestone.objects.create(
        action=action, title="Late step", due_date=dt.date(2018, 1, 1)
    )
    page = _page(lead, strategy)
    overdue_actions = sum(1 for row in selectors.action_rows(strategy) if row.overdue)
    assert overdue_actions >= 1
    assert page.count('data-testid="overdue"') == overdue_actions
    assert "&#9888;</span> Overdue" in page  # an icon with the word, not colour alone


def test_finished_activities_are_not_overdue(lead, strategy, action):
    Action.objects.filter(pk=action.pk).update(
        due_date=dt.date(2018, 3, 31), status="complete"
    )
    rows = {row.action.pk: row for row in selectors.action_rows(strategy)}
    assert rows[action.pk].overdue is False


def test_alert_lists_exceptions_no_activity_addresses(viewer, lead, strategy):
    unaddressed = selectors.unaddressed_exceptions(strategy)
    page = _page(lead, strategy)
    assert unaddressed, "the seed leaves some exceptions without an activity"
    assert 'data-testid="unaddressed"' in page
    for item in unaddressed:
        assert item.indicator.title in page
    # Viewers read the plan but get no forms.
    viewer_page = _page(viewer, strategy)
    assert "Add an activity" not in viewer_page
    assert "Add an activity" in page


def test_commentary_page_shows_its_history(lead, cycle, strategy, exception_indicator):
    client = Client()
    client.force_login(lead)
    url = reverse(
        "workflow:commentary", args=[cycle.pk, strategy.pk, exception_indicator.pk]
    )
    client.post(url, {"version": 0, "story": "First words", "intent": "save"})
    page = client.get(url).content.decode()
    assert 'data-testid="history"' in page
    assert "First words" in page
    assert "Created: commentary" in page


def test_history_shows_typed_symbols_once_escaped(
    lead, cycle, strategy, exception_indicator
):
    """Rich text is stored sanitised ("<" as "&lt;"); the history shows the words a
    reader typed, escaped once, not "&amp;lt;"."""
    client = Client()
    client.force_login(lead)
    url = reverse(
        "workflow:commentary", args=[cycle.pk, strategy.pk, exception_indicator.pk]
    )
    client.post(
        url, {"version": 0, "story": "Waits < 18 weeks & falling", "intent": "save"}
    )
    page = client.get(url).content.decode()
    history = page[page.index('data-testid="history"') :]
    history = history[: history.index("</ol>")]
    assert "Waits &lt; 18 weeks &amp; falling" in history
    assert "&amp;lt;" not in history
    assert "&amp;amp;" not in history
