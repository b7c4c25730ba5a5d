"""The indicator page and search in a real browser: a Plymouth viewer searches for
"dementia", opens the referral to treatment indicator, sees the Plotly SPC chart drawn
with the plotly.js served from the Python package, reads the table (the database's
numbers) and the flags with their reasons; axe finds no violations; screenshots are kept
under var/screenshots/."""

from __future__ import annotations

import pytest

from indicators.analysis.common import format_number
from indicators.models import Indicator, Observation
from indicators.plotly_static import PLOTLY_VERSION
from scorecard.models import ExceptionFlag, PublishedOverviewRow, SeriesResult
from tests.browser.conftest import assert_no_axe_violations, screenshot

pytestmark = pytest.mark.browser


def test_a_viewer_searches_and_reads_an_indicator(page_as, make_browser_user, seeded):
    plymouth = seeded["plymouth"]
    user = make_browser_user("reader", system=plymouth, role="viewer")
    page = page_as(user)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # Search from the header's link, with the form.
    page.goto(page.url_for("/"))
    page.get_by_role("link", name="Search", exact=True).first.click()
    page.fill("#q", "dementia")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector('[data-testid="search-summary"]')
    dementia = Indicator.objects.get(
        system=plymouth, title__icontains="diagnosis rates for dementia"
    )
    result_link = page.locator(
        f'[data-testid="results-indicators"] a[href="/indicators/{dementia.pk}/"]'
    )
    assert result_link.count() == 1
    assert page.locator('[data-testid="results-indicators"] mark').count() >= 1
    assert page.locator('[data-testid="results-commentary"] li').count() >= 1
    assert_no_axe_violations(page)
    screenshot(page, "search-dementia")

    # The referral to treatment indicator, as the scorecard row shows it.
    rtt = Indicator.objects.get(
        system=plymouth, title__startswith="Referral to Treatment waiting times"
    )
    area = PublishedOverviewRow.objects.filter(indicator=rtt).first().area
    result = SeriesResult.objects.get(indicator=rtt, area=area, breakdown="")
    page.goto(page.url_for(f"/indicators/{rtt.pk}/?area={area.code}"))
    page.wait_for_selector("#spc-chart[data-rendered=true]")
    chart = page.locator("#spc-chart.js-plotly-plot")
    assert chart.count() == 1
    traces = chart.locator("svg .scatterlayer .trace")
    assert traces.count() >= 5  # values, special causes, mean, limits, target
    concern_points = sum(
        1 for p in result.spc["points"] if p["type"] == "special_cause_concern"
    )
    legend = chart.locator(".legend .legendtext").all_text_contents()
    assert "Special cause concern" in legend
    assert "Process limits" in legend
    assert concern_points > 0
    assert page.locator(".app-demo-banner").is_visible()

    # The table is the database's values, oldest first.
    observations = list(
        Observation.objects.filter(indicator=rtt, area=area, is_current=True)
        .select_related("period")
        .order_by("period__start")
    )
    rows = page.locator('[data-testid="data-table"] tbody tr')
    assert rows.count() == len(observations)
    for i in (0, len(observations) // 2, len(observations) - 1):
        row = rows.nth(i)
        observation = observations[i]
        assert row.locator("th").inner_text() == observation.period.label
        value = row.locator("[data-value]").inner_text().split()[0]
        assert value == format_number(observation.value, rtt.decimal_places)
        point_type = row.locator("[data-point-type]").get_attribute("data-point-type")
        assert point_type == result.spc["points"][i]["type"]

    # Every flag with its reason in words; the open exception.
    flags = page.locator('[data-testid="flags"]').inner_text()
    assert result.spc_reason in flags
    assert result.rag_reason in flags
    open_flag = ExceptionFlag.objects.get(
        indicator=rtt, area=area, cleared_at__isnull=True
    )
    assert (
        open_flag.reason in page.locator('[data-testid="exception-flags"]').inner_text()
    )

    # Nothing came from outside the live server (no CDN, no external font or script).
    assert requests
    assert all(url.startswith(page.url_for("/")) for url in requests)
    plotly_js = f"/indicators/assets/plotly-{PLOTLY_VERSION}.min.js"
    assert any(url.endswith(plotly_js) for url in requests)

    # The data table scrolls by keyboard.
    page.locator('[data-testid="data-table"]').locator("xpath=..").focus()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "region"

    assert_no_axe_violations(page)
    screenshot(page, "indicator-rtt")

    # The area switcher, where an indicator has values for several areas.
    many = (
        Observation.objects.filter(is_current=True, indicator__system=plymouth)
        .values("indicator_id")
        .distinct()
    )
    for row in many:
        indicator = Indicator.objects.get(pk=row["indicator_id"])
        areas = (
            Observation.objects.filter(indicator=indicator, is_current=True)
            .values_list("area__code", flat=True)
            .distinct()
        )
        if len(set(areas)) > 1:
            page.goto(page.url_for(f"/indicators/{indicator.pk}/"))
            other = sorted(set(areas))[-1]
            page.select_option("#series", f"{other}|")
            page.get_by_role("button", name="Show area").click()
            page.wait_for_url("**?series=*")
            assert f"({other})" in page.locator(".app-area-switcher").inner_text()
            break

    # An annual indicator with too few points for SPC: values only, said why.
    annual = SeriesResult.objects.filter(
        indicator__system=plymouth, method=SeriesResult.Method.INSUFFICIENT
    ).first()
    page.goto(page.url_for(f"/indicators/{annual.indicator_id}/"))
    page.wait_for_selector("#spc-chart[data-rendered=true]")
    assert annual.spc_reason in page.locator('[data-testid="flags"]').inner_text()
    assert_no_axe_violations(page)
    screenshot(page, "indicator-annual")
