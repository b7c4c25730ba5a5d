"""The indicator page as a commissioner uses it: the chart and its table from the stored
statistics, every flag with its reason and method, the definition and links, commentary,
actions and the versions of every value; who may see it; a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from actions.models import Action, ProgressReport
from indicators.analysis.common import format_number
from indicators.models import Area, Indicator, IndicatorAssignment, Observation, Target
from scorecard.models import (
    ExceptionCommentary,
    ExceptionFlag,
    PublishedOverviewRow,
    RebasePoint,
    SeriesResult,
)
from scorecard.services.recompute import ENGLAND_CODE
from tests.conftest import make_user
from tests.indicator_pages.conftest import add_values, compute, period_for, revise
from tests.indicator_pages.html_tables import body_rows, table_rows

WAVY = [80, 82, 81, 83, 79, 84, 80, 82, 81, 83, 80, 82, 81, 84, 79, 83]


def url(indicator, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/indicators/{indicator.pk}/" + (f"?{query}" if query else "")


def main(html: str) -> str:
    """The page's own content (the base template around it shows the signed-in user)."""
    return html.split('id="maincontent"', 1)[1].split("</main>", 1)[0]


def column(html: str, testid: str, name: str) -> list[dict]:
    header = [cell["text"] for cell in table_rows(html, testid)[0]]
    index = header.index(name)
    return [row[index] for row in body_rows(html, testid)]


@pytest.fixture
def rtt(plymouth) -> Indicator:
    return Indicator.objects.get(
        system=plymouth, title__startswith="Referral to Treatment waiting times"
    )


def test_rtt_table_and_chart_are_the_stored_values_and_statistics(client, viewer, rtt):
    client.force_login(viewer)
    response = client.get(url(rtt))
    assert response.status_code == 200
    html = response.content.decode()

    # The area the published scorecard row uses, and its stored result.
    area_id = PublishedOverviewRow.objects.filter(indicator=rtt).first().area_id
    result = SeriesResult.objects.get(indicator=rtt, area_id=area_id, breakdown="")
    assert response.context["page"].chosen.area.pk == area_id
    observations = list(
        Observation.objects.filter(
            indicator=rtt, area_id=area_id, is_current=True
        ).order_by("period__start")
    )
    groups = result.spc["groups"]
    points = result.spc["points"]
    assert [p["value"] for p in points] == [o.value for o in observations]

    periods = [c["text"] for c in column(html, "data-table", "Period")]
    values = [c["text"] for c in column(html, "data-table", "Value")]
    means = [c["text"] for c in column(html, "data-table", "Mean")]
    lowers = [c["text"] for c in column(html, "data-table", "Lower limit")]
    uppers = [c["text"] for c in column(html, "data-table", "Upper limit")]
    types = [
        c["attrs"]["data-point-type"] for c in column(html, "data-table", "Point type")
    ]
    assert periods == [o.period.label for o in observations]
    for i, observation in enumerate(observations):
        assert values[i].split(" ")[0] == format_number(observation.value, 1)
        group = next(g for g in groups if g["start"] <= i < g["end"])
        assert means[i] == format_number(group["mean"], 1)
        assert lowers[i].split(" ")[0] == format_number(group["lower_limit"], 1)
        assert uppers[i].split(" ")[0] == format_number(group["upper_limit"], 1)
    assert types == [p["type"] for p in points]

    # The chart: the same values, the stored limits, special causes by type.
    figure = response.context["figure"]
    traces = {t["name"]: t for t in figure["data"]}
    assert traces["Value (common cause)"]["y"] == [o.value for o in observations]
    assert traces["Mean"]["y"] == [groups[0]["mean"]] * len(observations)
    limits = [t for t in figure["data"] if t["name"] == "Process limits"]
    assert {t["y"][0] for t in limits} == {
        groups[0]["lower_limit"],
        groups[0]["upper_limit"],
    }
    concern = traces["Special cause concern"]
    assert concern["x"] == [
        p["label"] for p in points if p["type"] == "special_cause_concern"
    ]
    improvement = traces["Special cause improvement"]
    assert concern["marker"]["symbol"] != improvement["marker"]["symbol"]
    assert concern["marker"]["color"] != improvement["marker"]["color"]
    target = Target.objects.get(indicator=rtt)
    assert set(traces["Target"]["y"]) == {target.value}

    # Drawn by the plotly.js of the Python package, served locally; figure embedded
    # as JSON data, never as markup.
    assert '<script id="spc-chart-data" type="application/json">' in html
    assert 'src="/indicators/assets/plotly-' in html
    assert "cdn" not in html.lower()
    assert response.context["demo_data"] is True


