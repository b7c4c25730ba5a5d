"""Every role against every write operation of the workflow, through the pages: allowed
writes succeed, refused ones answer 403 and change nothing, ids of a system the user cannot
see answer 404, and signed-out users are sent to sign in. The same functions
(strategies/permissions.py) decide the admin's and the API's answers."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from actions.models import Action, Milestone, ProgressReport
from scorecard.models import ExceptionCommentary, ReportingCycle
from scorecard.services import commentary as commentary_services
from strategies import permissions
from strategies.models import SystemRole
from tests.conftest import make_user

ROLES = [
    "anonymous",
    "viewer",
    "member",
    "lead",
    "analyst",
    "system_admin",
    "superuser",
    "other_system_admin",
]

# Which roles may do each operation (everyone else with a view of the system: 403).
ALLOWED = {
    "action_create": {"lead", "system_admin", "superuser"},
    "action_edit": {"lead", "system_admin", "superuser"},
    "progress_create": {"member", "lead", "system_admin", "superuser"},
    "milestone_create": {"lead", "system_admin", "superuser"},
    "milestone_complete": {"member", "lead", "system_admin", "superuser"},
    "commentary_save": {"member", "lead", "system_admin", "superuser"},
    "commentary_approve": {"lead", "system_admin", "superuser"},
    "cycle_publish": {"system_admin", "superuser"},
}


@pytest.fixture
def world(
    plymouth,
    torbay,
    strategy,
    group,
    lead,
    lead2,
    member,
    system_admin,
    cycle,
    exception_indicator,
    action,
    torbay_admin,
):
    viewer = make_user("viewer", system=plymouth, role=SystemRole.Role.VIEWER)
    analyst = make_user("analyst", system=plymouth, role=SystemRole.Role.ANALYST)
    superuser = get_user_model().objects.create_superuser(
        "root", password="a-long-test-password"
    )
    milestone = Milestone.objects.create(
        action=action, title="Specification agreed", due_date=dt.date(2018, 3, 31)
    )
    # Commentary submitted by the second lead, awaiting someone else's approval.
    draft = commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead2
    )
    commentary_services.commentary_submit(
        commentary=draft,
        user=lead2,
        expected_version=draft.version,
        values={"story": "Story", "actions_taken": "Actions"},
    )
    return {
        "users": {
            "anonymous": None,
            "viewer": viewer,
            "member": member,
            "lead": lead,
            "analyst": analyst,
            "system_admin": system_admin,
            "superuser": superuser,
            "other_system_admin": torbay_admin,
        },
        "strategy": strategy,
        "action": action,
        "milestone": milestone,
        "cycle": cycle,
        "indicator": exception_indicator,
        "commentary": ExceptionCommentary.objects.get(pk=draft.pk),
    }


def _request(operation, w):
    """(url, data, did_it_happen) of one write."""
    s, a, c, i = w["strategy"], w["action"], w["cycle"], w["indicator"]
    commentary_url = reverse("workflow:commentary", args=[c.pk, s.pk, i.pk])
    if operation == "action_create":
        return (
            reverse("actions:action_create", args=[s.system.slug, s.slug]),
            {"title": "Matrix activity"},
            lambda: Action.objects.filter(title="Matrix activity").exists(),
        )
    if operation == "action_edit":
        return (
            reverse("actions:action_edit", args=[a.pk]),
            {"title": "Matrix title", "version": a.version},
            lambda: Action.objects.filter(pk=a.pk, title="Matrix title").exists(),
        )
    if operation == "progress_create":
        return (
            reverse("actions:progress_create", args=[a.pk]),
            {
                "status": "on_track",
                "rag": "green",
                "rag_reason": "Fine",
                "text": "Moving",
            },
            lambda: ProgressReport.objects.filter(action=a, text="Moving").exists(),
        )
    if operation == "milestone_create":
        return (
            reverse("actions:milestone_create", args=[a.pk]),
            {"title": "Matrix milestone", "due_date": "2027-01-01"},
            lambda: Milestone.objects.filter(title="Matrix milestone").exists(),
        )
    if operation == "milestone_complete":
        m = w["milestone"]
        return (
            reverse("actions:milestone_complete", args=[m.pk]),
            {},
            lambda: Milestone.objects.filter(
                pk=m.pk, completed_on__isnull=False
            ).exists(),
        )
    if operation == "commentary_save":
        # A different indicator of the strategy's report: a fresh draft.
        return (
            commentary_url,
            {"story": "Matrix story", "version": 0, "intent": "save"},
            lambda: ExceptionCommentary.objects.filter(
                story__contains="Matrix"
            ).exists(),
        )
    if operation == "commentary_approve":
        return (
            reverse("workflow:commentary_review", args=[c.pk, s.pk, i.pk]),
            {"version": w["commentary"].version, "intent": "approve"},
            lambda: ExceptionCommentary.objects.filter(
                pk=w["commentary"].pk, status="approved"
            ).exists(),
        )
    if operation == "cycle_publish":
        return (
            reverse("workflow:cycle_publish", args=[c.pk]),
            {"confirm": "on"},
            lambda: ReportingCycle.objects.filter(
                pk=c.pk, stocktake__isnull=False
            ).exists(),
        )
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(ALLOWED))
def test_permission_matrix(world, role, operation):
    if operation == "commentary_save":
        # Commentary on the submitted indicator is not editable: use a fresh draft's page
        # by reverting the fixture's commentary to a draft.
        ExceptionCommentary.objects.filter(pk=world["commentary"].pk).update(
            status="draft"
        )
    url, data, happened = _request(operation, world)
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    if operation == "commentary_save":
        data["version"] = ExceptionCommentary.objects.get(
            pk=world["commentary"].pk
        ).version
    response = client.post(url, data)
    if role == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response.url
        assert not happened()
    elif role == "other_system_admin":
        assert response.status_code == 404
        assert not happened()
    elif role in ALLOWED[operation]:
        assert response.status_code == 302, response.content[:2000]
        assert happened()
    else:
        assert response.status_code == 403
        assert not happened()


@pytest.mark.parametrize(
    "name",
    ["action_plan", "action_detail", "cycle_detail", "commentary", "my_updates"],
)
def test_pages_of_another_system_are_not_found(world, torbay, name):
    """A Torbay administrator asking for Plymouth ids gets 404, as for ids that do not
    exist; a Plymouth viewer can read them."""
    s, a, c, i = world["strategy"], world["action"], world["cycle"], world["indicator"]
    url = {
        "action_plan": reverse("actions:action_plan", args=[s.system.slug, s.slug]),
        "action_detail": reverse("actions:action_detail", args=[a.pk]),
        "cycle_detail": reverse("workflow:cycle_detail", args=[c.pk]),
        "commentary": reverse("workflow:commentary", args=[c.pk, s.pk, i.pk]),
        "my_updates": reverse("workflow:my_updates"),
    }[name]
    outsider, viewer = Client(), Client()
    outsider.force_login(world["users"]["other_system_admin"])
    viewer.force_login(world["users"]["viewer"])
    assert viewer.get(url).status_code == 200
    expected = 200 if name == "my_updates" else 404
    assert outsider.get(url).status_code == expected


def test_mixing_systems_in_one_url_is_not_found(world, torbay, lead):
    """A Plymouth cycle with a Torbay strategy or indicator id is 404 even for a superuser's
    eyes: the objects must belong together."""
    from strategies.models import Strategy

    torbay_strategy = Strategy.objects.filter(system=torbay).first()
    torbay_indicator = torbay_strategy.indicators.first()
    client = Client()
    client.force_login(world["users"]["superuser"])
    c, s, i = world["cycle"], world["strategy"], world["indicator"]
    assert (
        client.get(
            reverse("workflow:commentary", args=[c.pk, torbay_strategy.pk, i.pk])
        ).status_code
        == 404
    )
    if torbay_indicator is not None:
        assert (
            client.get(
                reverse("workflow:commentary", args=[c.pk, s.pk, torbay_indicator.pk])
            ).status_code
            == 404
        )


@pytest.mark.parametrize("role", ROLES[1:])
def test_permission_functions_agree_with_the_matrix(world, role):
    """The functions pages, admin and API share give the same answers as the pages."""
    user = world["users"][role]
    s = world["strategy"]
    answers = {
        "action_create": permissions.can_manage_actions(user, s),
        "progress_create": permissions.can_report_progress(user, s),
        "commentary_save": permissions.can_write_commentary(user, s),
        "commentary_approve": permissions.can_approve_commentary(user, s),
        "cycle_publish": permissions.can_publish_stocktake(user, s.system),
    }
    for operation, answer in answers.items():
        assert answer == (role in ALLOWED[operation]), operation
