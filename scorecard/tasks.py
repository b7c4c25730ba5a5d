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


@shared_task(
    name="scorecard.send_workflow_reminders",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def send_workflow_reminders() -> int:
    """Idempotent: a person is reminded at most once per cycle."""
    from scorecard.services.reminders import send_due_reminders

    return send_due_reminders()


@shared_task(
    name="scorecard.generate_board_pack",
    acks_late=True,
    max_retries=0,
    soft_time_limit=900,
    time_limit=960,
)
def generate_board_pack(pack_id: int) -> int:
    """Idempotent: a pack already ready is left alone; a failure is recorded on it."""
    from scorecard.packs import services as packs

    return packs.generate(pack_id).pk


@shared_task(
    name="scorecard.generate_scheduled_board_packs",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def generate_scheduled_board_packs() -> int:
    """Idempotent: at most one scheduled pack per system a month."""
    from scorecard.packs import services as packs

    return len(packs.scheduled_packs_due())
