"""Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one
username from one address, that pair is refused with a page that says why, even with the
right password; other users and addresses are unaffected."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings

from tests.conftest import make_user

PASSWORD = "a-long-test-password"


@pytest.fixture
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return settings


def _sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_lockout_after_the_limit_with_a_clear_message(client, throttled, plymouth):
    make_user("carol", system=plymouth, role="viewer")

    for _ in range(throttled.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, "carol", "wrong-password")
        assert response.status_code == 200
        assert "did not match" in response.content.decode()

    locked = _sign_in(client, "carol", "wrong-password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many sign-in attempts" in page
    assert f"after {throttled.AXES_FAILURE_LIMIT} attempts" in page

    # The right password no longer works from here...
    refused = _sign_in(client, "carol", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but the same user from another address, and another user, can still sign in.
    assert _sign_in(client, "carol", PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    make_user("dave", system=plymouth, role="viewer")
    assert _sign_in(client, "dave", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, throttled, plymouth):
    make_user("erin", system=plymouth, role="viewer")
    _sign_in(client, "erin", "wrong-password")
    _sign_in(client, "erin", "wrong-password")

    assert _sign_in(client, "erin", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="erin").exists()


def test_the_admin_sign_in_is_throttled_too(client, throttled, db):
    make_user("admin-user", is_staff=True)
    for _ in range(throttled.AXES_FAILURE_LIMIT):
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "admin-user", "password": "nope"},
            REMOTE_ADDR="10.0.0.9",
        )
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()


def test_behind_a_trusted_proxy_the_client_address_is_counted(client, throttled, db):
    throttled.TRUSTED_PROXY_COUNT = 1
    make_user("frank")
    for _ in range(throttled.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "frank", "password": "nope"},
            REMOTE_ADDR="172.16.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    attempt = AccessAttempt.objects.get(username="frank")
    assert attempt.ip_address == "198.51.100.7"
    # A forged left-most entry is not believed: the proxy's own entry is the right-most.
    forged = client.post(
        "/accounts/login/",
        {"username": "frank", "password": PASSWORD},
        REMOTE_ADDR="172.16.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7",
    )
    assert forged.status_code == 429


def test_test_client_login_still_works_with_throttling_on(client, throttled, db):
    """authenticate() without a request (the test client, a shell) is not throttled."""
    make_user("grace")
    assert django_settings.AXES_ENABLED
    assert client.login(username="grace", password=PASSWORD)
    assert not client.login(username="grace", password="wrong")
