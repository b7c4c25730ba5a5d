"""The SDG lead's journey in a real browser: see what is owed, update an action, write
and submit exception commentary; a second lead approves it; an administrator publishes the
stocktake. Every page passes axe with zero violations; screenshots go to var/screenshots/."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser.conftest import assert_no_axe_violations, screenshot


@pytest.mark.browser
def test_sdg_lead_journey(page_as, seeded, make_browser_user):
    from actions.selectors import exception_report_items
    from scorecard.models import ExceptionCommentary, ReportingCycle
    from strategies.models import SdgMembership, Strategy, SystemDesignGroup

    plymouth = seeded["plymouth"]
    strategy = next(
        s
        for s in Strategy.objects.filter(system=plymouth).order_by("number")
        if exception_report_items(s)
    )
    indicator = exception_report_items(strategy)[0].indicator
    group, _ = SystemDesignGroup.objects.get_or_create(
        strategy=strategy, defaults={"name": "SDG"}
    )
    lead = make_browser_user(
        "lead-one", system=plymouth, role="viewer", first_name="Alex", last_name="Lead"
    )
    lead2 = make_browser_user(
        "lead-two", system=plymouth, role="viewer", first_name="Sam", last_name="Second"
    )
    admin = make_browser_user("sys-admin", system=plymouth, role="admin")
    for user in (lead, lead2):
        SdgMembership.objects.create(group=group, user=user, role="lead")
    today = timezone.localdate()
    cycle = ReportingCycle.objects.create(
        system=plymouth,
        title="Quarter 3 stocktake",
        opens=today - dt.timedelta(days=20),
        deadline=today + dt.timedelta(days=10),
    )

    # The lead sees what they owe.
    page = page_as(lead)
    page.goto(page.url_for("/workflow/my-updates/"))
    assert page.get_by_role("heading", name="My updates").is_visible()
    assert_no_axe_violations(page)
    screenshot(page, "workflow-my-updates")

    # Updates an action.
    page.locator('tr[data-kind="progress"] a').first.click()
    page.get_by_label("Status").select_option("at_risk")
    page.get_by_label("RAG", exact=True).select_option("amber")
    page.get_by_label("Reason for the RAG rating").fill("Recruitment is behind plan")
    page.get_by_label("Percentage complete").fill("40")
    page.get_by_label("Progress narrative").fill(
        "<p>Two of <strong>five</strong> posts filled.</p>"
    )
    page.get_by_role("button", name="Add progress update").click()
    assert page.get_by_text("Progress update added.").is_visible()
    assert (
        page.locator('[data-testid="action-status"]').inner_text().startswith("At risk")
    )
    assert page.locator('[data-testid="history"]').is_visible()
    assert_no_axe_violations(page)
    screenshot(page, "workflow-action-detail")

    page.goto(page.url_for(f"/actions/{plymouth.slug}/{strategy.slug}/"))
    assert_no_axe_violations(page)
    screenshot(page, "workflow-action-plan")

    # Writes the exception commentary and submits it.
    page.goto(page.url_for("/workflow/my-updates/"))
    page.get_by_role("link", name=f"Exception commentary: {indicator.title}").click()
    assert_no_axe_violations(page)
    page.get_by_label("The story behind the numbers").fill(
        "<p>Rates rose after the winter.</p>"
    )
    page.get_by_label("Actions taken").fill("<ul><li>Extra clinics</li></ul>")
    page.get_by_label("Expected recovery date").fill("2027-03-31")
    page.get_by_role("button", name="Submit for approval").click()
    assert page.get_by_text("Commentary submitted for approval.").is_visible()
    assert "another lead must approve it" in page.content()
    assert_no_axe_violations(page)
    screenshot(page, "workflow-commentary-submitted")

    # The second lead approves it.
    page2 = page_as(lead2)
    page2.goto(page2.url_for("/workflow/my-updates/"))
    page2.get_by_role("link", name=f"Approve commentary: {indicator.title}").click()
    page2.get_by_role("button", name="Approve").click()
    assert page2.get_by_text("Commentary approved.").is_visible()
    assert_no_axe_violations(page2)
    screenshot(page2, "workflow-commentary-approved")
    assert (
        ExceptionCommentary.objects.get(cycle=cycle, indicator=indicator).status
        == "approved"
    )

    # The administrator publishes the stocktake.
    page3 = page_as(admin)
    page3.goto(page3.url_for(f"/workflow/cycles/{cycle.pk}/"))
    assert_no_axe_violations(page3)
    screenshot(page3, "workflow-cycle")
    page3.get_by_label("I understand the published stocktake").check()
    page3.get_by_role("button", name="Publish stocktake").click()
    assert page3.get_by_text("Stocktake published.").is_visible()
    assert "Rates rose after the winter." in page3.content()
    assert_no_axe_violations(page3)
    screenshot(page3, "workflow-published-stocktake")

    # The lead's commentary is now locked.
    page.goto(page.url_for(f"/workflow/cycles/{cycle.pk}/"))
    assert page.locator('[data-testid="published"]').is_visible()
