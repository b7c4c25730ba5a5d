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
