"""The scorecard pages' cache: selector output and rendered page content kept under a
version number.

The version is bumped whenever what the pages show may have changed: a recomputation
landing (scorecard.services.recompute calls `bump_version`), a return committed or rolled
back (the ReturnEvent signal below), commentary saved, a strategy or system edited. Bumping makes every cached entry
unreachable at once (they expire on their own), so nothing has to know which keys exist.

The version lives in the cache itself (LocMem by default: per process; Redis when
REDIS_URL / CACHE_URL is set, shared by web and workers). With LocMem a worker's bump
does not reach the web process, so the key also carries the latest finished
recomputation's id: one small indexed query that keeps a page from outliving the run after
it (cheaper, measured, than the same id as a subquery of the page's access query).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from commissioning.signals import rows_updated

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


def page_version() -> str:
    """What every key carries: the version and the latest finished run's id. A page that
    reads several entries reads this once and passes it to `cached`."""
    return f"{current_version()}:{_latest_run_id()}"


def cached(parts: tuple, compute: Callable[[], T], *, version: str | None = None) -> T:
    """`compute()`'s value, kept under `parts` for the current version (`page_version()`,
    read here unless given)."""
    name = ":".join(str(p) for p in parts)
    if len(name) > 150:  # cache keys stay short whatever a URL brings
        name = hashlib.sha256(name.encode()).hexdigest()
    key = f"scorecard:pages:{version or page_version()}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=TIMEOUT)
    return value


# Models whose rows the cached pages show (names, framework, targets, actions and their
# progress, commentary, published stocktakes) or that decide what they show. A write to
# any of them, in a page, the API, the admin or a command, invalidates every page.
# Computed results (SeriesResult, ExceptionFlag) are not here: the recomputation bumps
# once when it lands, not once per row.
SHOWN_MODELS = (
    "indicators.ReturnEvent",  # a return committed or rolled back
    "indicators.Indicator",
    "indicators.IndicatorAssignment",
    "indicators.Target",
    "indicators.Area",
    "strategies.CommissioningSystem",  # names and slugs: the pages find a strategy by
    "strategies.Strategy",  # its slugs through the cache (scorecard.views)
    "strategies.FrameworkItem",
    "strategies.FrameworkLevel",
    "actions.ActionPlan",
    "actions.Action",
    "actions.ProgressReport",
    "actions.Milestone",
    "scorecard.ExceptionCommentary",
    "scorecard.Stocktake",
    "scorecard.ReportingCycle",
    "scorecard.ExceptionRule",
    "scorecard.AnalysisSettings",
    "scorecard.RebasePoint",
)

# Links the pages show: an action's indicators, an indicator's aims and elements.
SHOWN_LINKS = (
    ("actions.Action", "indicators"),
    ("indicators.Indicator", "framework_items"),
)


def _bump_on_write(**kwargs) -> None:
    # Now, and again when the transaction commits: a page cached in between (from the
    # data as it was before the commit) must not outlive it.
    bump_version()
    transaction.on_commit(bump_version)


def _bump_on_update(sender, **kwargs) -> None:
    if sender._meta.label in SHOWN_MODELS:
        _bump_on_write()


def connect_signals() -> None:
    """Bump on writes that change what the pages show without a recomputation (called
    from ScorecardConfig.ready, so every process, web, worker or command, connects)."""
    from django.apps import apps

    for label in SHOWN_MODELS:
        model = apps.get_model(label)
        post_save.connect(_bump_on_write, sender=model, weak=False)
        post_delete.connect(_bump_on_write, sender=model, weak=False)
    rows_updated.connect(_bump_on_update, weak=False)
    for label, field in SHOWN_LINKS:
        through = apps.get_model(label)._meta.get_field(field).remote_field.through
        m2m_changed.connect(_bump_on_link, sender=through, weak=False)


def _bump_on_link(action: str, **kwargs) -> None:
    if action.startswith("post_"):
        _bump_on_write()
