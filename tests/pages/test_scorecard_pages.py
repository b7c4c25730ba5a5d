"""The scorecard pages through Django's test client: who may see what, the overview rows
against the database, filters and sorting, "as at", query counts, the cache and the demo
banner."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from actions.models import Action, ProgressReport
from commissioning.api.selectors import display_areas, status_of
from indicators.models import (
    Indicator,
    IndicatorAssignment,
    Observation,
    Target,
)
from scorecard.cache import VERSION_KEY, current_version
from scorecard.models import ExceptionCommentary, ExceptionFlag, SeriesResult
from scorecard.services.recompute import recompute
from strategies.models import FrameworkItem, SystemRole
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def overview_url(system, strategy) -> str:
    return reverse("strategy_overview", args=[system.slug, strategy.slug])


def shown_indicator_ids(response) -> list[int]:
    return [
        int(i)
        for i in re.findall(
            r'class="nhsuk-table__row app-overview-row" data-indicator-id="(\d+)"',
            response.content.decode(),
        )
    ]


def headline_results(system, strategy) -> dict[int, SeriesResult]:
    """indicator id -> its headline SeriesResult, straight from the database."""
    ids = list(
        IndicatorAssignment.objects.filter(strategy=strategy).values_list(
            "indicator_id", flat=True
        )
    )
    areas = display_areas(system, ids)
    return {
        r.indicator_id: r
        for r in SeriesResult.objects.filter(indicator_id__in=ids, breakdown="")
        .select_related("latest_period", "indicator")
        .order_by("pk")
        if areas.get(r.indicator_id) == r.area_id
    }


def open_flag_counts(system, strategy) -> dict[int, int]:
    ids = list(
        IndicatorAssignment.objects.filter(strategy=strategy).values_list(
            "indicator_id", flat=True
        )
    )
    areas = display_areas(system, ids)
    counts: dict[int, int] = {}
    for indicator_id, area_id in ExceptionFlag.objects.filter(
        indicator_id__in=ids, breakdown="", cleared_at__isnull=True
    ).values_list("indicator_id", "area_id"):
        if areas.get(indicator_id) == area_id:
            counts[indicator_id] = counts.get(indicator_id, 0) + 1
    return counts


def row_html(response, indicator_id: int) -> str:
    body = response.content.decode()
    start = body.index(f'app-overview-row" data-indicator-id="{indicator_id}"')
    return body[start : body.index("</tr>", start)]


# --- access --------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_sign_in(client, plymouth):
    strategy = plymouth.strategies.first()
    for url in [
        reverse("scorecard"),
        reverse("system_scorecard", args=[plymouth.slug]),
        overview_url(plymouth, strategy),
        reverse("exception_report", args=[plymouth.slug, strategy.slug]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login"))


def test_a_plymouth_viewer_sees_plymouth_and_gets_404_for_torbay(
    client, viewer, plymouth, torbay
):
    client.force_login(viewer)
    mine = plymouth.strategies.first()
    theirs = torbay.strategies.first()

    assert client.get(reverse("scorecard")).url == reverse(
        "system_scorecard", args=[plymouth.slug]
    )
    assert (
        client.get(reverse("system_scorecard", args=[plymouth.slug])).status_code == 200
    )
    assert client.get(overview_url(plymouth, mine)).status_code == 200
    for url in [
        reverse("system_scorecard", args=[torbay.slug]),
        overview_url(torbay, theirs),
        reverse("exception_report", args=[torbay.slug, theirs.slug]),
        # Another system's strategy under one's own system is no way in either.
        reverse("strategy_overview", args=[plymouth.slug, theirs.slug])
        if not plymouth.strategies.filter(slug=theirs.slug).exists()
        else reverse("system_scorecard", args=[torbay.slug]),
    ]:
        assert client.get(url).status_code == 404, url
    body = client.get(reverse("system_scorecard", args=[plymouth.slug])).content
    assert torbay.name.encode() not in body


def test_a_user_without_a_role_is_told_so(client, db):
    client.force_login(make_user("nobody"))

    response = client.get(reverse("scorecard"))

    assert response.status_code == 200
    assert "No scorecard to show" in response.content.decode()


def test_the_switch_lists_only_systems_the_user_may_see(client, plymouth, torbay):
    user = make_user("both", system=plymouth, role=SystemRole.Role.VIEWER)
    SystemRole.objects.create(system=torbay, user=user, role=SystemRole.Role.VIEWER)
    client.force_login(user)

    body = client.get(
        reverse("system_scorecard", args=[plymouth.slug])
    ).content.decode()

    assert f'href="{reverse("system_scorecard", args=[torbay.slug])}"' in body
    single = make_user("single", system=plymouth, role=SystemRole.Role.VIEWER)
    client.force_login(single)
    body = client.get(
        reverse("system_scorecard", args=[plymouth.slug])
    ).content.decode()
    assert "app-system-switch" not in body


# --- system scorecard ---------------------------------------------------------------


def test_system_cards_count_what_the_database_holds(client, viewer, plymouth):
    client.force_login(viewer)

    response = client.get(reverse("system_scorecard", args=[plymouth.slug]))

    cards = {c.strategy.slug: c for c in response.context["scorecard"].cards}
    assert list(cards) == list(
        plymouth.strategies.order_by("number").values_list("slug", flat=True)
    )
    for strategy in plymouth.strategies.all():
        card = cards[strategy.slug]
        results = headline_results(plymouth, strategy)
        assignments = IndicatorAssignment.objects.filter(strategy=strategy).count()
        assert card.indicator_count == assignments
        assert sum(t.count for t in card.variation) == assignments
        assert sum(t.count for t in card.rag) == assignments
        concern = sum(1 for r in results.values() if status_of(r) == "concern")
        assert {t.key: t.count for t in card.variation}["concern"] == concern
        red = sum(1 for r in results.values() if r.rag == "Red")
        assert {t.key: t.count for t in card.rag}["Red"] == red
        assert card.open_exceptions == sum(
            open_flag_counts(plymouth, strategy).values()
        )
        assert card.action_count == strategy.actions.count()
    wellbeing = plymouth.strategies.get(slug="wellbeing")
    assert f"&pound;{wellbeing.spend_gbp_m}m" in response.content.decode()


def test_torbay_priority_areas_render(client, torbay_analyst, torbay):
    client.force_login(torbay_analyst)

    response = client.get(reverse("system_scorecard", args=[torbay.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="nhsuk-card app-card"') == torbay.strategies.count() == 12
    assert "Priority area 12" in body
    for strategy in torbay.strategies.all():
        page = client.get(overview_url(torbay, strategy))
        assert page.status_code == 200
        assert f"Priority area {strategy.number}" in page.content.decode()
        assert len(shown_indicator_ids(page)) == strategy.assignments.count()


# --- strategy performance overview -------------------------------------------------------


def test_overview_rows_equal_the_computed_results(client, viewer, plymouth):
    client.force_login(viewer)
    for strategy in plymouth.strategies.all():
        response = client.get(overview_url(plymouth, strategy))
        assert response.status_code == 200
        shown = shown_indicator_ids(response)
        assert sorted(shown) == sorted(
            strategy.assignments.values_list("indicator_id", flat=True)
        )
        for indicator_id, result in headline_results(plymouth, strategy).items():
            html = row_html(response, indicator_id)
            indicator = result.indicator
            if result.latest_period is not None:
                assert result.latest_period.label in html
                assert f"{result.latest_value:,.{indicator.decimal_places}f}" in html
            if result.window_first_value is not None:
                first = f"{result.window_first_value:,.{indicator.decimal_places}f}"
                assert first in html
            if result.rag:
                assert f"<span>{result.rag}</span>" in html
            if len(result.sparkline) >= 2:
                assert '<svg class="app-sparkline"' in html
                assert 'role="img"' in html


def test_rows_are_grouped_under_the_first_level_of_the_framework(
    client, viewer, plymouth
):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="wellbeing")
    aims = list(
        FrameworkItem.objects.filter(strategy=strategy, level__position=0)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    top_level = plymouth.levels.order_by("position").first()
    aims = list(
        FrameworkItem.objects.filter(strategy=strategy, level=top_level)
        .order_by("position")
        .values_list("pk", flat=True)
    )

    response = client.get(overview_url(plymouth, strategy))

    groups = response.context["groups"]
    seen = [g.aim.pk for g in groups if g.aim is not None]
    assert seen == [a for a in aims if a in seen]  # framework order
    for group in groups:
        for row in group.rows:
            if group.aim is not None:
                assert group.aim.pk in row.items
                assert group.aim.level_id == top_level.pk


def test_filters_narrow_the_rows(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = overview_url(plymouth, strategy)
    results = headline_results(plymouth, strategy)

    concern = client.get(url, {"status": "concern"})
    assert set(shown_indicator_ids(concern)) == {
        i for i, r in results.items() if status_of(r) == "concern"
    }
    assert shown_indicator_ids(concern)

    flagged = client.get(url, {"exceptions": "1"})
    assert set(shown_indicator_ids(flagged)) == set(
        open_flag_counts(plymouth, strategy)
    )

    framework = (
        Indicator.objects.filter(assignments__strategy=strategy)
        .values_list("source_framework", flat=True)
        .first()
    )
    by_framework = client.get(url, {"framework": framework})
    assert set(shown_indicator_ids(by_framework)) == set(
        Indicator.objects.filter(
            assignments__strategy=strategy, source_framework=framework
        ).values_list("pk", flat=True)
    )

    element_level = plymouth.levels.order_by("position").last()
    element = (
        FrameworkItem.objects.filter(strategy=strategy, level=element_level)
        .filter(indicators__isnull=False)
        .first()
    )
    by_element = client.get(url, {element_level.slug: element.pk})
    assert set(shown_indicator_ids(by_element)) == set(
        element.indicators.filter(assignments__strategy=strategy).values_list(
            "pk", flat=True
        )
    )


def test_bad_filter_values_are_reported_and_ignored(client, viewer, plymouth, torbay):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    foreign_item = FrameworkItem.objects.filter(strategy__system=torbay).first()
    level = plymouth.levels.order_by("position").first()

    response = client.get(
        overview_url(plymouth, strategy),
        {
            "status": "<script>alert(1)</script>",
            "rag": "purple",
            "framework": "NOPE",
            "sort": "drop table",
            level.slug: foreign_item.pk,
            "as_at": "31/10/2017",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert len(shown_indicator_ids(response)) == strategy.assignments.count()
    for problem in [
        "Unknown status",
        "Unknown RAG rating",
        "Unknown source framework",
        "Unknown sort order",
        f"Unknown {level.name.lower()}",
        "The date must look like 2017-10-31",
    ]:
        assert problem in body
    assert "<script>alert(1)" not in body


def test_sorting_orders_the_rows(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = overview_url(plymouth, strategy)

    by_name = shown_indicator_ids(client.get(url, {"sort": "indicator"}))
    titles = dict(Indicator.objects.filter(pk__in=by_name).values_list("pk", "title"))
    assert [titles[i] for i in by_name] == sorted(titles.values(), key=str.lower)

    by_exceptions = shown_indicator_ids(client.get(url, {"sort": "exceptions"}))
    flags = open_flag_counts(plymouth, strategy)
    counts = [flags.get(i, 0) for i in by_exceptions]
    assert counts == sorted(counts, reverse=True)


def test_htmx_requests_get_the_table_alone(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")

    response = client.get(
        overview_url(plymouth, strategy), {"status": "concern"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="overview-results"')
    assert "<html" not in body
    assert shown_indicator_ids(response)


def _revise_latest_value(plymouth, strategy) -> tuple[Indicator, float, float]:
    """Revise the latest value of an indicator's headline series (as a return would):
    the old version superseded now, a new one current."""
    results = headline_results(plymouth, strategy)
    indicator_id, result = next(
        (i, r) for i, r in results.items() if r.latest_period is not None
    )
    old = Observation.objects.get(
        indicator_id=indicator_id,
        area_id=result.area_id,
        period_id=result.latest_period_id,
        breakdown="",
        is_current=True,
    )
    now = timezone.now()
    new = Observation.objects.create(
        indicator_id=indicator_id,
        area_id=old.area_id,
        period_id=old.period_id,
        value=old.value + 1234.5,
        source_return=old.source_return,
        is_current=False,  # made current once the old one steps aside
    )
    Observation.objects.filter(pk=old.pk).update(
        is_current=False, superseded_at=now, superseded_by=new
    )
    Observation.objects.filter(pk=new.pk).update(is_current=True)
    return result.indicator, old.value, new.value


def test_as_at_shows_the_value_known_then(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    indicator, old_value, new_value = _revise_latest_value(plymouth, strategy)
    recompute(indicator_ids=[indicator.pk])
    decimals = indicator.decimal_places
    url = overview_url(plymouth, strategy)

    now_page = client.get(url)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    then_page = client.get(url, {"as_at": yesterday})

    assert f"{new_value:,.{decimals}f}" in row_html(now_page, indicator.pk)
    then_row = row_html(then_page, indicator.pk)
    assert f"{old_value:,.{decimals}f}" in then_row
    assert f"{new_value:,.{decimals}f}" not in then_row
    assert "as it stood on" in then_page.content.decode()


def test_as_at_before_any_data_shows_no_values(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")

    response = client.get(overview_url(plymouth, strategy), {"as_at": "2000-01-01"})

    assert response.status_code == 200
    for group in response.context["groups"]:
        for row in group.rows:
            assert row.result is None or row.result.latest_value is None


# --- query counts and the cache ---------------------------------------------------------------


def _add_indicators(plymouth, strategy, count: int) -> None:
    """More indicators in the strategy, each with a computed series and an open flag."""
    area = plymouth.home_area
    aim = FrameworkItem.objects.filter(
        strategy=strategy, level=plymouth.levels.order_by("position").first()
    ).first()
    template = SeriesResult.objects.filter(
        indicator__assignments__strategy=strategy, method="spc"
    ).first()
    for n in range(count):
        indicator = Indicator.objects.create(
            system=plymouth,
            key=f"extra-{strategy.slug}-{n}",
            title=f"Extra indicator {n}",
            source_framework="LOCAL",
            measure_type="count",
            period_type="month",
        )
        IndicatorAssignment.objects.create(
            indicator=indicator, strategy=strategy, position=100 + n
        )
        indicator.framework_items.add(aim)
        SeriesResult.objects.create(
            indicator=indicator,
            area=area,
            computed_at=timezone.now(),
            method="spc",
            latest_value=10 + n,
            latest_period=template.latest_period,
            sparkline=template.sparkline,
            spc=template.spc,
            variation="special_cause_concern",
            spc_reason="test",
        )
        ExceptionFlag.objects.create(
            indicator=indicator,
            area=area,
            rule="special_cause_concern",
            severity="high",
            reason="test",
            raised_at=timezone.now(),
        )


@pytest.mark.parametrize("page", ["system", "overview", "exceptions"])
def test_query_count_is_fixed_however_many_indicators(
    client, viewer, plymouth, page, django_assert_max_num_queries
):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = {
        "system": reverse("system_scorecard", args=[plymouth.slug]),
        "overview": overview_url(plymouth, strategy),
        "exceptions": reverse("exception_report", args=[plymouth.slug, strategy.slug]),
    }[page]
    client.get(url)  # warm the session
    cache.clear()
    with django_assert_max_num_queries(30) as before:
        first = client.get(url)
    assert first.status_code == 200

    _add_indicators(plymouth, strategy, 25)
    cache.clear()
    with django_assert_max_num_queries(len(before.captured_queries)):
        after = client.get(url)

    if page == "system":
        card = next(
            c for c in after.context["scorecard"].cards if c.strategy.pk == strategy.pk
        )
        assert card.indicator_count == strategy.assignments.count()
        assert card.open_exceptions >= 25
    else:
        assert after.content.decode().count("Extra indicator") >= 25


def test_a_cached_page_is_served_until_a_recompute_lands(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = overview_url(plymouth, strategy)
    indicator, old_value, new_value = _revise_latest_value(plymouth, strategy)
    decimals = indicator.decimal_places
    SeriesResult.objects.filter(indicator=indicator).update(latest_value=old_value)
    cache.clear()

    before = client.get(url)
    assert f"{old_value:,.{decimals}f}" in row_html(before, indicator.pk)

    # A write behind the pages' back (no recompute) is not seen: the page is cached...
    SeriesResult.objects.filter(indicator=indicator).update(latest_value=new_value)
    stale = client.get(url)
    assert f"{old_value:,.{decimals}f}" in row_html(stale, indicator.pk)

    # ...until a recomputation lands and bumps the version.
    recompute(indicator_ids=[indicator.pk])
    fresh = client.get(url)
    assert f"{new_value:,.{decimals}f}" in row_html(fresh, indicator.pk)


def _page_urls(system, strategy) -> list[str]:
    return [
        reverse("system_scorecard", args=[system.slug]),
        overview_url(system, strategy),
        reverse("exception_report", args=[system.slug, strategy.slug]),
    ]


def test_a_cached_page_is_never_served_to_a_user_who_may_not_see_it(
    client, viewer, plymouth, torbay
):
    strategy = plymouth.strategies.get(slug="community")
    client.force_login(viewer)
    for url in _page_urls(plymouth, strategy):
        assert client.get(url).status_code == 200  # now cached

    outsider = make_user("outsider", system=torbay, role=SystemRole.Role.VIEWER)
    client.force_login(outsider)
    for url in _page_urls(plymouth, strategy):
        assert client.get(url).status_code == 404, url

    # A role taken away shuts the cached pages at once (no recomputation, no bump).
    client.force_login(viewer)
    SystemRole.objects.filter(user=viewer).delete()
    for url in _page_urls(plymouth, strategy):
        assert client.get(url).status_code == 404, url


def test_cached_pages_show_the_signed_in_user_not_the_first_one(
    client, viewer, plymouth, torbay
):
    strategy = plymouth.strategies.get(slug="community")
    client.force_login(viewer)
    for url in _page_urls(plymouth, strategy):
        assert "Signed in as viewer" in client.get(url).content.decode()

    other = make_user(
        "other", system=plymouth, role=SystemRole.Role.VIEWER, first_name="Olwen"
    )
    SystemRole.objects.create(system=torbay, user=other, role=SystemRole.Role.VIEWER)
    client.force_login(other)
    for url in _page_urls(plymouth, strategy):
        body = client.get(url).content.decode()
        assert "Signed in as Olwen" in body, url
        assert "Signed in as viewer" not in body, url
    # The system switch is the user's own too: this user sees Torbay as well.
    body = client.get(_page_urls(plymouth, strategy)[0]).content.decode()
    assert f'href="{reverse("system_scorecard", args=[torbay.slug])}"' in body


def test_cached_pages_keep_the_demo_banner_and_the_htmx_table(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = overview_url(plymouth, strategy)
    for _ in range(2):  # rendered, then cached
        full = client.get(url).content.decode()
        assert "app-demo-banner" in full
        assert full.count("<html") == 1
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert "HX-Request" in response["Vary"]
        partial = response.content.decode()
        assert partial.lstrip().startswith('<div id="overview-results"')
        assert "<html" not in partial
        assert "app-demo-banner" not in partial


def test_every_cached_page_changes_when_a_recompute_lands(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    system_url, overview, exceptions = _page_urls(plymouth, strategy)
    # No exception open anywhere, and the pages cached so.
    ExceptionFlag.objects.update(cleared_at=timezone.now())
    flagged = client.get(exceptions).content.decode()
    assert "has an open exception" in flagged
    client.get(system_url)
    client.get(overview)

    # Behind the pages' back (as another process with its own in-memory cache would):
    # the write's own invalidation is undone, so only the recomputation can show it.
    version = current_version()
    _add_indicators(plymouth, strategy, 1)
    cache.set(VERSION_KEY, version, timeout=None)
    assert "Extra indicator 0" not in client.get(overview).content.decode()
    assert "Extra indicator 0" not in client.get(exceptions).content.decode()

    recompute(indicator_ids=[])
    assert "Extra indicator 0" in client.get(overview).content.decode()
    assert "Extra indicator 0" in client.get(exceptions).content.decode()
    card = client.get(system_url).content.decode()
    assert 'data-count="open-exceptions">1<' in card


def test_renaming_an_indicator_or_an_aim_refreshes_the_cached_page(
    client, viewer, plymouth
):
    """Edits that change what the pages show without a recomputation (in a page, the API
    or the admin) invalidate the cache at once."""
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    overview = overview_url(plymouth, strategy)
    client.get(overview)  # cached

    indicator = Indicator.objects.filter(assignments__strategy=strategy).first()
    indicator.title = "A renamed indicator"
    indicator.save()
    assert "A renamed indicator" in client.get(overview).content.decode()

    aim = FrameworkItem.objects.filter(strategy=strategy).exclude(title="").first()
    aim.title = "A renamed aim"
    aim.save()
    assert "A renamed aim" in client.get(overview).content.decode()


@pytest.mark.parametrize(
    "model", ["target", "progress", "commentary", "indicator", "action's indicators"]
)
def test_writes_to_what_the_pages_show_bump_the_cache_version(plymouth, model):
    strategy = plymouth.strategies.get(slug="community")
    before = current_version()
    if model == "target":
        Target.objects.filter(indicator__system=plymouth).first().save()
    elif model == "progress":
        report = ProgressReport.objects.filter(action__strategy=strategy).first()
        report.delete()
    elif model == "commentary":
        ExceptionCommentary.objects.filter(strategy=strategy).first().save()
    elif model == "action's indicators":
        action = Action.objects.filter(strategy=strategy).first()
        action.indicators.add(Indicator.objects.filter(system=plymouth).last())
    else:
        Indicator.objects.filter(system=plymouth).first().delete()
    assert current_version() != before


def test_renaming_a_strategy_refreshes_its_cached_pages(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    for url in _page_urls(plymouth, strategy):
        client.get(url)

    strategy.name = "Community care, renamed"
    strategy.save()

    for url in _page_urls(plymouth, strategy):
        assert "Community care, renamed" in client.get(url).content.decode(), url


def test_a_cached_page_costs_a_few_queries_however_many_indicators(
    client, viewer, plymouth, django_assert_max_num_queries
):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = overview_url(plymouth, strategy)
    client.get(url)  # rendered and cached
    with django_assert_max_num_queries(8) as few:
        assert client.get(url).status_code == 200
    cached_queries = len(few.captured_queries)  # read now: the query log is a ring

    _add_indicators(plymouth, strategy, 25)
    cache.clear()
    client.get(url)
    with django_assert_max_num_queries(cached_queries):
        body = client.get(url).content.decode()
    assert body.count("Extra indicator") >= 25


def test_saving_commentary_refreshes_the_exception_report(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = reverse("exception_report", args=[plymouth.slug, strategy.slug])
    flagged = next(iter(open_flag_counts(plymouth, strategy)))
    client.get(url)  # cached

    ExceptionCommentary.objects.create(
        strategy=strategy,
        indicator_id=flagged,
        heading="A new note",
        text="<p>Recovery plan agreed with the provider.</p>",
        dated=timezone.localdate(),
        author_name="Community SDG",
        status=ExceptionCommentary.Status.APPROVED,
    )

    assert "Recovery plan agreed with the provider." in client.get(url).content.decode()


def test_draft_commentary_is_not_on_the_report(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    flagged = next(iter(open_flag_counts(plymouth, strategy)))
    ExceptionCommentary.objects.create(
        strategy=strategy,
        indicator_id=flagged,
        heading="Not yet agreed",
        text="<p>Draft words nobody approved.</p>",
        dated=timezone.localdate(),
        status=ExceptionCommentary.Status.DRAFT,
    )

    body = client.get(
        reverse("exception_report", args=[plymouth.slug, strategy.slug])
    ).content.decode()

    assert "Draft words nobody approved." not in body


# --- exception report ----------------------------------------------------------------------


def test_exception_report_lists_each_open_exception_with_its_reasons(
    client, viewer, plymouth
):
    client.force_login(viewer)
    for strategy in plymouth.strategies.all():
        response = client.get(
            reverse("exception_report", args=[plymouth.slug, strategy.slug])
        )
        body = response.content.decode()
        flags = open_flag_counts(plymouth, strategy)
        entries = response.context["report"].entries
        assert {e.indicator.pk for e in entries} == set(flags)
        for entry in entries:
            assert len(entry.flags) == flags[entry.indicator.pk]
            assert entry.heading.startswith(entry.indicator.title)
            assert escape(entry.heading) in body
            for flag in entry.flags:
                assert escape(flag.reason) in body


def test_published_commentary_appears_on_the_report(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    notes = ExceptionCommentary.objects.filter(
        strategy=strategy, status=ExceptionCommentary.Status.APPROVED
    )
    assert notes.exists()

    body = client.get(
        reverse("exception_report", args=[plymouth.slug, strategy.slug])
    ).content.decode()

    for note in notes:
        # The text is stored sanitised; the page shows it as stored.
        assert note.text in body


# --- demo data banner ---------------------------------------------------------------------


def test_demo_banner_only_when_synthetic_values_are_shown(client, viewer, plymouth):
    client.force_login(viewer)
    strategy = plymouth.strategies.get(slug="community")
    url = overview_url(plymouth, strategy)
    assert "app-demo-banner" in client.get(url).content.decode()

    SeriesResult.objects.update(has_synthetic=False)
    cache.clear()

    assert "app-demo-banner" not in client.get(url).content.decode()
    assert (
        "app-demo-banner"
        not in client.get(
            reverse("system_scorecard", args=[plymouth.slug])
        ).content.decode()
    )
