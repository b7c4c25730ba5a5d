"""The returns pages as an analyst uses them: upload, progress, preview with problems,
commit, rollback, downloads; and who may do what."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators import services
from indicators.imports import problems as P
from indicators.models import ImportJob, Observation, Return
from tests.conftest import make_user
from tests.unit.indicators.imports.samples import long_csv

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RETURNS_TASK_MODE = "inline"


def upload(client, plymouth, name, data, capture, **fields):
    with capture(execute=True):
        response = client.post(
            "/returns/upload/",
            {
                "system": plymouth.pk,
                "file": SimpleUploadedFile(name, data),
                "file_format": "auto",
                **fields,
            },
        )
    assert response.status_code == 302, response.content
    return ImportJob.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def test_upload_preview_commit_rollback(
    client, plymouth, analyst, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    assert client.get("/returns/upload/").status_code == 200

    job = upload(
        client,
        plymouth,
        "clean-long.csv",
        (EXAMPLES / "clean-long.csv").read_bytes(),
        django_capture_on_commit_callbacks,
    )

    assert (job.status, job.new_count, job.revised_count, job.unchanged_count) == (
        "ready",
        8,
        1,
        1,
    )
    page = client.get(f"/returns/uploads/{job.pk}/").content.decode()
    assert "Commit 9 values" in page
    assert "39.5" in page
    assert "Nothing has been saved yet" in page
    assert client.get(f"/returns/uploads/{job.pk}/progress.json").json() == {
        "status": "ready", "status_label": "Ready to commit", "stage": "Ready to commit",
        "done": job.progress_done, "total": job.progress_total, "percent": 100, "running": False,
    }  # fmt: skip
    assert not Return.objects.filter(kind="upload").exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/returns/uploads/{job.pk}/commit/", {"fingerprint": job.fingerprint}
        )

    assert response.status_code == 302
    job.refresh_from_db()
    the_return = job.committed_return
    assert (job.status, the_return.uploaded_by, the_return.new_count) == (
        "committed",
        analyst,
        8,
    )
    assert (
        'data-testid="committed"'
        in client.get(f"/returns/uploads/{job.pk}/").content.decode()
    )
    detail = client.get(f"/returns/{the_return.pk}/").content.decode()
    assert "Roll back this return" in detail
    assert the_return.sha256 in detail
    download = client.get(f"/returns/{the_return.pk}/file/")
    assert (
        b"".join(download.streaming_content)
        == (EXAMPLES / "clean-long.csv").read_bytes()
    )
    assert 'filename="clean-long.csv"' in download["Content-Disposition"]

    assert client.get(f"/returns/{the_return.pk}/rollback/").status_code == 200
    assert client.post(f"/returns/{the_return.pk}/rollback/").status_code == 302
    the_return.refresh_from_db()
    assert the_return.status == "rolled_back"
    assert not Observation.objects.filter(
        source_return=the_return, is_current=True
    ).exists()


def test_messy_upload_lists_every_problem_and_the_report_downloads_safely(
    client, plymouth, analyst, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    data = (EXAMPLES / "messy-long.csv").read_bytes().replace(b"PHOF 9.99", b"=SUM(A1)")

    job = upload(
        client, plymouth, "messy-long.csv", data, django_capture_on_commit_callbacks
    )

    assert (job.status, job.problem_count) == ("invalid", 15)
    page = client.get(f"/returns/uploads/{job.pk}/").content.decode()
    assert P.HAS_PROBLEMS in page
    assert page.count('<tr class="nhsuk-table__row" data-code=') == 15
    assert "&#x27;12,3&#x27; is not a number." in page
    assert "Commit" not in page.split("<h2")[0]
    report = client.get(f"/returns/uploads/{job.pk}/problems.csv")
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[1] == [
        "",
        "3",
        "Indicator",
        "'=SUM(A1)",
        "indicator_unknown",
        "'=SUM(A1)' is not an indicator of Plymouth and the Western Locality.",
    ]
    assert [[*r[1:3], r[4]] for r in rows[2:5]] == [
        ["4", "Area", "area_unknown"],
        ["5", "Period", "period_invalid"],
        ["6", "Period", "period_wrong_type"],
    ]


def test_same_file_again_says_nothing_to_change(
    client, plymouth, analyst, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    data = long_csv(("dementia-diagnosis-rate", "99P", "Sep-17", "61.2"))
    first = upload(client, plymouth, "a.csv", data, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/returns/uploads/{first.pk}/commit/", {"fingerprint": first.fingerprint}
        )

    again = upload(client, plymouth, "a.csv", data, django_capture_on_commit_callbacks)

    assert (again.status, again.unchanged_count) == ("unchanged", 1)
    assert (
        P.NOTHING_TO_CHANGE
        in client.get(f"/returns/uploads/{again.pk}/").content.decode()
    )


def test_commit_refuses_a_preview_made_out_of_date(
    client, plymouth, analyst, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    job = upload(
        client,
        plymouth,
        "r.csv",
        long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0")),
        django_capture_on_commit_callbacks,
    )
    services.return_commit(
        data=long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "40.0")),
        file_name="other.csv",
        system=plymouth,
        options=services.ImportOptions(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/returns/uploads/{job.pk}/commit/", {"fingerprint": job.fingerprint}
        )

    job.refresh_from_db()
    assert (job.status, job.error, job.committed_return) == (
        "stale",
        P.PREVIEW_OUT_OF_DATE,
        None,
    )
    assert (
        P.PREVIEW_OUT_OF_DATE
        in client.get(f"/returns/uploads/{job.pk}/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/returns/uploads/{job.pk}/recheck/")
    job.refresh_from_db()
    assert (job.status, job.revised_count) == ("ready", 1)


def test_a_tampered_fingerprint_is_refused(
    client, plymouth, analyst, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    job = upload(
        client,
        plymouth,
        "r.csv",
        long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0")),
        django_capture_on_commit_callbacks,
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/returns/uploads/{job.pk}/commit/", {"fingerprint": "0" * 64})

    job.refresh_from_db()
    assert job.status == "stale"
    assert not Return.objects.filter(kind="upload").exists()


def test_file_over_the_limit_is_refused_unread(
    client, plymouth, analyst, settings, django_capture_on_commit_callbacks
):
    settings.RETURNS_MAX_UPLOAD_BYTES = 100
    client.force_login(analyst)

    job = upload(
        client, plymouth, "big.csv", b"x" * 200, django_capture_on_commit_callbacks
    )

    assert (job.status, job.file.name) == ("invalid", "")
    assert [(p.code, p.message) for p in job.problems.all()] == [
        (
            P.FILE_TOO_LARGE,
            "The file is 200 bytes; the largest file accepted is 100 bytes.",
        )
    ]


def _plymouth_objects(client, plymouth, analyst, capture):
    client.force_login(analyst)
    job = upload(
        client,
        plymouth,
        "r.csv",
        long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0")),
        capture,
    )
    the_return = services.return_commit(
        data=long_csv(("iapt-recovery-rate", "E06000026", "Sep-17", "40.0")),
        file_name="committed.csv",
        system=plymouth,
        options=services.ImportOptions(),
        user=analyst,
    ).the_return
    client.logout()
    return job, the_return


@pytest.mark.parametrize("who", ["viewer", "torbay_analyst"])
def test_viewers_and_other_systems_analysts_get_403_on_every_write_and_download(
    request, who, client, plymouth, analyst, django_capture_on_commit_callbacks
):
    job, the_return = _plymouth_objects(
        client, plymouth, analyst, django_capture_on_commit_callbacks
    )
    client.force_login(request.getfixturevalue(who))
    post = {
        "system": plymouth.pk,
        "file": SimpleUploadedFile("x.csv", b"a,b"),
        "file_format": "auto",
    }

    responses = {
        "upload": client.post("/returns/upload/", post),
        "job page": client.get(f"/returns/uploads/{job.pk}/"),
        "progress": client.get(f"/returns/uploads/{job.pk}/progress.json"),
        "commit": client.post(
            f"/returns/uploads/{job.pk}/commit/", {"fingerprint": job.fingerprint}
        ),
        "discard": client.post(f"/returns/uploads/{job.pk}/discard/"),
        "recheck": client.post(f"/returns/uploads/{job.pk}/recheck/"),
        "problems": client.get(f"/returns/uploads/{job.pk}/problems.csv"),
        "job file": client.get(f"/returns/uploads/{job.pk}/file/"),
        "rollback page": client.get(f"/returns/{the_return.pk}/rollback/"),
        "rollback": client.post(f"/returns/{the_return.pk}/rollback/"),
        "return file": client.get(f"/returns/{the_return.pk}/file/"),
    }

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(
        responses, 403
    )
    job.refresh_from_db()
    the_return.refresh_from_db()
    assert (job.status, the_return.status) == ("ready", "committed")


def test_viewer_sees_returns_but_cannot_upload(
    client, plymouth, viewer, analyst, django_capture_on_commit_callbacks
):
    _, the_return = _plymouth_objects(
        client, plymouth, analyst, django_capture_on_commit_callbacks
    )
    client.force_login(viewer)

    listing = client.get("/returns/").content.decode()
    detail = client.get(f"/returns/{the_return.pk}/").content.decode()

    assert "committed.csv" in listing
    assert "Upload a return" not in listing
    assert "Roll back" not in detail
    assert "download the original" not in detail
    assert client.get("/returns/upload/").status_code == 403


def test_other_systems_returns_are_not_shown(
    client, plymouth, torbay_analyst, analyst, django_capture_on_commit_callbacks
):
    _, the_return = _plymouth_objects(
        client, plymouth, analyst, django_capture_on_commit_callbacks
    )
    client.force_login(torbay_analyst)

    assert "committed.csv" not in client.get("/returns/").content.decode()
    assert client.get(f"/returns/{the_return.pk}/").status_code == 403


def test_unknown_ids_are_404_for_an_analyst(client, analyst):
    client.force_login(analyst)

    assert client.get("/returns/uploads/999999/").status_code == 404
    assert client.post("/returns/999999/rollback/").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, plymouth):
    assert client.get("/returns/").status_code == 302
    assert client.get("/returns/upload/").url.startswith("/accounts/login/")


def test_returns_list_query_count_stays_fixed_as_returns_grow(
    client, plymouth, analyst, django_assert_num_queries
):
    client.force_login(analyst)

    def add_returns(count):
        for i in range(count):
            Return.objects.create(
                system=plymouth,
                kind="upload",
                title=f"r{i}.csv",
                uploaded_by=make_user(f"u{i}-{count}"),
            )

    add_returns(2)
    client.get("/returns/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/returns/").status_code == 200
    add_returns(20)

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/returns/")

    assert response.content.decode().count("r19.csv") == 1
