"""Thin Celery tasks for uploaded returns: they take ids and call a service.

Both are idempotent (a job only moves on from the state the task expects), so late
acknowledgement is safe; they are not retried: a failure is recorded on the job, and the
analyst can check the file again."""

from celery import shared_task

from indicators.imports import jobs

TIME_LIMITS = {"soft_time_limit": 30 * 60, "time_limit": 35 * 60}


@shared_task(acks_late=True, max_retries=0, **TIME_LIMITS)
def validate_import_job(job_id: int) -> None:
    jobs.import_job_validate(job_id=job_id)


@shared_task(acks_late=True, max_retries=0, **TIME_LIMITS)
def commit_import_job(job_id: int, user_id: int | None, fingerprint: str) -> None:
    jobs.import_job_commit(job_id=job_id, user_id=user_id, fingerprint=fingerprint)
