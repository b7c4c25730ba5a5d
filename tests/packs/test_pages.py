"""Board packs as a commissioner finds them: generate from the page, watch the progress,
download four formats; other systems' packs stay invisible; bad requests write nothing."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from scorecard.models import Stocktake
from scorecard.packs import services
from scorecard.packs.models import BoardPack, BoardPackSchedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _packs_inline(settings, tmp_path):
    """Packs are generated once the request's transaction commits: in a test, when the
    captured on-commit callbacks run (at the end of each `with`)."""
    settings.PACKS_TASK_MODE = "inline"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def generate(client, django_capture_on_commit_callbacks):
    def post(system="plymouth", **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("pack_list", args=[system]), data)

    return post


@pytest.fixture
def request_pack(django_capture_on_commit_callbacks):
    def make(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.request_pack(*args, **kwargs)

    return make


def test_a_viewer_generates_a_pack_and_downloads_every_format(client, viewer, generate):
    client.force_login(viewer)

    response = generate(as_at="31/10/2017")

    pack = BoardPack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pack_detail", args=[pack.pk])
    assert pack.status == BoardPack.Status.DONE
    assert pack.as_at == date(2017, 10, 31)
    assert pack.requested_by == viewer
    page = client.get(response["Location"]).content.decode()
    assert "Demo data" in page  # the pack shows synthetic history
    html = client.get(reverse("pack_file", args=[pack.pk, "html"]))
    assert "script-src" not in html["Content-Security-Policy"]
    assert "default-src 'none'" in html["Content-Security-Policy"]
    assert b"Wellbeing - Performance exception report" in b"".join(
        html.streaming_content
    )
    pdf = client.get(reverse("pack_file", args=[pack.pk, "pdf"]))
    assert pdf["Content-Disposition"].startswith("attachment")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    xlsx = client.get(reverse("pack_file", args=[pack.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert "Wellbeing" in book.sheetnames
    progress = client.get(reverse("pack_progress", args=[pack.pk])).json()
    assert progress == {
        "status": "done",
        "status_label": "Ready",
        "stage": "Ready",
        "percent": 100,
        "running": False,
    }


def test_a_published_stocktake_pack_is_titled_as_published(
    client, viewer, plymouth, generate
):
    client.force_login(viewer)
    stocktake = Stocktake.objects.get(system=plymouth)

    generate(stocktake=stocktake.pk)

    pack = BoardPack.objects.get()
    assert pack.title == stocktake.title
    assert pack.stocktake == stocktake
    assert pack.as_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"as_at": "not a date"}, "Enter a valid date."),
        ({"stocktake": "999999"}, "Select a valid choice."),
    ],
)
def test_bad_requests_write_nothing_and_say_why(
    client, viewer, data, message, generate
):
    client.force_login(viewer)

    response = generate(**data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BoardPack.objects.exists()


def test_a_date_and_a_stocktake_together_are_refused(
    client, viewer, plymouth, generate
):
    client.force_login(viewer)
    stocktake = Stocktake.objects.get(system=plymouth)

    response = generate(stocktake=stocktake.pk, as_at="31/10/2017")

    assert response.status_code == 400
    assert "not both" in response.content.decode()
    assert not BoardPack.objects.exists()


def test_a_future_date_is_refused(client, viewer, generate):
    client.force_login(viewer)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = generate(as_at=tomorrow.strftime("%d/%m/%Y"))

    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert not BoardPack.objects.exists()


def test_another_systems_packs_are_not_found(
    client, viewer, torbay_analyst, plymouth, generate, request_pack
):
    pack = request_pack(plymouth, viewer, as_at=date(2017, 10, 31))
    client.force_login(torbay_analyst)

    for url in (
        reverse("pack_list", args=["plymouth"]),
        reverse("pack_detail", args=[pack.pk]),
        reverse("pack_progress", args=[pack.pk]),
        reverse("pack_file", args=[pack.pk, "pdf"]),
    ):
        assert client.get(url).status_code == 404, url
    assert generate().status_code == 404
    assert BoardPack.objects.count() == 1


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("pack_list", args=["plymouth"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_pack_list_does_a_fixed_number_of_queries(
    client, viewer, plymouth, django_assert_max_num_queries
):
    client.force_login(viewer)
    BoardPack.objects.bulk_create(
        BoardPack(system=plymouth, title=f"Pack {n}", status="done") for n in range(3)
    )
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("pack_list", args=["plymouth"]))
    BoardPack.objects.bulk_create(
        BoardPack(system=plymouth, title=f"Pack {n}", status="done") for n in range(40)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("pack_list", args=["plymouth"]))
    assert response.content.decode().count("Pack ") >= 43


def test_a_failed_generation_is_recorded_with_its_reason(
    monkeypatch, viewer, plymouth, request_pack
):
    def broken(*args, **kwargs):
        raise RuntimeError("the typesetter is out of ink")

    monkeypatch.setattr(services.formats, "render_pdf", broken)

    with pytest.raises(RuntimeError):
        request_pack(plymouth, viewer, as_at=date(2017, 10, 31))

    pack = BoardPack.objects.get()
    assert pack.status == BoardPack.Status.FAILED
    assert "out of ink" in pack.error
    assert not pack.pdf_file


def test_generating_again_leaves_a_ready_pack_alone(viewer, plymouth, request_pack):
    pack = request_pack(plymouth, viewer, as_at=date(2017, 10, 31))
    pack.refresh_from_db()
    finished = pack.finished_at

    services.generate(pack.pk)

    pack.refresh_from_db()
    assert pack.finished_at == finished


def test_the_monthly_schedule_makes_one_pack_a_month(
    plymouth, django_capture_on_commit_callbacks
):
    BoardPackSchedule.objects.create(system=plymouth, day_of_month=1)
    today = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        first = services.scheduled_packs_due(today)
    again = services.scheduled_packs_due(today)

    assert len(first) == 1
    assert again == []
    pack = BoardPack.objects.get()
    assert pack.scheduled
    assert pack.status == BoardPack.Status.DONE


def test_the_command_writes_the_four_files(tmp_path, plymouth):
    out = io.StringIO()

    call_command(
        "generate_board_pack",
        "--system",
        "plymouth",
        "--as-at",
        "2017-10-31",
        "--output",
        str(tmp_path),
        stdout=out,
    )

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        f"plymouth-stocktake-2017-10-31.{ext}" for ext in ("csv", "html", "pdf", "xlsx")
    ]
    assert (
        (tmp_path / "plymouth-stocktake-2017-10-31.pdf")
        .read_bytes()
        .startswith(b"%PDF-")
    )
    assert "PDF" in out.getvalue()


def test_the_command_names_unknown_systems(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="known: "):
        call_command(
            "generate_board_pack", "--system", "nowhere", "--output", str(tmp_path)
        )
