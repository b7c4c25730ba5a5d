import pytest
from django.contrib import admin
from django.urls import reverse

from strategies.models import Strategy, SystemRole
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


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
    with django_assert_max_num_queries(12) as before:
        client.get(reverse("home"))
    for number in range(20, 40):
        Strategy.objects.create(
            system=plymouth, slug=f"extra-{number}", name="X", number=number
        )

    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(reverse("home"))

    assert response.content.decode().count("X</th>") == 20


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