def test_every_flag_shows_its_reason_and_method(client, viewer, rtt):
    client.force_login(viewer)
    html = client.get(url(rtt)).content.decode()
    page_result = SeriesResult.objects.get(
        indicator=rtt, area__code="RK9", breakdown=""
    )
    for reason in (
        page_result.spc_reason,
        page_result.rag_reason,
        page_result.overdue_reason,
        page_result.spc["assurance_reason"],
    ):
        assert reason
        assert escape(reason) in html
    rows = body_rows(html, "flags")
    names = [row[0]["text"] for row in rows]
    assert names[:3] == ["Variation", "Assurance", "Against target"]
    assert "Method: Making Data Count XmR chart" in rows[0][2]["text"]

    flag = ExceptionFlag.objects.get(indicator=rtt, cleared_at__isnull=True)
    flag_rows = body_rows(html, "exception-flags")
    assert [r[0]["text"] for r in flag_rows] == [flag.get_rule_display()]
    assert flag_rows[0][2]["text"] == flag.reason
    assert flag_rows[0][4]["text"] == "Open"

    flag.cleared_at = timezone.now()
    flag.save()
    html = client.get(url(rtt)).content.decode()
    assert body_rows(html, "exception-flags")[0][4]["text"].startswith("Cleared")


def test_definition_framework_targets_commentary_and_actions(
    client, viewer, rtt, plymouth
):
    action = Action.objects.filter(strategy__system=plymouth).first()
    action.indicators.add(rtt)
    ProgressReport.objects.create(
        action=action, date=date(2017, 10, 1), text="<p>Older note</p>", position=1
    )
    ProgressReport.objects.create(
        action=action, date=date(2018, 1, 5), text="<p>Latest word here</p>"
    )
    hostile = ExceptionCommentary.objects.create(
        strategy=rtt.assignments.first().strategy,
        indicator=rtt,
        heading="Recovery <plan>",
        text='<p>Fine</p><script>alert("x")</script><img src=x onerror="alert(1)">',
        dated=date(2018, 2, 1),
    )
    client.force_login(viewer)
    html = client.get(url(rtt)).content.decode()

    assert escape(rtt.definition) in html
    assert rtt.get_source_framework_display() in html
    for assignment in IndicatorAssignment.objects.filter(indicator=rtt):
        assert assignment.strategy.name in html
    for item in rtt.framework_items.all():
        assert escape((item.title or item.text)[:60]) in html
    assert escape(Target.objects.get(indicator=rtt).text) in html

    # Commentary, newest first, sanitised, linked to its exception report.
    commentaries = list(
        ExceptionCommentary.objects.filter(indicator=rtt).order_by("-dated")
    )
    assert html.count('data-testid="commentary"') == len(commentaries)
    assert html.index("Recovery &lt;plan&gt;") < html.index(
        escape(commentaries[1].heading)
    )
    assert "<p>Fine</p>" in html
    assert "alert" not in html
    assert "onerror" not in html
    strategy = hostile.strategy
    assert f'href="/scorecard/plymouth/{strategy.slug}/exceptions/"' in html

    # The action, linked to its page, with its latest progress.
    rows = body_rows(html, "actions")
    assert [r[0]["text"].startswith(action.title) for r in rows] == [True]
    assert f'href="/actions/activity/{action.pk}/"' in html
    assert "Latest word here" in rows[0][3]["text"]


