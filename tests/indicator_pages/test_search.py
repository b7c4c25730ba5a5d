"""Search across indicators, actions and commentary: only what the user's systems hold,
every word must match, results grouped with links, highlighted safely, bounded."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from actions.models import Action
from indicators.models import Indicator
from scorecard.models import ExceptionCommentary
from strategies import search as site_search
from tests.conftest import make_user


def hits(response, group: str) -> list:
    return next(g for g in response.context["results"].groups if g.key == group).hits


def test_dementia_finds_indicators_actions_and_commentary_of_the_users_system(
    client, viewer, plymouth, torbay
):
    client.force_login(viewer)
    response = client.get("/search/", {"q": "dementia"})
    assert response.status_code == 200

    expected = Indicator.objects.filter(system=plymouth).filter(
        title__icontains="dementia"
    ) | Indicator.objects.filter(system=plymouth, definition__icontains="dementia")
    urls = {h.url for h in hits(response, "indicators")}
    assert urls == {f"/indicators/{i.pk}/" for i in expected.distinct()}
    assert urls  # the seed has Plymouth's dementia diagnosis rate

    actions = Action.objects.filter(strategy__system=plymouth).filter(
        title__icontains="dementia"
    ) | Action.objects.filter(
        strategy__system=plymouth, description__icontains="dementia"
    )
    assert {h.url for h in hits(response, "actions")} == {
        f"/actions/plymouth/{a.strategy.slug}/#action-{a.pk}"
        for a in actions.distinct()
    }
    commentary = ExceptionCommentary.objects.filter(
        strategy__system=plymouth, heading__icontains="dementia"
    ) | ExceptionCommentary.objects.filter(
        strategy__system=plymouth, text__icontains="dementia"
    )
    commentary_hits = hits(response, "commentary")
    assert len(commentary_hits) == commentary.distinct().count() >= 1
    assert all(
        h.url.startswith("/scorecard/plymouth/") and "/exceptions/#" in h.url
        for h in commentary_hits
    )

    # Torbay's dementia indicator is not shown to a Plymouth-only viewer.
    html = response.content.decode()
    for indicator in Indicator.objects.filter(
        system=torbay, title__icontains="dementia"
    ):
        assert f"/indicators/{indicator.pk}/" not in html
    assert "<mark>dementia</mark>" in html.lower()


def test_every_word_must_match_in_some_field(client, viewer, plymouth):
    client.force_login(viewer)
    both = client.get("/search/", {"q": "dementia diagnosis"})
    titles = [str(h.title).lower() for h in hits(both, "indicators")]
    assert titles
    assert all("diagnosis" in t or "dementia" in t for t in titles)
    none = client.get("/search/", {"q": "dementia zzzqqq"})
    assert none.context["results"].total_shown == 0
    assert "Nothing matches" in none.content.decode()


def test_short_and_long_queries_are_refused_with_a_message(client, viewer):
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/search/", {"q": " de "})
    assert site_search.QUERY_TOO_SHORT in response.content.decode()
    assert not any(
        "indicators_indicator" in q["sql"] for q in captured.captured_queries
    )
    response = client.get("/search/", {"q": "x" * 101})
    assert site_search.QUERY_TOO_LONG in response.content.decode()
    empty = client.get("/search/")
    assert empty.status_code == 200
    assert empty.context["results"].groups == []


def test_results_are_escaped_then_highlighted(client, viewer, plymouth):
    strategy = plymouth.strategies.first()
    action = Action.objects.filter(strategy=strategy).first()
    action.title = '<img src=x onerror="alert(1)"> Memory café & dementia'
    action.description = "<p>Support <b>dementia</b> carers &amp; families</p>"
    action.save()
    client.force_login(viewer)
    html = client.get("/search/", {"q": "dementia café"}).content.decode()
    assert "<img" not in html
    assert 'onerror="' not in html
    assert escape('<img src=x onerror="alert(1)">') in html
    assert "Memory <mark>café</mark> &amp; <mark>dementia</mark>" in html
    assert "Support <mark>dementia</mark> carers &amp; families" in html


def test_highlight_and_snippet_escape_everything():
    pattern = site_search._pattern(["a<b", "x"])
    assert site_search.highlight("1 A<B 2 <script>x", pattern) == (
        "1 <mark>A&lt;B</mark> 2 &lt;script&gt;<mark>x</mark>"
    )
    long_text = "word " * 200 + "needle " + "tail " * 200
    snippet = site_search.snippet(long_text, site_search._pattern(["needle"]))
    assert "<mark>needle</mark>" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert len(snippet) < site_search.SNIPPET_CHARACTERS + 40


def test_queries_are_bounded_and_fixed_as_matches_grow(
    client, viewer, plymouth, django_assert_max_num_queries
):
    client.force_login(viewer)
    client.get("/search/", {"q": "zebra"})
    with CaptureQueriesContext(connection) as captured:
        client.get("/search/", {"q": "zebra"})
    few = len(captured)

    strategy = plymouth.strategies.first()
    plan = Action.objects.filter(strategy=strategy).first().plan
    for i in range(40):
        Action.objects.create(
            plan=plan, strategy=strategy, position=500 + i, title=f"Zebra crossing {i}"
        )
        ExceptionCommentary.objects.create(
            strategy=strategy,
            heading=f"Zebra note {i}",
            text="<p>zebra</p>",
            dated=date(2018, 1, 1),
        )
    with django_assert_max_num_queries(few):
        response = client.get("/search/", {"q": "zebra"})
    actions = next(g for g in response.context["results"].groups if g.key == "actions")
    assert len(actions.hits) == site_search.RESULTS_PER_GROUP
    assert actions.more
    assert "Showing the first 25" in response.content.decode()


def test_search_needs_a_sign_in_and_a_role(client, plymouth):
    response = client.get("/search/", {"q": "dementia"})
    assert response.status_code == 302
    client.force_login(make_user("no-role"))
    response = client.get("/search/", {"q": "dementia"})
    assert response.status_code == 200
    assert response.context["results"].total_shown == 0


@pytest.mark.parametrize("query", ["RTT", "18 weeks", "Referral to treatment"])
def test_codes_and_phrases_match_as_typed(client, viewer, query):
    client.force_login(viewer)
    response = client.get("/search/", {"q": query})
    assert response.context["results"].total_shown >= 1
