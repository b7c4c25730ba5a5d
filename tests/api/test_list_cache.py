"""The exception, indicator and action lists: rows built by hand are exactly what the
documented serializers give, and the rendered list is kept in the scorecard pages' cache
per URL and per set of systems (strategies, for actions) the user may see: a cached list
is the list computed afresh, it changes when the pages' version moves, and nobody is
ever served a list cached for someone who may see other rows."""

import gzip
import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from actions.apis import ActionSerializer, _actions
from actions.models import Action, ProgressReport
from commissioning.api.selectors import RULE_METHODS
from indicators.apis import _indicators_queryset, headlines
from indicators.models import Indicator
from indicators.serializers import IndicatorSerializer
from scorecard.apis import ExceptionSerializer
from scorecard.cache import bump_version
from scorecard.models import ExceptionCommentary, ExceptionFlag
from strategies.models import SdgMembership, SystemDesignGroup, SystemRole
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

EXCEPTIONS = "/api/v1/exceptions/?include_cleared=true&page_size=1000"
INDICATORS = "/api/v1/indicators/?page_size=1000"
ACTIONS = "/api/v1/actions/?page_size=1000"
LISTS = [EXCEPTIONS, INDICATORS, ACTIONS]


@pytest.fixture
def reader(bearer, viewer):
    return bearer(viewer)


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def rendered(data) -> bytes:
    return JSONRenderer().render(data)


# ------------------------------------------------------------------ rows as documented


@pytest.fixture
def authors(plymouth):
    """Commentary and progress written by users (named and not) as well as by name,
    and an action linked to indicators: every branch of the rows."""
    named = make_user("jo", first_name="Jo", last_name="Bloggs")
    unnamed = make_user("anon-author")
    strategy = plymouth.strategies.get(slug="wellbeing")
    flag = (
        ExceptionFlag.objects.filter(indicator__system=plymouth).order_by("id").first()
    )
    for i, author in enumerate([named, unnamed]):
        ExceptionCommentary.objects.create(
            strategy=strategy, indicator=flag.indicator, heading=f"By a user {i}",
            text="<p>t</p>", dated=date(2017, 11, 30), author=author,
            expected_recovery=date(2018, 3, 31), position=i,
        )  # fmt: skip
    action = Action.objects.filter(strategy=strategy).order_by("id").first()
    action.indicators.add(*Indicator.objects.filter(system=plymouth)[:3])
    for author in (named, unnamed):
        ProgressReport.objects.create(
            action=action, date=date(2017, 12, 1), text="ok", author=author,
            position=5 if author == named else 6,
        )  # fmt: skip
    return flag


def test_exception_rows_are_what_the_exception_serializer_gives(reader, authors):
    body = rows(reader.get(EXCEPTIONS))
    assert any(row["commentary"] for row in body)
    assert any(c["author"] == "Jo Bloggs" for row in body for c in row["commentary"])
    assert any(c["author"] == "anon-author" for row in body for c in row["commentary"])
    for row in body:
        flag = ExceptionFlag.objects.select_related("indicator__system", "area").get(
            pk=row["id"]
        )
        i = flag.indicator
        expected = ExceptionSerializer(
            {
                "id": flag.pk,
                "indicator": {
                    "id": i.pk,
                    "key": i.key,
                    "code": i.code,
                    "title": i.title,
                },
                "system": i.system.slug,
                "strategies": list(
                    i.assignments.order_by("strategy__number").values_list(
                        "strategy__slug", flat=True
                    )
                ),
                "area": flag.area,
                "breakdown": flag.breakdown,
                "rule": flag.rule,
                "label": flag.get_rule_display(),
                "severity": flag.severity,
                "reason": flag.reason,
                "method": RULE_METHODS.get(flag.rule, ""),
                "raised_at": flag.raised_at,
                "cleared_at": flag.cleared_at,
                "commentary": list(
                    ExceptionCommentary.objects.filter(indicator=i)
                    .select_related("strategy", "author")
                    .order_by("-dated", "position")
                ),
            }
        ).data
        assert rendered(row) == rendered(expected)


@pytest.mark.parametrize(
    "query",
    ["", "status=concern", "on_exception_report=true", "strategy=wellbeing", "q=rate"],
)
def test_indicator_rows_are_what_the_indicator_serializer_gives(
    bearer, plymouth, query
):
    superuser = get_user_model().objects.create_superuser("root", password="x-long-pw")
    body = rows(bearer(superuser).get(f"{INDICATORS}&{query}"))
    assert body
    assert "plymouth" in {row["system"] for row in body}
    by_id = {
        i.pk: i
        for i in _indicators_queryset(superuser).filter(pk__in=[r["id"] for r in body])
    }
    page = [by_id[row["id"]] for row in body]
    request = Request(APIRequestFactory().get("/"))
    expected = IndicatorSerializer(
        page, many=True, context={"request": request, "headlines": headlines(page)}
    ).data
    assert rendered(body) == rendered(expected)
    assert any(row["headline"] for row in body)


def test_action_rows_are_what_the_action_serializer_gives(reader, viewer, authors):
    body = rows(reader.get(ACTIONS))
    assert any(row["indicators"] for row in body)
    assert any(p["author"] == "Jo Bloggs" for row in body for p in row["progress"])
    expected = ActionSerializer(list(_actions(viewer)), many=True).data
    assert rendered(body) == rendered(expected)


# ------------------------------------------------------------------ the cache