def test_revisions_show_every_version_and_the_return_it_came_from(
    client, viewer, make_indicator, home_area
):
    indicator = make_indicator()
    observations = add_values(indicator, home_area, WAVY)
    compute(indicator)
    newer = revise(observations[3], 90.5)
    client.force_login(viewer)
    html = client.get(url(indicator)).content.decode()

    # The table shows the current value; the statistics have not caught up yet.
    values = [c["text"] for c in column(html, "data-table", "Value")]
    assert values[3] == "90.5"
    assert "Statistics being updated" in html
    types = column(html, "data-table", "Point type")
    assert types[3]["text"] == "not yet in the statistics"

    revisions = body_rows(html, "revisions")
    assert len(revisions) == len(WAVY)
    revised = revisions[3]
    assert "revised" in revised[0]["text"]
    assert "83.0" in revised[1]["text"]
    assert "90.5" in revised[1]["text"]
    assert "Revising return" in revised[1]["text"]
    assert f'href="/returns/{newer.source_return_id}/"' in html
    assert f'href="/returns/{observations[3].source_return_id}/"' in html
    assert "1 value was revised" in html

    compute(indicator)
    html = client.get(url(indicator)).content.decode()
    assert "Statistics being updated" not in html
    assert column(html, "data-table", "Point type")[3]["attrs"]["data-point-type"]


def test_trial_limits_and_rebase_are_shown_as_such(
    client, viewer, make_indicator, home_area
):
    indicator = make_indicator()
    observations = add_values(indicator, home_area, [*WAVY, 90, 91, 89, 92, 90])
    RebasePoint.objects.create(
        indicator=indicator, period=observations[12].period, reason="New pathway"
    )
    compute(indicator)
    client.force_login(viewer)
    response = client.get(url(indicator))
    html = response.content.decode()

    groups = SeriesResult.objects.get(indicator=indicator).spc["groups"]
    assert [g["is_trial"] for g in groups] == [True, True]  # 12 and 9 points
    figure = response.context["figure"]
    trial = [t for t in figure["data"] if t["name"] == "Trial limits"]
    assert trial
    assert all(t["line"]["dash"] == "dash" for t in trial)
    texts = [a["text"] for a in figure["layout"]["annotations"]]
    assert "trial limits" in texts
    assert "Rebased" in texts
    assert [s["x0"] for s in figure["layout"]["shapes"]] == [11.5]
    assert "(trial)" in column(html, "data-table", "Lower limit")[0]["text"]
    assert "The limits restart at" in html
    assert "New pathway" in html


def test_area_switcher_england_line_and_unknown_area(
    client, viewer, make_indicator, home_area
):
    indicator = make_indicator()
    trust = Area.objects.get(code="RK9")
    england = Area.objects.get(code=ENGLAND_CODE)
    add_values(indicator, home_area, WAVY)
    add_values(indicator, trust, [70 + v / 10 for v in WAVY])
    add_values(indicator, england, [85.0] * len(WAVY))
    compute(indicator)
    client.force_login(viewer)

    response = client.get(url(indicator))
    page = response.context["page"]
    assert page.chosen.area == home_area  # the system's home area by default
    assert [o.area.code for o in page.options][-1] == ENGLAND_CODE
    html = response.content.decode()
    assert 'name="series"' in html
    assert 'value="RK9|"' in html
    assert column(html, "data-table", "England")[0]["text"] == "85.0"
    traces = {t["name"]: t for t in response.context["figure"]["data"]}
    assert traces["England"]["y"] == [85.0] * len(WAVY)

    response = client.get(url(indicator, area="rk9"))
    assert response.context["page"].chosen.area == trust
    values = [
        c["text"] for c in column(response.content.decode(), "data-table", "Value")
    ]
    assert values[0] == f"{70 + WAVY[0] / 10:.1f}"

    # A breakdown, chosen with the switcher's value.
    add_values(indicator, trust, [60.0] * 3, breakdown="Female")
    response = client.get(url(indicator, series="RK9|Female"))
    chosen = response.context["page"].chosen
    assert (chosen.area, chosen.breakdown) == (trust, "Female")
    html = response.content.decode()
    assert [c["text"] for c in column(html, "data-table", "Value")] == ["60.0"] * 3
    assert 'value="RK9|Female" selected' in html

    response = client.get(url(indicator, area="E99999999"))
    assert response.context["page"].chosen.area == home_area
    assert "has no values for the area" in response.content.decode()


