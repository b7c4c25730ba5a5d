"""Uploads that are not returns are refused cleanly, with a problem the analyst can read
and nothing written: a non-CSV/XLSX file, a file over the limit, and a zip bomb dressed as
an Excel workbook (a few hundred KB that would unpack to hundreds of MB)."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators.imports import problems as P
from indicators.imports.readers import ReadError, read_workbook
from indicators.models import ImportJob, Observation, Return

MAX = 50 * 1024 * 1024


def zip_bomb(unpacked_mb: int = 200) -> bytes:
    """An .xlsx-shaped zip whose one sheet is `unpacked_mb` MB of the same byte."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        chunk = b"<row>" + b"0" * (1024 * 1024 - 11) + b"</row>"
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(unpacked_mb):
                sheet.write(chunk)
    return buffer.getvalue()


NOT_A_RETURN = {
    "picture.png": b"\x89PNG\r\n\x1a\n" + os.urandom(4000),
    "report.pdf": b"%PDF-1.7\n" + os.urandom(4000),
    "setup.exe": b"MZ\x90\x00" + os.urandom(4000),
    "archive.zip": b"PK\x03\x04" + os.urandom(4000),  # zip magic, not a workbook
    "returns.csv": os.urandom(4000),  # binary named as CSV
}


@pytest.mark.parametrize("name", sorted(NOT_A_RETURN))
def test_the_reader_refuses_files_that_are_not_csv_or_xlsx(name):
    with pytest.raises(ReadError) as refused:
        read_workbook(NOT_A_RETURN[name], file_name=name, max_bytes=MAX)
    assert refused.value.problem.code == P.FILE_UNREADABLE


def test_the_reader_refuses_a_zip_bomb_before_unpacking_it():
    bomb = zip_bomb(200)
    assert len(bomb) < 1024 * 1024  # small on the wire

    with pytest.raises(ReadError) as refused:
        read_workbook(bomb, file_name="bomb.xlsx", max_bytes=MAX)

    assert refused.value.problem.code == P.FILE_UNREADABLE
    assert "would unpack to 200.0 MB" in str(refused.value)


def test_a_real_workbook_of_similar_size_is_still_read(tmp_path):
    """The guard is not a blanket refusal: an ordinary workbook passes it."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Indicator", "Area", "Period", "Value"])
    for row in range(20_000):
        sheet.append([f"ind-{row % 40}", "E06000026", f"2017-{row % 12 + 1:02d}", 0.5])
    path = tmp_path / "real.xlsx"
    book.save(path)

    workbook = read_workbook(path.read_bytes(), file_name="real.xlsx", max_bytes=MAX)

    assert workbook.kind == "xlsx"
    assert workbook.sheets[0].estimated_rows >= 20_000


def test_an_oversized_file_is_refused_unread():
    with pytest.raises(ReadError) as refused:
        read_workbook(b"a,b\n" * 100, file_name="big.csv", max_bytes=100)
    assert refused.value.problem.code == P.FILE_TOO_LARGE


@pytest.fixture
def upload_page(client, analyst, plymouth, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(analyst)

    def post(name: str, data: bytes):
        response = client.post(
            "/returns/upload/",
            {
                "system": plymouth.pk,
                "file": SimpleUploadedFile(name, data),
                "file_format": "auto",
            },
        )
        assert response.status_code == 302, response.content[:500]
        return ImportJob.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))

    return post


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("picture.png", NOT_A_RETURN["picture.png"], P.FILE_UNREADABLE),
        ("setup.exe", NOT_A_RETURN["setup.exe"], P.FILE_UNREADABLE),
        ("bomb.xlsx", zip_bomb(120), P.FILE_UNREADABLE),
        ("big.csv", b"Indicator,Area,Period,Value\n" + b"x,y,z,1\n" * 40, "size"),
    ],
)
def test_the_upload_page_refuses_hostile_files_and_writes_nothing(
    client, upload_page, settings, django_capture_on_commit_callbacks, name, data, code
):
    if code == "size":
        settings.RETURNS_MAX_UPLOAD_BYTES = 100
        code = P.FILE_TOO_LARGE
    observations = Observation.objects.count()
    returns = Return.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        job = upload_page(name, data)

    job.refresh_from_db()
    page = client.get(f"/returns/uploads/{job.pk}/").content.decode()
    assert job.status == ImportJob.Status.INVALID
    assert [problem.code for problem in job.problems.all()] == [code]
    assert "could not be read" in page or "largest file accepted" in page
    assert Observation.objects.count() == observations
    assert Return.objects.count() == returns
