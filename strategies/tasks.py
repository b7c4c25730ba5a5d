from celery import shared_task

from strategies.models import CommissioningSystem


@shared_task(name="strategies.system_slugs", acks_late=True, max_retries=0)
def system_slugs() -> list[str]:
    """Health probe: proves a worker reaches the broker and the database."""
    return list(
        CommissioningSystem.objects.order_by("slug").values_list("slug", flat=True)
    )
