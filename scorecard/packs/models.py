"""A generated board pack and its files, and the monthly schedule. Imported by
scorecard.models so Django sees them as the scorecard app's."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from commissioning.db import TimeStampedModel


def pack_file_path(pack: BoardPack, filename: str) -> str:
    return f"packs/{pack.system.slug}/{pack.pk}/{filename}"


class BoardPack(TimeStampedModel):
    """One generation of the stocktake pack for a system: from a published stocktake or
    from live data as at a date. Its files never change once it is done."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Generating"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="board_packs",
    )
    title = models.CharField(max_length=300)
    as_at = models.DateField(
        null=True, blank=True, help_text="Live data as it stood on this date"
    )
    stocktake = models.ForeignKey(
        "scorecard.Stocktake",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="board_packs",
        help_text="Or a published stocktake, exactly as published",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="board_packs",
    )
    requested_by_name = models.CharField(max_length=200, blank=True)
    scheduled = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    percent = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    html_file = models.FileField(upload_to=pack_file_path, blank=True)
    pdf_file = models.FileField(upload_to=pack_file_path, blank=True)
    xlsx_file = models.FileField(upload_to=pack_file_path, blank=True)
    csv_file = models.FileField(upload_to=pack_file_path, blank=True)
    has_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class BoardPackSchedule(models.Model):
    """Generate a system's pack from live data every month, on this day."""

    system = models.OneToOneField(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="board_pack_schedule",
    )
    enabled = models.BooleanField(default=True)
    day_of_month = models.PositiveSmallIntegerField(
        default=1, help_text="1-28, so that every month has the day"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_of_month__gte=1, day_of_month__lte=28),
                name="board_pack_schedule_day_in_every_month",
            )
        ]

    def __str__(self) -> str:
        return f"Monthly board pack for {self.system} on day {self.day_of_month}"
