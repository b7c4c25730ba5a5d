"""Roll back a committed return: its values go back to what they were before it.

For each value the return brought:
- still current: it is withdrawn, and the version it replaced (if any) is current again;
- already replaced by a later return: the later value stands, and the chain of versions
  skips the withdrawn one (its predecessor now points at the later version).
Nothing is deleted: withdrawn values stay as non-current versions of a rolled-back return.
The series touched are queued for recomputation and the audit trail gets a "rolled back"
event, in the same transaction.
"""

from __future__ import annotations

import pandas as pd
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from indicators.imports import problems as P
from indicators.imports.commit import (
    BATCH,
    _insert_recompute_requests,
    _lock_system,
)
from indicators.models import (
    Observation,
    RecomputeRequest,
    Return,
    ReturnEvent,
)


class RollbackRefused(Exception):
    pass


@transaction.atomic
def return_rollback(*, the_return: Return, user) -> Return:
    _lock_system(the_return.system)
    the_return = Return.objects.select_for_update().get(pk=the_return.pk)
    if the_return.kind != Return.Kind.UPLOAD:
        raise RollbackRefused(P.NOT_AN_UPLOAD)
    if the_return.status != Return.Status.COMMITTED:
        raise RollbackRefused(P.ALREADY_ROLLED_BACK)
    now = timezone.now()
    mine = Observation.objects.filter(source_return=the_return)
    current_ids = list(mine.filter(is_current=True).values_list("pk", flat=True))
    # Later versions stand: splice the withdrawn ones out of their chains.
    replaced = mine.filter(is_current=False, superseded_by__isnull=False)
    Observation.objects.filter(superseded_by__in=replaced).update(
        superseded_by=Subquery(
            Observation.objects.filter(pk=OuterRef("superseded_by")).values(
                "superseded_by"
            )[:1]
        )
    )
    replaced.update(superseded_by=None)
    restored = 0
    for start in range(0, len(current_ids), BATCH):
        batch = current_ids[start : start + BATCH]
        Observation.objects.filter(pk__in=batch).update(
            is_current=False, superseded_at=now
        )
        restored += Observation.objects.filter(superseded_by__in=batch).update(
            is_current=True, superseded_at=None, superseded_by=None
        )
    series = pd.DataFrame(
        list(
            mine.order_by()
            .values_list("indicator_id", "area_id", "breakdown")
            .distinct()
        ),
        columns=["ind", "area", "breakdown"],
    )
    _insert_recompute_requests(
        series, the_return.pk, RecomputeRequest.Reason.ROLLBACK, now
    )
    the_return.status = Return.Status.ROLLED_BACK
    the_return.rolled_back_at = now
    the_return.rolled_back_by = user if getattr(user, "pk", None) else None
    the_return.save(
        update_fields=["status", "rolled_back_at", "rolled_back_by", "updated_at"]
    )
    ReturnEvent.objects.create(
        source_return=the_return,
        action=ReturnEvent.Action.ROLLED_BACK,
        actor=the_return.rolled_back_by,
        details={
            "withdrawn": len(current_ids),
            "restored": restored,
            "already_replaced": mine.count() - len(current_ids),
        },
    )
    return the_return
