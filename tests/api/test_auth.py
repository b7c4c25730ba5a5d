"""Tokens and scopes: a token is a user's key, limited by its scope, never beyond the
user's own permissions; revoked or expired tokens are refused; tokens are stored hashed."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from commissioning.api import auth
from indicators.models import ImportJob, Return
from strategies.models import ApiToken, SystemRole
from tests.conftest import make_user

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def clean_upload(**fields):
    return {
        "file": SimpleUploadedFile(
            "clean-long.csv", (EXAMPLES / "clean-long.csv").read_bytes()
        ),
        "system": "plymouth",
        **fields,
    }


def test_token_is_stored_hashed_and_works(token_for, viewer):
    token = token_for(viewer)
    row = ApiToken.objects.get(user=viewer)
    assert token not in (row.key_hash, row.prefix)
    assert row.key_hash == auth.hash_token(token)
    assert token.startswith(row.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/systems/").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(
    token_for, viewer, django_assert_num_queries
):
    token = token_for(viewer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/systems/")
    first = ApiToken.objects.get(user=viewer).last_used_at
    client.get("/api/v1/systems/")
    assert ApiToken.objects.get(user=viewer).last_used_at == first
    ApiToken.objects.filter(user=viewer).update(
        last_used_at=first - timedelta(minutes=2)
    )
    client.get("/api/v1/systems/")
    assert ApiToken.objects.get(user=viewer).last_used_at > first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"revoked_at": timezone.now()}, auth.TOKEN_REVOKED),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, auth.TOKEN_EXPIRED),
    ],
)
def test_revoked_and_expired_tokens_are_refused(token_for, viewer, change, message):
    token = token_for(viewer)
    ApiToken.objects.filter(user=viewer).update(**change)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/systems/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["detail"] == message
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_and_no_credentials_are_401(db):
    client = APIClient()
    assert client.get("/api/v1/systems/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer ics_not-a-real-token")
    response = client.get("/api/v1/systems/")
    assert response.status_code == 401
    assert response.json()["detail"] == auth.TOKEN_INVALID


def test_session_authentication_works(client, viewer):
    client.force_login(viewer)
    assert client.get("/api/v1/systems/").json()["count"] == 1


def test_read_token_cannot_upload(bearer, analyst):
    response = bearer(analyst, ApiToken.Scope.READ).post(
        "/api/v1/returns/", clean_upload(dry_run="true"), format="multipart"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "upload" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_upload_token_never_exceeds_the_users_role(bearer, viewer):
    """A viewer's upload-scoped token still cannot upload: the scope only narrows."""
    response = bearer(viewer, ApiToken.Scope.WRITE).post(
        "/api/v1/returns/", clean_upload(dry_run="true"), format="multipart"
    )
    assert response.status_code in (400, 403)
    assert not ImportJob.objects.exists()


def test_upload_token_dry_run_then_commit(bearer, analyst, plymouth):
    client = bearer(analyst, ApiToken.Scope.UPLOAD)
    response = client.post(
        "/api/v1/returns/", clean_upload(dry_run="true"), format="multipart"
    )
    assert response.status_code == 201, response.content
    upload = response.json()
    job = ImportJob.objects.get(pk=upload["id"])
    # The same preview as the page shows, and nothing written yet.
    assert (upload["status"], upload["counts"]) == (
        "ready",
        {
            "new": job.new_count,
            "revised": job.revised_count,
            "unchanged": job.unchanged_count,
            "skipped": job.skipped_count,
        },
    )
    assert upload["preview"] == job.summary
    assert upload["fingerprint"] == job.fingerprint
    assert not Return.objects.filter(kind="upload").exists()

    response = client.post(
        upload["commit_url"], {"fingerprint": upload["fingerprint"]}, format="json"
    )
    assert response.status_code == 200, response.content
    committed = response.json()
    assert committed["status"] == "committed"
    the_return = Return.objects.get(kind="upload")
    assert committed["committed_return"]["id"] == the_return.pk
    assert the_return.uploaded_by == analyst
    assert the_return.new_count == upload["counts"]["new"]

    # The original file, exactly as uploaded, to analysts of the system only.
    original = client.get(f"/api/v1/returns/{the_return.pk}/file/")
    assert original.status_code == 200
    assert (
        b"".join(original.streaming_content)
        == (EXAMPLES / "clean-long.csv").read_bytes()
    )
    assert original["ETag"] == f'"{the_return.sha256}"'
    assert (
        client.get(
            f"/api/v1/returns/{the_return.pk}/file/",
            HTTP_IF_NONE_MATCH=original["ETag"],
        ).status_code
        == 304
    )
    viewer = make_user("a-viewer", system=plymouth, role=SystemRole.Role.VIEWER)
    assert (
        bearer(viewer).get(f"/api/v1/returns/{the_return.pk}/file/").status_code == 403
    )

    # The upload token may roll it back too (a returns write), and only once.
    rollback = client.post(f"/api/v1/returns/{the_return.pk}/rollback/")
    assert rollback.status_code == 200, rollback.content
    assert rollback.json()["status"] == "rolled_back"
    again = client.post(f"/api/v1/returns/{the_return.pk}/rollback/")
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"


