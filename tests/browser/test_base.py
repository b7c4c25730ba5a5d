"""The browser-test base itself: signing in works and axe runs on the sign-in page."""

import pytest

from tests.browser.conftest import assert_no_axe_violations

pytestmark = pytest.mark.browser


def test_signed_in_user_reaches_the_home_page_and_axe_runs(
    page_as, make_browser_user, seeded
):
    user = make_browser_user("browser-viewer", system=seeded["plymouth"], role="viewer")
    page = page_as(user)
    response = page.goto(page.url_for("/"))
    assert response.ok
    assert "/accounts/login" not in page.url
    assert page.locator("text=Signed in as browser-viewer").count() == 1
    assert_no_axe_violations(page)
