"""Code run in the fault tests' child processes (started with multiprocessing's "spawn":
a fresh interpreter that sets Django up against the test database itself)."""

from __future__ import annotations

import os
import time


def commit_return(
    database_url: str, system_slug: str, file_name: str, data: bytes, barrier, results
) -> None:
    """Commit one return as the upload service does, starting when every process has
    reached `barrier`; puts (file name, "ok" or "error", the return's id or the error,
    start, end) on `results`."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    import django

    django.setup()
    from indicators import services
    from strategies.models import CommissioningSystem

    system = CommissioningSystem.objects.get(slug=system_slug)
    barrier.wait(timeout=60)
    started = time.time()
    try:
        outcome = services.return_commit(
            data=data,
            file_name=file_name,
            system=system,
            options=services.ImportOptions(),
        )
    except Exception as exc:  # reported to the test, which fails on it
        results.put((file_name, "error", repr(exc), started, time.time()))
    else:
        results.put((file_name, "ok", outcome.the_return.pk, started, time.time()))