def test_read_token_cannot_roll_back(bearer, analyst):
    response = bearer(analyst).post("/api/v1/returns/1/rollback/")
    assert response.status_code == 403


def test_upload_with_problems_is_422_with_every_problem(bearer, analyst):
    data = b"Indicator,Area,Period,Value\nno-such-indicator,E06000026,Aug-17,1\n" + (
        b"dementia-diagnosis-rate,99P,Not-a-period,abc\n"
    )
    response = bearer(analyst, ApiToken.Scope.UPLOAD).post(
        "/api/v1/returns/",
        {"file": SimpleUploadedFile("bad.csv", data), "system": "plymouth"},
        format="multipart",
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    job = ImportJob.objects.get(pk=body["upload"]["id"])
    stored = list(job.problems.order_by("position"))
    assert len(body["problems"]) == len(stored) >= 2
    assert [(p["row"], p["column"], p["code"]) for p in body["problems"]] == [
        (p.row, p.column, p.code) for p in stored
    ]
    assert not Return.objects.filter(kind="upload").exists()


def test_upload_validation_errors_are_reported_together(bearer, analyst):
    response = bearer(analyst, ApiToken.Scope.UPLOAD).post(
        "/api/v1/returns/",
        {"format": "nonsense", "dry_run": "maybe"},
        format="multipart",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"file", "format", "dry_run"} <= fields


def test_other_systems_return_is_404_and_its_upload_too(
    bearer, torbay_analyst, analyst
):
    plymouth_return = Return.objects.filter(system__slug="plymouth").first()
    client = bearer(torbay_analyst, ApiToken.Scope.UPLOAD)
    assert client.get(f"/api/v1/returns/{plymouth_return.pk}/").status_code == 404
    assert (
        client.post(f"/api/v1/returns/{plymouth_return.pk}/rollback/").status_code
        == 404
    )
    job = (
        bearer(analyst, ApiToken.Scope.UPLOAD)
        .post("/api/v1/returns/", clean_upload(dry_run="true"), format="multipart")
        .json()
    )
    assert client.get(f"/api/v1/returns/uploads/{job['id']}/").status_code == 404
    assert (
        client.post(f"/api/v1/returns/uploads/{job['id']}/commit/").status_code == 404
    )


def test_create_api_token_command(analyst, capsys):
    call_command("create_api_token", "analyst", "--scope", "upload", "--name", "CI")
    token = capsys.readouterr().out.strip()
    row = ApiToken.objects.get(user=analyst)
    assert (row.name, row.scope, row.key_hash) == (
        "CI",
        "upload",
        auth.hash_token(token),
    )


def test_token_page_makes_shows_once_and_revokes(client, viewer):
    client.force_login(viewer)
    # Reached from every page's account links.
    assert 'href="/api/tokens/"' in client.get("/api/tokens/").content.decode()
    page = client.post("/api/tokens/", {"name": "Warehouse", "scope": "read"})
    assert page.status_code == 200
    row = ApiToken.objects.get(user=viewer)
    html = page.content.decode()
    token = html.split('<code class="app-token">')[1].split("</code>")[0]
    assert auth.hash_token(token) == row.key_hash
    # Shown once: the list shows only the prefix from now on.
    assert token not in client.get("/api/tokens/").content.decode()
    response = client.post(f"/api/tokens/{row.pk}/revoke/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_cannot_revoke_someone_elses_token(client, viewer, analyst, token_for):
    token_for(analyst)
    row = ApiToken.objects.get(user=analyst)
    client.force_login(viewer)
    assert client.post(f"/api/tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_unknown_api_address_is_a_problem(bearer, viewer):
    response = bearer(viewer).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
