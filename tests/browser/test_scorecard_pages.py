"""The scorecard pages in a real browser: a Plymouth viewer signs in, reads the system
scorecard, a strategy's overview (filters, sorting, as at), and an exception report;
the numbers on screen are the database's; axe finds no violations; screenshots are kept
under var/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from commissioning.api.selectors import display_areas
from indicators.models import IndicatorAssignment
from scorecard.models import ExceptionFlag, SeriesResult
from tests.browser.conftest import assert_no_axe_violations, screenshot

pytestmark = pytest.mark.browser


def _open_flags(strategy) -> dict[int, int]:
    ids = list(
        IndicatorAssignment.objects.filter(strategy=strategy).values_list(
            "indicator_id", flat=True
        )
    )
    areas = display_areas(strategy.system, ids)
    counts: dict[int, int] = {}
    for indicator_id, area_id in ExceptionFlag.objects.filter(
        indicator_id__in=ids, cleared_at__isnull=True, breakdown=""
    ).values_list("indicator_id", "area_id"):
        if areas.get(indicator_id) == area_id:
            counts[indicator_id] = counts.get(indicator_id, 0) + 1
    return counts


def test_a_viewer_reads_the_plymouth_scorecard_end_to_end(
    page_as, make_browser_user, seeded
):
    plymouth = seeded["plymouth"]
    user = make_browser_user("commissioner", system=plymouth, role="viewer")
    page = page_as(user)

    # The system scorecard: one card per strategy, the counts the database holds.
    page.goto(page.url_for("/scorecard/"))
    assert page.url.endswith("/scorecard/plymouth/")
    assert page.locator("h1").inner_text() == f"{plymouth.name} scorecard"
    strategies = list(plymouth.strategies.order_by("number"))
    assert page.locator("section.app-card").count() == len(strategies)
    assert page.locator(".app-demo-banner").is_visible()
    for strategy in strategies:
        card = page.locator(f'section.app-card[data-strategy="{strategy.slug}"]')
        expected_indicators = IndicatorAssignment.objects.filter(
            strategy=strategy
        ).count()
        assert card.locator('[data-count="indicators"]').inner_text() == str(
            expected_indicators
        )
        assert card.locator('[data-count="open-exceptions"]').inner_text() == str(
            sum(_open_flags(strategy).values())
        )
    assert page.get_by_text("Torbay and South Devon").count() == 0
    assert_no_axe_violations(page)
    screenshot(page, "scorecard-system-plymouth")

    # Into the strategy with the most exceptions.
    community = plymouth.strategies.get(slug="community")
    page.locator('section.app-card[data-strategy="community"] h2 a').click()
    page.wait_for_url(re.compile(r"/scorecard/plymouth/community/$"))
    assert "performance overview" in page.locator("h1").inner_text()
    rows = page.locator("tr.app-overview-row")
    total = IndicatorAssignment.objects.filter(strategy=community).count()
    assert rows.count() == total
    # Every value on screen is the computed result's.
    results = {
        r.indicator_id: r
        for r in SeriesResult.objects.filter(
            indicator__assignments__strategy=community, breakdown=""
        ).select_related("latest_period", "indicator")
    }
    areas = display_areas(plymouth, list(results))
    checked = 0
    for indicator_id, result in results.items():
        if areas.get(indicator_id) != result.area_id or result.latest_period is None:
            continue
        row = page.locator(f'tr.app-overview-row[data-indicator-id="{indicator_id}"]')
        assert row.locator('[data-field="period"]').inner_text() == (
            result.latest_period.label
        )
        decimals = result.indicator.decimal_places
        assert (
            f"{result.latest_value:,.{decimals}f}"
            in row.locator('[data-field="last"]').inner_text()
        )
        checked += 1
    assert checked >= 3
    assert_no_axe_violations(page)
    screenshot(page, "scorecard-strategy-community")

    # Filter: exceptions only, then sort by RAG.
    page.locator("#filter-exceptions").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"exceptions=1"))
    page.wait_for_selector("#overview-results")
    flagged = _open_flags(community)
    assert page.locator("tr.app-overview-row").count() == len(flagged)
    shown = {
        int(x)
        for x in page.locator("tr.app-overview-row").evaluate_all(
            "rows => rows.map(r => r.dataset.indicatorId)"
        )
    }
    assert shown == set(flagged)
    page.select_option("#filter-sort", "indicator")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"sort=indicator"))
    titles = page.locator("tr.app-overview-row th a").all_inner_texts()
    assert titles == sorted(titles, key=str.lower)
    assert_no_axe_violations(page)
    screenshot(page, "scorecard-strategy-filtered")

    # As at an earlier date: the as-at note shows and the form keeps the date.
    earlier = (timezone.localdate() - timedelta(days=1)).isoformat()
    page.goto(page.url_for(f"/scorecard/plymouth/community/?as_at={earlier}"))
    assert "as it stood on" in page.locator('[data-testid="data-date"]').inner_text()
    assert page.locator("#filter-as-at").input_value() == earlier
    assert_no_axe_violations(page)

    # The exception report: each flagged indicator under its heading, with reasons.
    page.goto(page.url_for("/scorecard/plymouth/community/exceptions/"))
    sections = page.locator("section.app-exception[data-indicator-id]")
    assert sections.count() == len(flagged)
    for indicator_id, count in flagged.items():
        section = page.locator(
            f'section.app-exception[data-indicator-id="{indicator_id}"]'
        )
        assert section.locator('[data-testid="reasons"] li').count() == count
    assert page.locator(".app-commentary").count() >= 1
    assert_no_axe_violations(page)
    screenshot(page, "scorecard-exceptions-community")


def test_torbay_priority_areas_render_and_plymouth_is_hidden(
    page_as, make_browser_user, seeded
):
    torbay = seeded["torbay"]
    user = make_browser_user("torbay-reader", system=torbay, role="viewer")
    page = page_as(user)

    page.goto(page.url_for("/scorecard/"))
    assert page.url.endswith(f"/scorecard/{torbay.slug}/")
    assert page.locator("section.app-card").count() == torbay.strategies.count()
    assert "Priority area 1" in page.locator("section.app-card").first.inner_text()
    assert_no_axe_violations(page)
    screenshot(page, "scorecard-system-torbay")

    first = torbay.strategies.order_by("number").first()
    page.goto(page.url_for(f"/scorecard/{torbay.slug}/{first.slug}/"))
    assert "Priority area" in page.locator(".nhsuk-caption-l").inner_text()
    assert_no_axe_violations(page)
    screenshot(page, "scorecard-strategy-torbay")

    response = page.goto(page.url_for("/scorecard/plymouth/"))
    assert response.status == 404
