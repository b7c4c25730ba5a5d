import re

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scorecard.cache import bump_version
from strategies.models import Strategy, SystemRole
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """The systems' part of the page is kept in the pages' cache, whose version counter
    outlives each test's rolled-back writes: every test starts with it empty."""
    cache.clear()
    yield
    cache.clear()


def _page(response) -> str:
    """The page without what differs per request (the CSRF token, the CSP nonce)."""
    assert response.status_code == 200
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'nonce="[^"]+"', "", body)


def test_home_page_needs_a_login(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_page_lists_only_the_systems_a_user_holds_a_role_in(client, viewer):
    client.force_login(viewer)

    response = client.get(reverse("home"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Plymouth and the Western Locality" in body
    assert "Torbay and South Devon" not in body


def test_a_user_without_roles_sees_no_system(client, db):
    client.force_login(make_user("nobody"))

    body = client.get(reverse("home")).content.decode()

    assert "Plymouth and the Western Locality" not in body
    assert "No commissioning system" in body


def test_home_page_shows_both_framework_shapes_with_counts(client, db):
    client.force_login(make_user("boss", is_superuser=True, is_staff=True))

    body = client.get(reverse("home")).content.decode()

    assert "Priority area" in body
    assert "Delivery milestones" in body
    assert "Strategy aims" in body
    assert "System elements" in body
    assert "4. Enhanced and Specialised Care" in body
    assert "12. Housing" in body
    assert "&pound;205.48m" in body or "£205.48m" in body


def test_home_page_shows_the_demo_banner_when_synthetic_values_exist(client, viewer):
    client.force_login(viewer)

    assert "Demo data." in client.get(reverse("home")).content.decode()


def test_home_page_query_count_does_not_grow_with_strategies(
    client, viewer, plymouth, django_assert_max_num_queries
):
    client.force_login(viewer)
    client.get(reverse("home"))  # warm the session and permissions
    cache.clear()  # measure the page computed afresh
    with django_assert_max_num_queries(14) as before:
        client.get(reverse("home"))
    for number in range(20, 40):
        Strategy.objects.create(
            system=plymouth, slug=f"extra-{number}", name="X", number=number
        )

    cache.clear()
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(reverse("home"))

    assert response.content.decode().count("X</th>") == 20


def test_a_cached_home_page_is_the_page_computed_afresh(client, viewer):
    client.force_login(viewer)
    fresh = _page(client.get(reverse("home")))
    with CaptureQueriesContext(connection) as captured:
        kept = _page(client.get(reverse("home")))
    cache.clear()
    again = _page(client.get(reverse("home")))

    assert kept == fresh == again
    assert "Plymouth and the Western Locality" in kept
    # From the cache: the systems' counts are not asked again.
    sql = " ".join(q["sql"] for q in captured)
    assert "strategies_frameworkitem" not in sql
    assert "actions_action" not in sql


def test_a_cached_home_page_changes_once_the_version_moves(client, viewer, plymouth):
    client.force_login(viewer)
    first = _page(client.get(reverse("home")))
    # A write no signal sees (a raw update): the kept page holds until the version
    # moves, as every write the pages show and every recomputation moves it.
    plymouth.strategies.filter(slug="wellbeing").update(name="Renamed behind the cache")
    assert _page(client.get(reverse("home"))) == first
    bump_version()

    assert "Renamed behind the cache" in _page(client.get(reverse("home")))


def test_a_user_of_another_system_never_gets_the_first_users_systems(
    client, viewer, torbay_analyst
):
    client.force_login(viewer)
    plymouth_page = _page(client.get(reverse("home")))
    client.force_login(torbay_analyst)
    torbay_page = _page(client.get(reverse("home")))
    client.force_login(make_user("nobody-here"))
    nobody_page = _page(client.get(reverse("home")))

    assert "Plymouth and the Western Locality" in plymouth_page
    assert "Torbay and South Devon" not in plymouth_page
    assert "Torbay and South Devon" in torbay_page
    assert "Plymouth and the Western Locality" not in torbay_page
    assert "No commissioning system" in nobody_page
    assert "Plymouth and the Western Locality" not in nobody_page


def test_a_role_granted_shows_the_system_at_once(client, viewer, torbay):
    client.force_login(viewer)
    assert "Torbay and South Devon" not in _page(client.get(reverse("home")))
    SystemRole.objects.create(user=viewer, system=torbay, role=SystemRole.Role.VIEWER)

    page = _page(client.get(reverse("home")))

    assert "Torbay and South Devon" in page
    assert "Plymouth and the Western Locality" in page


def test_every_admin_list_loads_with_search(client, db):
    client.force_login(make_user("admin", is_superuser=True, is_staff=True))

    for model, model_admin in admin.site._registry.items():
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        assert client.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert client.get(url, {"q": "plymouth"}).status_code == 200, url


def test_admin_is_closed_to_viewers(client, plymouth):
    user = make_user("staffless", system=plymouth, role=SystemRole.Role.VIEWER)
    client.force_login(user)

    response = client.get(reverse("admin:strategies_strategy_changelist"))

    assert response.status_code == 302