def test_a_series_without_spc_has_no_limits_and_says_why(client, viewer, plymouth):
    result = SeriesResult.objects.filter(
        indicator__system=plymouth, method=SeriesResult.Method.INSUFFICIENT
    ).first()
    client.force_login(viewer)
    response = client.get(url(result.indicator))
    html = response.content.decode()
    header = [c["text"] for c in table_rows(html, "data-table")[0]]
    assert "Mean" not in header
    assert "Point type" not in header
    names = {t["name"] for t in response.context["figure"]["data"]}
    assert "Mean" not in names
    assert "Process limits" not in names
    assert escape(result.spc_reason) in html
    assert body_rows(html, "flags")[0][1]["text"] == "Not shown"


def test_no_demo_banner_without_synthetic_values(
    client, viewer, make_indicator, home_area
):
    indicator = make_indicator()
    add_values(indicator, home_area, WAVY)
    compute(indicator)
    client.force_login(viewer)
    response = client.get(url(indicator))
    assert response.context["demo_data"] is False
    assert "app-demo-banner" not in response.content.decode()


def test_an_indicator_without_values_still_shows_its_definition(
    client, viewer, make_indicator
):
    indicator = make_indicator(definition="Nothing loaded yet for this one.")
    client.force_login(viewer)
    response = client.get(url(indicator))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No values have been loaded for this indicator yet" in html
    assert "Nothing loaded yet for this one." in html
    assert response.context["figure"] is None


def test_other_systems_indicators_are_not_found(
    client, torbay_analyst, viewer, rtt, make_indicator, torbay
):
    assert client.get(url(rtt)).status_code == 302  # signed out: to the sign-in page

    client.force_login(torbay_analyst)
    assert client.get(url(rtt)).status_code == 404
    assert client.get("/indicators/999999/").status_code == 404

    torbay_indicator = make_indicator(key="torbay-only", system=torbay)
    client.force_login(viewer)
    assert client.get(url(torbay_indicator)).status_code == 404
    assert client.post(url(rtt)).status_code == 405

    no_role = make_user("nobody")
    client.force_login(no_role)
    assert client.get(url(rtt)).status_code == 404


def _queries(client, path, *, cached: bool) -> int:
    """The queries of one request for the page, built afresh or from the page cache."""
    if not cached:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_queries_stay_fixed_as_points_revisions_and_links_grow(
    client, viewer, make_indicator, home_area, plymouth, django_assert_max_num_queries
):
    indicator = make_indicator()
    strategy = plymouth.strategies.first()
    IndicatorAssignment.objects.create(indicator=indicator, strategy=strategy)
    observations = add_values(indicator, home_area, WAVY)
    # One of each listed thing to start with (an empty list skips its prefetch).
    first_action = Action.objects.filter(strategy=strategy).first()
    first_action.indicators.add(indicator)
    Target.objects.create(indicator=indicator, kind="absolute", value=80, text="80%")
    compute(indicator)
    client.force_login(viewer)
    client.get(url(indicator))  # warm the session
    cache.clear()
    with django_assert_max_num_queries(25):
        client.get(url(indicator))
    built = _queries(client, url(indicator), cached=False)
    # From the cache: the session and user, the indicator (the access check), its
    # stamp, the latest recomputation (in the cache's key), the navigation.
    with django_assert_max_num_queries(6):
        client.get(url(indicator))
    hit = _queries(client, url(indicator), cached=True)

    # Grow everything the page lists.
    more = add_values(indicator, home_area, WAVY * 3, start=len(WAVY))
    for observation in (observations + more)[::5]:
        revise(observation, observation.value + 1)
    Target.objects.create(indicator=indicator, kind="absolute", value=82, text="82%")
    Target.objects.create(
        indicator=indicator,
        kind="absolute",
        value=85,
        applies_to=date(2016, 3, 31),
        text="85% by March 2016",
    )
    for position, item in enumerate(strategy.items.all()[:3]):
        indicator.framework_items.add(item)
        ExceptionCommentary.objects.create(
            strategy=strategy,
            indicator=indicator,
            heading=f"Commentary {position}",
            text="<p>Why</p>",
            dated=date(2017, 1, 1) + timedelta(days=position),
            position=position,
        )
    for action in Action.objects.filter(strategy=strategy)[:4]:
        action.indicators.add(indicator)  # the first one again: no change
        ProgressReport.objects.create(
            action=action, date=date(2019, 1, 1), text="<p>Going well</p>"
        )
    RebasePoint.objects.create(
        indicator=indicator, period=period_for(30), reason="Service change"
    )
    compute(indicator)
    ExceptionFlag.objects.create(
        indicator=indicator,
        area=home_area,
        rule="rag_red",
        severity="high",
        reason="An old flag",
        raised_at=timezone.now() - timedelta(days=90),
        cleared_at=timezone.now() - timedelta(days=30),
    )

    response = client.get(url(indicator))
    page = response.context["page"]
    assert len(page.rows) == len(WAVY) * 4
    assert page.revision_count == len((observations + more)[::5])
    assert len(page.actions) == 4
    assert len(page.commentaries) == 3
    assert _queries(client, url(indicator), cached=False) == built
    client.get(url(indicator))
    assert _queries(client, url(indicator), cached=True) == hit


