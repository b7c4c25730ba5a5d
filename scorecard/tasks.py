"""Thin tasks: each calls one service. Idempotent (results are replaced whole), so late
acknowledgement and redelivery are safe."""

from celery import shared_task
from django.db import OperationalError

from scorecard.services import recompute as services


@shared_task(
    name="scorecard.recompute_queued",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def recompute_queued() -> int | None:
    run = services.recompute_queued()
    return run.pk if run else None


@shared_task(
    name="scorecard.recompute_all",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=1800,
    time_limit=1900,
)
def recompute_all() -> int | None:
    run = services.recompute_everything()
    return run.pk if run else None
