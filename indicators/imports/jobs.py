"""Uploads made through the page: an ImportJob carries a file from upload to commit.

upload -> `import_job_create` keeps the file and queues the check ->
`import_job_validate` (a task) checks it and stores the preview and problems ->
the analyst confirms -> `import_job_request_commit` queues -> `import_job_commit` (a task)
commits exactly what was previewed, or marks the job out of date.

Tasks run on Celery workers when a broker is configured. Without one (the embedded
default) they run in a background thread of the web process, so the page can show the
progress of a large file; RETURNS_TASK_MODE="inline" runs them at once (tests).
"""

from __future__ import annotations

import logging
import threading

from django.db import transaction
from django.utils import timezone

from commissioning import background
from indicators.imports import problems as P
from indicators.imports.commit import (
    PreviewOutOfDate,
    ReturnHasProblems,
    return_commit,
    store_original,
)
from indicators.imports.parsing import Options
from indicators.imports.preview import max_upload_bytes, return_preview
from indicators.imports.readers import human_size
from indicators.models import ImportJob, ImportProblem

logger = logging.getLogger(__name__)

MAX_STORED_PROBLEMS = 100_000


class JobNotReady(Exception):
    def __init__(self) -> None:
        super().__init__(P.JOB_NOT_READY)


def task_mode() -> str:
    return background.task_mode("RETURNS_TASK_MODE")


def _dispatch(task_name: str, *args) -> None:
    """Run a task after the current transaction commits (never inside it)."""
    from indicators import tasks

    background.run_after_commit(getattr(tasks, task_name), *args, mode=task_mode())


def _options(job: ImportJob) -> Options:
    return Options(
        format=job.requested_format,
        sheet=job.requested_sheet,
        create_missing_indicators=job.create_missing_indicators,
    )


# Progress of the jobs running in this process (thread mode), readable while the job's
# row is locked inside its transaction; Celery jobs report through the row only.
_LIVE: dict[int, tuple[str, int, int]] = {}
_LIVE_LOCK = threading.Lock()


def live_progress(job_id: int) -> tuple[str, int, int] | None:
    with _LIVE_LOCK:
        return _LIVE.get(job_id)


def _progress(job_id: int):
    def report(stage: str, done: int, total: int) -> None:
        with _LIVE_LOCK:
            _LIVE[job_id] = (stage[:200], done, total)
        if transaction.get_connection().in_atomic_block:
            return  # the row would only change when the transaction ends
        ImportJob.objects.filter(pk=job_id).update(
            stage=stage[:200],
            progress_done=done,
            progress_total=total,
            updated_at=timezone.now(),
        )

    return report


def _forget(job_id: int) -> None:
    with _LIVE_LOCK:
        _LIVE.pop(job_id, None)


def import_job_create(
    *,
    system,
    user,
    data: bytes | None,
    file_name: str,
    size: int,
    requested_format: str = ImportJob.Format.AUTO,
    requested_sheet: str = "",
    create_missing_indicators: bool = False,
) -> ImportJob:
    """Keep the uploaded file and queue its check. A file over the size limit is refused
    at once (it is neither read nor kept): pass `data=None`."""
    limit = max_upload_bytes()
    job = ImportJob(
        system=system,
        created_by=user,
        file_name=file_name[:300],
        size_bytes=size,
        requested_format=requested_format,
        requested_sheet=requested_sheet.strip()[:300],
        create_missing_indicators=create_missing_indicators,
    )
    if data is None or size > limit:
        job.status = ImportJob.Status.INVALID
        job.finished_at = timezone.now()
        job.problem_count = 1
        job.save()
        item = P.problem(
            P.FILE_TOO_LARGE, value=human_size(size), limit=human_size(limit)
        )
        _store_problems(job, [item])
        return job
    import hashlib

    job.sha256 = hashlib.sha256(data).hexdigest()
    job.file.name = store_original(data, job.sha256, file_name)
    job.stage = "Waiting to start"
    job.save()
    _dispatch("validate_import_job", job.pk)
    return job


def _store_problems(job: ImportJob, problems: list[P.Problem]) -> None:
    ImportProblem.objects.bulk_create(
        [
            ImportProblem(
                job=job,
                position=i,
                sheet=item.sheet[:300],
                row=item.row,
                column=item.column[:300],
                value=item.value[:300],
                code=item.code,
                message=item.message[:1000],
            )
            for i, item in enumerate(problems[:MAX_STORED_PROBLEMS])
        ],
        batch_size=1000,
    )


