"""The admin asks the same permission functions: a non-superuser administrator sees and
changes only their own system's rows; history of permissions, targets and indicator
definitions is recorded with who made the change."""

from django.test import Client
from django.urls import reverse

from actions.models import Action
from indicators.models import Indicator, Target
from strategies.models import SdgMembership, SystemRole


def _staff(user):
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_only_the_administrators_system(system_admin, torbay, plymouth):
    client = _staff(system_admin)
    page = client.get(reverse("admin:actions_action_changelist"))
    assert page.status_code == 200
    shown = page.context["cl"].queryset
    assert shown.count() == Action.objects.filter(strategy__system=plymouth).count()
    assert not shown.filter(strategy__system=torbay).exists()


def test_admin_gives_404_or_403_for_another_systems_rows(system_admin, torbay):
    client = _staff(system_admin)
    other = Indicator.objects.filter(system=torbay).first()
    response = client.get(reverse("admin:indicators_indicator_change", args=[other.pk]))
    # The admin redirects to its index when an object is outside the queryset.
    assert response.status_code in (302, 404)
    assert other.title not in response.content.decode()


def test_viewer_staff_cannot_use_the_workflow_admin(plymouth):
    from tests.conftest import make_user

    viewer = make_user("staff-viewer", system=plymouth, role="viewer")
    client = _staff(viewer)
    assert client.get(reverse("admin:actions_action_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:strategies_systemrole_changelist")).status_code == 403
    )


def test_permission_and_definition_changes_are_in_the_history(
    system_admin, member, plymouth
):
    client = _staff(system_admin)
    membership = SdgMembership.objects.get(user=member)
    response = client.post(
        reverse("admin:strategies_sdgmembership_change", args=[membership.pk]),
        {"user": member.pk, "group": membership.group_id, "role": "lead"},
    )
    assert response.status_code == 302
    record = membership.history.latest("history_id")
    assert (record.role, record.history_user) == ("lead", system_admin)
    history_page = client.get(
        reverse("admin:strategies_sdgmembership_history", args=[membership.pk])
    )
    assert history_page.status_code == 200

    role = SystemRole.objects.create(system=plymouth, user=member, role="analyst")
    role_id = role.pk
    role.delete()
    history = SystemRole.history.filter(id=role_id).order_by("history_id")
    assert [h.history_type for h in history] == ["+", "-"]

    target = Target.objects.filter(indicator__system=plymouth).first()
    target.text = "Changed target wording"
    target.save()
    assert target.history.latest("history_id").text == "Changed target wording"
    indicator = Indicator.objects.filter(system=plymouth).first()
    indicator.definition = "A new definition"
    indicator.save()
    assert indicator.history.latest("history_id").definition == "A new definition"
