"""The scorecard endpoint keeps its rendered JSON (with its ETag, gzipped too) in the
scorecard pages' cache: a cached answer is the same answer, costs a fixed few queries,
and still checks the token and the user's permission on every request."""

import gzip
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scorecard.cache import bump_version
from scorecard.models import SeriesResult
from strategies.models import ApiToken, SystemRole

URL = "/api/v1/scorecard/plymouth/wellbeing/"


@pytest.fixture
def reader(bearer, viewer):
    return bearer(viewer)


def test_a_cached_answer_is_the_answer_computed_afresh(reader):
    cache.clear()
    fresh = reader.get(URL)
    cached = reader.get(URL)
    assert fresh.status_code == cached.status_code == 200
    assert cached.content == fresh.content
    assert cached["ETag"] == fresh["ETag"]
    assert cached["Last-Modified"] == fresh["Last-Modified"]
    assert cached["Content-Type"] == "application/json"
    assert json.loads(cached.content)["strategy"] == "wellbeing"


def test_a_cached_answer_costs_a_fixed_few_queries(reader):
    reader.get(URL)  # fills the cache (and writes the token's last use)
    with CaptureQueriesContext(connection) as captured:
        assert reader.get(URL).status_code == 200
    sql = [q["sql"] for q in captured]
    # The token, the user's role in the system (asked on every request), and at most
    # the page cache's own check of the latest recomputation: never the rows.
    assert len(sql) <= 3, sql
    assert '"strategies_apitoken"' in sql[0]
    assert any('"strategies_systemrole"' in q for q in sql)
    assert not any("indicators_" in q or "scorecard_seriesresult" in q for q in sql)


def test_gzip_gives_the_same_json_and_a_weak_etag_that_still_validates(reader):
    plain = reader.get(URL)
    zipped = reader.get(URL, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert "Accept-Encoding" in plain["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] == "W/" + plain["ETag"]
    for etag in (plain["ETag"], zipped["ETag"]):
        for encoding in ("", "gzip"):
            again = reader.get(
                URL, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING=encoding
            )
            assert again.status_code == 304
            assert again.content == b""


def test_as_at_is_kept_apart_from_now(reader):
    now = reader.get(URL).json()
    then = reader.get(URL + "?as_at=2017-10-31").json()
    assert now["as_at"] is None
    assert then["as_at"] == "2017-10-31"
    assert reader.get(URL).json() == now
    # As CSV too, from the same cached data.
    csv_now = reader.get(URL + "?format=csv")
    csv_then = reader.get(URL + "?format=csv&as_at=2017-10-31")
    assert csv_now["Content-Disposition"].endswith('wellbeing.csv"')
    assert csv_then["Content-Disposition"].endswith('wellbeing-2017-10-31.csv"')


def test_a_changed_scorecard_is_served_after_the_version_moves(reader):
    first = reader.get(URL)
    result = SeriesResult.objects.filter(
        indicator__assignments__strategy__slug="wellbeing", breakdown=""
    ).first()
    SeriesResult.objects.filter(pk=result.pk).update(latest_value=654321.0)
    bump_version()  # what a recompute, a return or commentary does
    changed = reader.get(URL)
    assert changed["ETag"] != first["ETag"]
    assert b"654321.0" in changed.content


def test_permission_and_token_are_checked_on_every_cached_request(
    bearer, token_for, viewer, plymouth
):
    from rest_framework.test import APIClient

    token = token_for(viewer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(URL).status_code == 200
    assert client.get(URL).status_code == 200  # cached
    SystemRole.objects.filter(user=viewer, system=plymouth).delete()
    assert client.get(URL).status_code == 404
    SystemRole.objects.create(user=viewer, system=plymouth, role="viewer")
    assert client.get(URL).status_code == 200
    ApiToken.objects.filter(user=viewer).update(revoked_at="2020-01-01T00:00:00Z")
    assert client.get(URL).status_code == 401


def test_unknown_strategy_and_bad_as_at_are_problems(reader):
    missing = reader.get("/api/v1/scorecard/plymouth/nowhere/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    bad = reader.get(URL + "?as_at=yesterday")
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/problem+json"
