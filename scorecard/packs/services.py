"""Requesting and generating board packs. A pack is generated once, in the background
(a Celery task, or a thread without a broker), reporting its progress on its row; its
files are written before it is marked ready and never change afterwards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from commissioning import background
from scorecard.models import Stocktake
from scorecard.packs import build, formats
from scorecard.packs.document import Pack
from scorecard.packs.models import BoardPack, BoardPackSchedule
from strategies.models import CommissioningSystem
from strategies.permissions import can_view_system

logger = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "xlsx", "csv")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def request_pack(
    system: CommissioningSystem,
    user,
    *,
    as_at: date | None = None,
    stocktake: Stocktake | None = None,
    scheduled: bool = False,
) -> BoardPack:
    """Record a pack to generate and start it once this transaction commits. Anyone who
    can view the system may generate its pack."""
    if user is not None and not can_view_system(user, system):
        raise PermissionDenied
    problems = []
    if stocktake is not None and stocktake.system_id != system.pk:
        problems.append("That stocktake belongs to another system.")
    if stocktake is not None and as_at is not None:
        problems.append("Choose a published stocktake or a date, not both.")
    if as_at is not None and as_at > timezone.localdate():
        problems.append("The date cannot be in the future.")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        pack = BoardPack.objects.create(
            system=system,
            title=build.pack_title(system, as_at=as_at, stocktake=stocktake),
            as_at=as_at if stocktake is None else None,
            stocktake=stocktake,
            requested_by=user,
            requested_by_name=_name(user),
            scheduled=scheduled,
            stage="Waiting for a worker",
        )
        from scorecard import tasks

        background.run_after_commit(
            tasks.generate_board_pack,
            pack.pk,
            mode=background.task_mode("PACKS_TASK_MODE"),
        )
    return pack


@dataclass
class Rendered:
    pack: Pack
    files: dict[str, bytes]


def render_all(pack: Pack, progress=lambda percent, stage: None) -> Rendered:
    progress(40, "Writing the HTML")
    html = formats.render_html(pack)
    progress(50, "Typesetting the PDF")
    pdf = formats.render_pdf(html)
    progress(85, "Writing the spreadsheet")
    xlsx = formats.render_xlsx(pack)
    csv_text = formats.render_csv(pack)
    return Rendered(
        pack,
        {
            "html": html.encode(),
            "pdf": pdf,
            "xlsx": xlsx,
            "csv": csv_text.encode("utf-8-sig"),  # Excel reads UTF-8 with a BOM
        },
    )


def generate(pack_id: int) -> BoardPack:
    """Generate a requested pack. Idempotent: a pack already ready is left alone, so a
    redelivered task does no harm."""
    pack = BoardPack.objects.select_related("system", "stocktake").get(pk=pack_id)
    if pack.status == BoardPack.Status.DONE:
        return pack

    def progress(percent: int, stage: str) -> None:
        BoardPack.objects.filter(pk=pack.pk).update(
            percent=percent, stage=stage[:200], status=BoardPack.Status.RUNNING
        )

    BoardPack.objects.filter(pk=pack.pk).update(
        status=BoardPack.Status.RUNNING, started_at=timezone.now(), error=""
    )
    try:
        progress(5, "Reading the scorecard")
        document = build.build_pack(
            pack.system,
            as_at=pack.as_at,
            stocktake=pack.stocktake,
            generated_by=pack.requested_by_name or "the schedule",
            progress=progress,
        )
        rendered = render_all(document, progress)
        progress(95, "Saving the files")
        stem = _file_stem(pack)
        for fmt in FORMATS:
            getattr(pack, f"{fmt}_file").save(
                f"{stem}.{fmt}", ContentFile(rendered.files[fmt]), save=False
            )
        pack.status = BoardPack.Status.DONE
        pack.percent = 100
        pack.stage = "Ready"
        pack.has_synthetic = document.has_synthetic
        pack.finished_at = timezone.now()
        pack.save()
    except Exception as error:
        logger.exception("Board pack %s failed", pack.pk)
        BoardPack.objects.filter(pk=pack.pk).update(
            status=BoardPack.Status.FAILED,
            stage="Failed",
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    return pack


def write_pack_files(
    system: CommissioningSystem,
    output: Path,
    *,
    as_at: date | None = None,
    stocktake: Stocktake | None = None,
    generated_by: str = "the command line",
) -> dict[str, Path]:
    """The command line's pack: the four files written into `output`."""
    document = build.build_pack(
        system, as_at=as_at, stocktake=stocktake, generated_by=generated_by
    )
    rendered = render_all(document)
    output.mkdir(parents=True, exist_ok=True)
    stem = _slug_stem(system, as_at, stocktake)
    written = {}
    for fmt in FORMATS:
        path = output / f"{stem}.{fmt}"
        path.write_bytes(rendered.files[fmt])
        written[fmt] = path
    return written


def scheduled_packs_due(today: date | None = None) -> list[BoardPack]:
    """Monthly packs whose day has come and that have not been made this month."""
    today = today or timezone.localdate()
    made = []
    schedules = BoardPackSchedule.objects.filter(
        enabled=True, day_of_month__lte=today.day
    ).select_related("system")
    for schedule in schedules:
        already = BoardPack.objects.filter(
            system=schedule.system,
            scheduled=True,
            created_at__year=today.year,
            created_at__month=today.month,
        ).exists()
        if not already:
            made.append(
                request_pack(schedule.system, None, as_at=today, scheduled=True)
            )
    return made


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _file_stem(pack: BoardPack) -> str:
    return _slug_stem(pack.system, pack.as_at, pack.stocktake)


def _slug_stem(system, as_at, stocktake) -> str:
    if stocktake is not None:
        return f"{system.slug}-{stocktake.slug}"
    return f"{system.slug}-stocktake-{(as_at or timezone.localdate()).isoformat()}"
