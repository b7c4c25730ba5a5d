"""Ids past what the database holds are bad input (400 problem details), not a 500 from
an overflowing query: schemathesis found one."""

import pytest

pytestmark = pytest.mark.django_db

TOO_BIG = str(2**63)


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/commentary/?indicator={TOO_BIG}",
        f"/api/v1/actions/?indicator={TOO_BIG}",
        f"/api/v1/indicators/?element={TOO_BIG}",
        f"/api/v1/indicators/?fingertips_id={TOO_BIG}",
    ],
)
def test_an_id_too_large_for_the_database_is_refused_as_bad_input(bearer, viewer, url):
    response = bearer(viewer).get(url)

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_largest_id_the_database_holds_is_simply_not_found(bearer, viewer):
    response = bearer(viewer).get(f"/api/v1/commentary/?indicator={2**63 - 1}")

    assert response.status_code == 200
    assert response.json()["count"] == 0


# --------------------------------------------------------------------------- query bounds

LISTS = {
    # url: the most queries computed afresh. Each: the token and its first use, the
    # user's systems (or strategies), the pages' version, COUNT and the page; then
    # exceptions: strategies, commentary; indicators: assignments, framework items,
    # headlines (3; 4 more to filter by them); actions: indicators, progress.
    "/api/v1/exceptions/?include_cleared=true&page_size=1000": 8,
    "/api/v1/indicators/?page_size=1000": 11,
    "/api/v1/indicators/?status=concern&page_size=1000": 15,
    "/api/v1/actions/?page_size=1000": 8,
}
CACHED_AT_MOST = 3  # the token, the user's systems, the pages' version


def _queries(client, url) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured]


@pytest.mark.parametrize("url", LISTS)
def test_each_list_reads_a_fixed_few_queries_fresh_and_cached(bearer, viewer, url):
    from django.core.cache import cache

    reader = bearer(viewer)
    fresh = _queries(reader, url)
    cached = _queries(reader, url)
    cache.clear()
    assert len(fresh) <= LISTS[url], fresh
    assert len(cached) <= CACHED_AT_MOST, cached


@pytest.mark.parametrize("url", LISTS)
def test_a_list_of_every_system_reads_no_more_queries_than_one_systems(
    bearer, viewer, torbay, url
):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    root = get_user_model().objects.create_superuser("root", password="x-long-pw")
    one, every = bearer(viewer), bearer(root)
    one.get(url), every.get(url)  # the tokens' first use is written once
    cache.clear()
    one_system = _queries(one, url)
    cache.clear()
    every_system = _queries(every, url)
    assert every.get(url).json()["count"] >= one.get(url).json()["count"]
    assert len(every_system) <= len(one_system), every_system
