"""The scorecard pages' cache: selector output kept under a version number.

The version is bumped whenever what the pages show may have changed: a recomputation
landing (scorecard.services.recompute calls `bump_version`), a return committed or rolled
back (the ReturnEvent signal below), commentary saved. Bumping makes every cached entry
unreachable at once (they expire on their own), so nothing has to know which keys exist.

The version lives in the cache itself (LocMem by default: per process; Redis when
REDIS_URL / CACHE_URL is set, shared by web and workers). With LocMem a worker's bump
does not reach the web process, so the key also carries the latest finished
recomputation's id: one indexed query that keeps a page from outliving the run after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

VERSION_KEY = "scorecard:pages:version"
TIMEOUT = 60 * 60  # an hour: a missed bump cannot keep a page stale for long

T = TypeVar("T")


def current_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def bump_version() -> None:
    """Invalidate every cached scorecard page fragment."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted)
        cache.set(VERSION_KEY, 2, timeout=None)


def _latest_run_id() -> int:
    from scorecard.models import RecomputeRun

    return (
        RecomputeRun.objects.filter(finished_at__isnull=False)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def cached(parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`'s value, kept under `parts` for the current version."""
    key = "scorecard:pages:{}:{}:{}".format(
        current_version(), _latest_run_id(), ":".join(str(p) for p in parts)
    )
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=TIMEOUT)
    return value


def _connect() -> None:
    """Bump on writes that change what the pages show without a recomputation."""
    from indicators.models import ReturnEvent
    from scorecard.models import ExceptionCommentary

    @receiver(post_save, sender=ReturnEvent, weak=False)
    def _return_event(**kwargs):  # a return committed or rolled back
        bump_version()

    @receiver(post_save, sender=ExceptionCommentary, weak=False)
    @receiver(post_delete, sender=ExceptionCommentary, weak=False)
    def _commentary_changed(**kwargs):
        bump_version()


_connect()
