"""The progress JSON that static/js/returns.js polls (templates/_progress_panel.html):
one shape for every long job (an upload being checked or committed, a board pack being
generated), so the same progress bar serves them all."""

from django.db import models
from django.http import JsonResponse


def progress_response(
    job: models.Model, *, stage: str, percent: int, running: bool, **extra
) -> JsonResponse:
    """`job` has a `status` choice field; `extra` adds job-specific counts."""
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "stage": stage,
            "percent": percent,
            "running": running,
            **extra,
        }
    )