def test_the_cached_page_follows_edits_and_is_the_same_for_every_reader(
    client, viewer, rtt, plymouth
):
    """The page is cached; edits that bump no cache version (targets, actions and their
    progress, the definition, exception flags) still show on the next request, and one
    reader's page never carries another's name."""
    other = make_user("other-reader", system=plymouth, role="viewer")
    client.force_login(viewer)
    first = main(client.get(url(rtt)).content.decode())
    assert main(client.get(url(rtt)).content.decode()) == first  # from the cache
    client.force_login(other)
    assert main(client.get(url(rtt)).content.decode()) == first
    assert "other-reader" not in first

    target = Target.objects.get(indicator=rtt)
    target.text = "A brand new target wording"
    target.save()
    assert "A brand new target wording" in client.get(url(rtt)).content.decode()

    action = Action.objects.filter(strategy__system=plymouth).exclude(indicators=rtt)[0]
    action.indicators.add(rtt)
    html = client.get(url(rtt)).content.decode()
    assert escape(action.title) in html
    ProgressReport.objects.create(
        action=action, date=date(2019, 3, 1), text="<p>Progress since caching</p>"
    )
    assert "Progress since caching" in client.get(url(rtt)).content.decode()

    rtt.definition = "A definition edited after the page was cached."
    rtt.save()
    assert rtt.definition in client.get(url(rtt)).content.decode()

    area = SeriesResult.objects.filter(indicator=rtt).first().area
    ExceptionFlag.objects.create(
        indicator=rtt,
        area=area,
        rule="rag_red",
        severity="high",
        reason="A flag raised after the page was cached",
        raised_at=timezone.now(),
    )
    html = client.get(url(rtt, area=area.code)).content.decode()
    assert "A flag raised after the page was cached" in html


def test_changes_to_the_definition_and_targets_show_who_when_before_and_after(
    client, viewer, rtt
):
    editor = make_user("definition-editor", first_name="Dana", last_name="Editor")
    old_title = rtt.title
    rtt.title = "RTT: patients seen within 18 weeks"
    rtt._history_user = editor
    rtt.save()
    target = Target.objects.create(indicator=rtt, kind="absolute", value=92, text="92%")
    target.value, target.text = 95, "95%"
    target._history_user = editor
    target.save()
    client.force_login(viewer)

    html = client.get(url(rtt)).content.decode()

    history = html.split('data-testid="history"', 1)[1]
    assert "Changed: the indicator&#x27;s definition" in history
    assert "by Dana Editor" in history
    assert escape(old_title) in history
    assert escape("RTT: patients seen within 18 weeks") in history
    assert "Changed: target 95%" in history
    assert "Created: target 92%" in history
