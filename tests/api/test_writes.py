"""Progress updates and exception commentary through the API: the workflow's services and
permission functions, limited further by the token's scope."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action, ProgressReport
from scorecard.models import ExceptionCommentary, ReportingCycle
from strategies.models import ApiToken, SdgMembership, SystemDesignGroup, SystemRole
from tests.conftest import make_user

PROGRESS = {
    "status": "on_track",
    "rag": "green",
    "rag_reason": "Both cafes opened on time",
    "percent_complete": 60,
    "text": "<p>Memory cafes opened.</p><script>alert(1)</script>",
}


@pytest.fixture
def action(plymouth):
    return (
        Action.objects.filter(plan__system=plymouth).select_related("strategy").first()
    )


def member_of(strategy, name="sdg-member", role=SdgMembership.Role.MEMBER):
    user = make_user(name, system=strategy.system, role=SystemRole.Role.VIEWER)
    group, _ = SystemDesignGroup.objects.get_or_create(
        strategy=strategy, defaults={"name": f"{strategy.name} SDG"}
    )
    SdgMembership.objects.create(group=group, user=user, role=role)
    return user


def test_member_with_write_token_adds_progress(bearer, action):
    user = member_of(action.strategy)
    response = bearer(user, ApiToken.Scope.WRITE).post(
        f"/api/v1/actions/{action.pk}/progress/", PROGRESS, format="json"
    )
    assert response.status_code == 201, response.content
    report = ProgressReport.objects.get(pk=response.json()["id"])
    assert report.author == user
    assert "<script>" not in report.text  # sanitised by the service
    action.refresh_from_db()
    assert (action.status, action.rag) == ("on_track", "green")
    listed = bearer(user).get(f"/api/v1/actions/{action.pk}/").json()
    assert report.pk in [p["id"] for p in listed["progress"]]


@pytest.mark.parametrize("scope", [ApiToken.Scope.READ, ApiToken.Scope.UPLOAD])
def test_narrower_scopes_cannot_write_progress(bearer, action, scope):
    user = member_of(action.strategy)
    response = bearer(user, scope).post(
        f"/api/v1/actions/{action.pk}/progress/", PROGRESS, format="json"
    )
    assert response.status_code == 403
    assert not ProgressReport.objects.filter(author=user).exists()


def test_write_token_of_a_viewer_outside_the_group_is_refused(bearer, viewer, action):
    response = bearer(viewer, ApiToken.Scope.WRITE).post(
        f"/api/v1/actions/{action.pk}/progress/", PROGRESS, format="json"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_progress_reports_every_problem_at_once(bearer, action):
    user = member_of(action.strategy)
    response = bearer(user, ApiToken.Scope.WRITE).post(
        f"/api/v1/actions/{action.pk}/progress/",
        {"status": "sideways", "rag": "purple", "percent_complete": 101},
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"status", "rag", "rag_reason", "percent_complete", "text"} <= fields


def test_progress_on_another_systems_action_is_404(bearer, torbay, action):
    torbay_member = make_user("tb", system=torbay, role=SystemRole.Role.ADMIN)
    response = bearer(torbay_member, ApiToken.Scope.WRITE).post(
        f"/api/v1/actions/{action.pk}/progress/", PROGRESS, format="json"
    )
    assert response.status_code == 404


@pytest.fixture
def open_cycle(plymouth):
    today = timezone.localdate()
    return ReportingCycle.objects.create(
        system=plymouth,
        title="API test cycle",
        opens=today - timedelta(days=10),
        deadline=today + timedelta(days=10),
    )


def commentary_body(strategy, indicator, **extra):
    return {
        "system": strategy.system.slug,
        "strategy": strategy.slug,
        "indicator": indicator.pk,
        "story": "<p>Rates rose.</p>",
        "actions_taken": "<p>Clinics doubled.</p>",
        **extra,
    }


def test_member_writes_and_submits_commentary(bearer, plymouth, open_cycle):
    strategy = plymouth.strategies.get(slug="wellbeing")
    indicator = strategy.indicators.first()
    user = member_of(strategy)
    client = bearer(user, ApiToken.Scope.WRITE)
    response = client.post(
        "/api/v1/commentary/", commentary_body(strategy, indicator), format="json"
    )
    assert response.status_code == 200, response.content
    note = ExceptionCommentary.objects.get(pk=response.json()["id"])
    assert (note.cycle, note.status, note.story) == (
        open_cycle,
        "draft",
        "<p>Rates rose.</p>",
    )
    response = client.post(
        "/api/v1/commentary/",
        commentary_body(strategy, indicator, submit=True),
        format="json",
    )
    assert response.status_code == 200, response.content
    note.refresh_from_db()
    assert note.status == "submitted"
    # Submitted commentary cannot be edited again until it is returned.
    again = client.post(
        "/api/v1/commentary/", commentary_body(strategy, indicator), format="json"
    )
    assert again.status_code == 409


def test_upload_token_cannot_write_commentary(bearer, plymouth, open_cycle):
    strategy = plymouth.strategies.get(slug="wellbeing")
    user = member_of(strategy)
    response = bearer(user, ApiToken.Scope.UPLOAD).post(
        "/api/v1/commentary/",
        commentary_body(strategy, strategy.indicators.first()),
        format="json",
    )
    assert response.status_code == 403
    assert not ExceptionCommentary.objects.filter(author=user).exists()


def test_commentary_needs_group_membership_and_own_system(
    bearer, viewer, torbay, plymouth, open_cycle
):
    strategy = plymouth.strategies.get(slug="wellbeing")
    body = commentary_body(strategy, strategy.indicators.first())
    assert (
        bearer(viewer, ApiToken.Scope.WRITE)
        .post("/api/v1/commentary/", body, format="json")
        .status_code
        == 403
    )
    outsider = make_user("outsider", system=torbay, role=SystemRole.Role.ADMIN)
    assert (
        bearer(outsider, ApiToken.Scope.WRITE)
        .post("/api/v1/commentary/", body, format="json")
        .status_code
        == 404
    )


def test_commentary_without_an_open_cycle_is_409(bearer, plymouth):
    strategy = plymouth.strategies.get(slug="wellbeing")
    ReportingCycle.objects.filter(system=plymouth, stocktake__isnull=True).delete()
    user = member_of(strategy)
    response = bearer(user, ApiToken.Scope.WRITE).post(
        "/api/v1/commentary/",
        commentary_body(strategy, strategy.indicators.first()),
        format="json",
    )
    assert response.status_code == 409