@pytest.mark.parametrize("url", LISTS)
def test_a_cached_list_is_the_list_computed_afresh(reader, url):
    fresh = reader.get(url)
    with CaptureQueriesContext(connection) as captured:
        kept = reader.get(url)
    cache.clear()
    again = reader.get(url)
    assert fresh.status_code == kept.status_code == again.status_code == 200
    assert kept.content == fresh.content == again.content
    assert kept["ETag"] == fresh["ETag"] == again["ETag"]
    assert kept["Content-Type"] == "application/json"
    # Served from the cache: the token, the user's systems, the pages' version.
    sql = [q["sql"] for q in captured]
    assert len(sql) <= 4, sql
    assert not any(
        table in q
        for q in sql
        for table in (
            "scorecard_exceptionflag",
            "indicators_indicator",
            "actions_action",
        )
    ), sql


def _change(url: str, plymouth) -> str:
    """Change what the list shows without a signal (as a raw update would): the cached
    list holds on until the pages' version moves. Returns the changed text."""
    text = "Changed behind the cache"
    if url == EXCEPTIONS:
        ExceptionFlag.objects.filter(indicator__system=plymouth).update(reason=text)
    elif url == INDICATORS:
        Indicator.objects.filter(system=plymouth).update(title=text)
    else:
        Action.objects.filter(strategy__system=plymouth).update(title=text)
    return text


@pytest.mark.parametrize("url", LISTS)
def test_a_cached_list_changes_once_the_version_moves(reader, plymouth, url):
    first = reader.get(url)
    text = _change(url, plymouth)
    assert reader.get(url).content == first.content  # kept
    bump_version()  # what a recompute, a return or any shown write does
    changed = reader.get(url)
    assert changed["ETag"] != first["ETag"]
    assert text in changed.content.decode()


@pytest.mark.parametrize("url", LISTS)
def test_a_user_of_another_system_never_gets_the_first_users_list(
    reader, bearer, torbay_analyst, torbay, url
):
    plymouth_rows = rows(reader.get(url))
    assert plymouth_rows
    assert {row["system"] for row in plymouth_rows} == {"plymouth"}
    torbay_rows = rows(bearer(torbay_analyst).get(url))
    assert {row["system"] for row in torbay_rows} <= {torbay.slug}
    assert not {row["id"] for row in torbay_rows} & {row["id"] for row in plymouth_rows}
    nobody = bearer(make_user("nobody")).get(url)
    assert rows(nobody) == []
    # And the first user's answer is still theirs.
    assert rows(reader.get(url)) == plymouth_rows


@pytest.mark.parametrize("url", LISTS)
def test_a_role_taken_away_counts_at_once(reader, viewer, plymouth, url):
    assert rows(reader.get(url))
    SystemRole.objects.filter(user=viewer, system=plymouth).delete()
    assert rows(reader.get(url)) == []
    SystemRole.objects.create(user=viewer, system=plymouth, role="viewer")
    assert rows(reader.get(url))


def test_a_design_group_member_gets_only_their_strategys_actions(
    reader, bearer, plymouth
):
    everything = rows(reader.get(ACTIONS))
    wellbeing = plymouth.strategies.get(slug="wellbeing")
    member = make_user("sdg-only")
    group, _ = SystemDesignGroup.objects.get_or_create(
        strategy=wellbeing, defaults={"name": "Wellbeing SDG"}
    )
    SdgMembership.objects.create(group=group, user=member)
    own = rows(bearer(member).get(ACTIONS))
    assert {row["strategy"] for row in everything} > {"wellbeing"}
    assert own == [row for row in everything if row["strategy"] == "wellbeing"]
    # Nor exceptions or indicators: they need a role in the system.
    assert rows(bearer(member).get(EXCEPTIONS)) == []
    assert rows(bearer(member).get(INDICATORS)) == []


@pytest.mark.parametrize("url", LISTS)
def test_filters_pages_and_hosts_are_kept_apart(reader, url):
    whole = rows(reader.get(url))
    first = reader.get(url + "&page_size=2").json()
    second = reader.get(url + "&page_size=2&page=2").json()
    assert first["results"] == whole[:2]
    assert second["results"] == whole[2:4]
    assert "page=2" in first["next"]
    assert second["previous"] is not None
    elsewhere = reader.get(url + "&page_size=2", HTTP_HOST="localhost")
    assert elsewhere.json()["next"].startswith("http://localhost/")
    assert reader.get(url + "&page_size=2").json() == first
    assert rows(reader.get(f"{url}&system=torbay-south-devon")) == []


@pytest.mark.parametrize("url", LISTS)
def test_cached_lists_still_gzip_and_answer_304(reader, url):
    plain = reader.get(url)
    zipped = reader.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    for etag in (plain["ETag"], zipped["ETag"]):
        assert reader.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize("url", LISTS)
def test_unknown_parameters_and_indented_json_are_answered_afresh(reader, url):
    plain = reader.get(url)
    odd = reader.get(url + "&utm_source=mail")
    assert rows(odd) == rows(plain)
    indented = reader.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert json.loads(indented.content) == json.loads(plain.content)
    assert b'\n  "count"' in indented.content


@pytest.mark.parametrize("url", LISTS)
def test_bad_filters_are_still_refused_once_a_list_is_cached(reader, url):
    reader.get(url)
    bad = reader.get(url + "&system=Not%20a%20slug!")
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/problem+json"
