"""Benchmark: server time of the scorecard pages at ten times the seed scale (issue 5,
"Accessible and fast"). Not a test.

Builds a throwaway database (SQLite under /tmp by default; --database-url for another,
e.g. postgres://postgres@127.0.0.1:5432/bench_pages, which must exist and is emptied),
loads the seed with demo history, then multiplies every strategy's indicators by
--scale (each copy with its own values, so every series is computed and flagged by the
real recompute), and prints in one run the median and 95th percentile of the server
time (Django's test Client: URL routing, every middleware, the session, the view, the
templates) of:

- the system scorecard, a strategy's performance overview, its exception report and an
  indicator page (if the indicator page is wired; skipped with a note if not),
- beside a trivial view (signed-in, through the same middleware, returning "ok"),

each uncached (the page cache emptied before every request) and cached, the pages taking
turns request by request. Goal: strategy
page p95 under 150 ms and within 5 times the trivial view. Run from the project root:

    .venv/bin/python benchmarks/pages.py [--scale 10] [--requests 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/seed_scale.py, beside this script
from seed_scale import copy_seed_indicators

ROOT = Path(__file__).resolve().parent.parent
GOAL_P95_MS = 150
GOAL_RATIO = 5


def setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"  # no query log
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(scale: int) -> dict:
    """Migrate, seed, and copy every assigned indicator scale-1 more times."""
    from django.core.management import call_command

    from indicators.models import Indicator, Observation
    from scorecard.seed.loader import load_seed_data
    from scorecard.services.recompute import recompute

    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    load_seed_data(with_demo=True)
    copy_seed_indicators(scale)
    started = time.perf_counter()
    run = recompute()
    return {
        "indicators": Indicator.objects.filter(assignments__isnull=False)
        .distinct()
        .count(),
        "observations": Observation.objects.filter(is_current=True).count(),
        "series": run.series_count,
        "recompute_s": time.perf_counter() - started,
    }


def trivial(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def urlpatterns_with_trivial_view():
    from django.contrib.auth.decorators import login_required
    from django.urls import include, path

    return [
        path("bench/trivial/", login_required(trivial), name="bench_trivial"),
        path("", include("commissioning.urls")),
    ]


urlpatterns: list = []  # filled in main(): this module is the URLconf while it runs


def measure(client, paths: dict[str, str], requests: int, *, cached: bool) -> dict:
    """Each page's server times (ms). The pages take turns, one request each per round,
    so a burst of load from elsewhere on the machine falls on every page alike and the
    ratios to the trivial view stay fair."""
    from django.core.cache import cache

    for path in paths.values():  # warm up: the session, the URL resolver, the cache
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(requests):
        for name, path in paths.items():
            if not cached:
                cache.clear()
            started = time.perf_counter()
            response = client.get(path)
            times[name].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
    return times


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite database (to profile)"
    )
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bench_pages_")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    setup(url)

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import NoReverseMatch, reverse

    from indicators.models import IndicatorAssignment, Observation
    from strategies.models import CommissioningSystem, SystemRole

    # No setup_test_environment(): its instrumented template rendering (a signal and a
    # copy of the context for every template, for the test client's `response.context`)
    # is test-only work that a server never does, and it fell on the pages alone (the
    # trivial view renders no template).
    global urlpatterns
    urlpatterns = urlpatterns_with_trivial_view()

    print(f"Building {args.scale}x the seed in {url} ...", flush=True)
    built = build(args.scale)
    print(
        f"  {built['indicators']} assigned indicators, {built['observations']} current "
        f"values, {built['series']} series recomputed in {built['recompute_s']:.1f} s"
    )

    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        plymouth = CommissioningSystem.objects.get(slug="plymouth")
        strategy = max(plymouth.strategies.all(), key=lambda s: s.assignments.count())
        user = get_user_model().objects.create_user("bench", password="x" * 20)
        SystemRole.objects.create(system=plymouth, user=user, role="viewer")
        client = Client()
        client.force_login(user)
        pages = {
            "trivial view": reverse("bench_trivial"),
            "system scorecard": reverse("system_scorecard", args=[plymouth.slug]),
            f"strategy overview ({strategy.assignments.count()} indicators)": reverse(
                "strategy_overview", args=[plymouth.slug, strategy.slug]
            ),
            "exception report": reverse(
                "exception_report", args=[plymouth.slug, strategy.slug]
            ),
        }
        indicator_id = (
            Observation.objects.filter(
                indicator__in=IndicatorAssignment.objects.filter(
                    strategy=strategy
                ).values("indicator")
            )
            .values_list("indicator_id", flat=True)
            .first()
        )
        try:
            pages["indicator page"] = reverse("indicator_detail", args=[indicator_id])
        except NoReverseMatch:
            print("  (indicator page not wired yet: skipped)")

        print(
            f"\n{'page':<44} {'uncached median':>16} {'p95':>8} "
            f"{'cached median':>14} {'p95':>8}   (ms, {args.requests} requests each)"
        )
        uncached_times = measure(client, pages, args.requests, cached=False)
        cached_times = measure(client, pages, args.requests, cached=True)
        figures = {}
        for name in pages:
            uncached = summary(uncached_times[name])
            cached = summary(cached_times[name])
            figures[name] = (uncached, cached)
            print(
                f"{name:<44} {uncached[0]:>16.1f} {uncached[1]:>8.1f} "
                f"{cached[0]:>14.1f} {cached[1]:>8.1f}"
            )

    strategy_name = next(n for n in figures if n.startswith("strategy overview"))
    for label, index in (("uncached", 0), ("cached", 1)):
        # Like with like: the trivial view measured in the same pass.
        trivial_p95 = figures["trivial view"][index][1]
        p95 = figures[strategy_name][index][1]
        ratio = p95 / trivial_p95 if trivial_p95 else float("inf")
        verdict = "meets" if p95 < GOAL_P95_MS and ratio <= GOAL_RATIO else "misses"
        print(
            f"Strategy page p95 {label}: {p95:.1f} ms, {ratio:.1f}x the trivial view's "
            f"p95 ({trivial_p95:.1f} ms): {verdict} the goal (< {GOAL_P95_MS} ms and "
            f"<= {GOAL_RATIO}x)."
        )
    if args.keep:
        print(f"Kept {url}")
    elif not args.database_url:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir)  # the database and its -wal and -shm files


if __name__ == "__main__":
    main()