def import_job_validate(*, job_id: int) -> None:
    """Check an uploaded file and store its preview (or its problems). Idempotent."""
    job = ImportJob.objects.select_related("system").get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.VALIDATING):
        return
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.VALIDATING, stage="Reading the file"
    )
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        preview = return_preview(
            data=data,
            file_name=job.file_name,
            system=job.system,
            options=_options(job),
            progress=_progress(job.pk),
        )
    except Exception:
        logger.exception("Checking upload %s failed", job.pk)
        _fail(job)
        return
    with transaction.atomic():
        job.problems.all().delete()
        _store_problems(job, preview.problems)
        job.problem_count = len(preview.problems)
        job.detected_format = preview.parse.format[:20]
        job.new_count = preview.new
        job.revised_count = preview.revised
        job.unchanged_count = preview.unchanged
        job.skipped_count = preview.skipped
        job.summary = preview.summary()
        job.fingerprint = preview.fingerprint
        if preview.problems:
            job.status = ImportJob.Status.INVALID
        elif preview.changes_nothing:
            job.status = ImportJob.Status.UNCHANGED
        else:
            job.status = ImportJob.Status.READY
        job.stage = job.get_status_display()
        job.finished_at = timezone.now()
        job.save()
    _forget(job.pk)


def _fail(job: ImportJob) -> None:
    _forget(job.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        stage=ImportJob.Status.FAILED.label,
        error=P.UNEXPECTED_FAILURE,
        finished_at=timezone.now(),
    )


def import_job_request_commit(*, job: ImportJob, user, fingerprint: str) -> ImportJob:
    """Queue the commit of what the analyst saw (`fingerprint` comes from the page)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.READY:
            raise JobNotReady
        if fingerprint != job.fingerprint:
            job.status = ImportJob.Status.STALE
            job.stage = job.get_status_display()
            job.error = P.PREVIEW_OUT_OF_DATE
            job.save()
            return job
        job.status = ImportJob.Status.COMMITTING
        job.stage = "Waiting to start"
        job.progress_done = job.progress_total = 0
        job.save()
        _dispatch("commit_import_job", job.pk, getattr(user, "pk", None), fingerprint)
    return job


def import_job_commit(*, job_id: int, user_id: int | None, fingerprint: str) -> None:
    from django.contrib.auth import get_user_model

    job = ImportJob.objects.select_related("system").get(pk=job_id)
    if job.status != ImportJob.Status.COMMITTING:
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        outcome = return_commit(
            data=data,
            file_name=job.file_name,
            system=job.system,
            options=_options(job),
            user=user,
            expected_fingerprint=fingerprint,
            source="Uploaded on the returns page",
            stored_name=job.file.name,
            progress=_progress(job.pk),
        )
    except (PreviewOutOfDate, ReturnHasProblems):
        _forget(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.STALE,
            stage=ImportJob.Status.STALE.label,
            error=P.PREVIEW_OUT_OF_DATE,
            finished_at=timezone.now(),
        )
        return
    except Exception:
        logger.exception("Committing upload %s failed", job.pk)
        _fail(job)
        return
    _forget(job.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.UNCHANGED
        if outcome.changed_nothing
        else ImportJob.Status.COMMITTED,
        stage="Committed" if not outcome.changed_nothing else "Nothing to change",
        committed_return=outcome.the_return,
        finished_at=timezone.now(),
    )


def import_job_discard(*, job: ImportJob) -> None:
    ImportJob.objects.filter(
        pk=job.pk,
        status__in=[
            ImportJob.Status.READY,
            ImportJob.Status.INVALID,
            ImportJob.Status.UNCHANGED,
            ImportJob.Status.STALE,
            ImportJob.Status.FAILED,
        ],
    ).update(status=ImportJob.Status.DISCARDED, stage="Discarded")


def import_job_recheck(*, job: ImportJob) -> ImportJob:
    """Check the same file again (after its preview went out of date)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if (
            job.status
            not in (
                ImportJob.Status.STALE,
                ImportJob.Status.FAILED,
                ImportJob.Status.UNCHANGED,
                ImportJob.Status.READY,
            )
            or not job.file
        ):
            raise JobNotReady
        job.status = ImportJob.Status.QUEUED
        job.stage = "Waiting to start"
        job.error = ""
        job.progress_done = job.progress_total = 0
        job.fingerprint = ""
        job.save()
        _dispatch("validate_import_job", job.pk)
    return job
