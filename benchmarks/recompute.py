"""Benchmark: the full recompute of flags at scale (issue 4, "Speed"). Not a test.

Creates a PostgreSQL database (`bench_recompute` on postgres://postgres@127.0.0.1:5432
unless --server says otherwise), migrates it, loads 50,000 series x 60 monthly points
(3,000,000 current values, fixed seed, loaded with COPY), then prints in one run:

1. the full recompute, end to end (`recompute_everything`: read, SPC, every other
   method, reasons, write, flags), on an empty result table and again on a full one
   (the nightly case), each in a fresh process with its peak memory;
2. the limit: a bare vectorised NumPy pass (`spc_batch`) computing the same SPC limits
   and rules on the same values already in memory;
3. the obvious one-series-at-a-time loop (read a series, analyse it, write it in its own
   transaction), timed on a 500-series sample and scaled to the whole set;

and drops the database (unless --keep). Each stage runs in its own process, with a time
limit. Run from the project root:

    .venv/bin/python benchmarks/recompute.py [--series 50000] [--points 60] [--sample 500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

# benchmarks/seed_scale.py, beside this script
from seed_scale import admin_sql

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench_recompute"
SEED = 20240601
INDICATORS = 50
STAGE_TIMEOUT = 1800  # seconds; the whole run stays bounded
GOAL_SECONDS = 60
GOAL_SPEED_UP = 50


# --- stages (each in its own process, with Django set up against the database) -----


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # No query log: it would cost the one-at-a-time loop memory and time.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def stage_migrate() -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {}


def stage_generate(series: int, points: int) -> dict:
    """Reproducible data: per indicator, one series per area, the first area England."""
    import io

    import numpy as np
    import pandas as pd
    from django.db import connection
    from django.utils import timezone

    from indicators.models import Area, Indicator, Observation, Period, Return, Target
    from indicators.periods import month_period
    from scorecard.models import AnalysisSettings, RebasePoint
    from strategies.models import CommissioningSystem

    started = time.monotonic()
    rng = np.random.default_rng(SEED)
    areas_per_indicator = series // INDICATORS
    system = CommissioningSystem.objects.create(
        slug="bench", name="Benchmark system", short_name="Bench"
    )
    Area.objects.bulk_create(
        [Area(code="E92000001", name="England", kind=Area.Kind.COUNTRY)]
        + [
            Area(code=f"B{i:08d}", name=f"Area {i}", kind=Area.Kind.UNITARY)
            for i in range(1, areas_per_indicator)
        ]
    )
    area_ids = np.array(Area.objects.order_by("id").values_list("id", flat=True))
    # The latest month is two months back: recent enough not to be overdue.
    today = timezone.localdate()
    last = today.year * 12 + today.month - 1 - 2
    specs = [
        month_period((last - back) // 12, (last - back) % 12 + 1)
        for back in range(points - 1, -1, -1)
    ]
    Period.objects.bulk_create(
        [Period(kind=s.kind, start=s.start, end=s.end, label=s.label) for s in specs]
    )
    period_ids = np.array(
        Period.objects.filter(kind="month", start__in=[s.start for s in specs])
        .order_by("start")
        .values_list("id", flat=True)
    )
    kinds = [
        ("percentage", "%", "higher_is_better", 50.0),
        ("rate_per_100000", "", "lower_is_better", 600.0),
        ("count", "", "no_judgement", 120.0),
        ("score", "", "higher_is_better", 25.0),
        ("percentage", "%", "lower_is_better", 20.0),
    ]
    indicators = Indicator.objects.bulk_create(
        [
            Indicator(
                system=system,
                key=f"bench-{i:02d}",
                title=f"Benchmark indicator {i}",
                source_framework="LOCAL",
                measure_type=kinds[i % len(kinds)][0],
                unit=kinds[i % len(kinds)][1],
                polarity=kinds[i % len(kinds)][2],
                period_type="month",
            )
            for i in range(INDICATORS)
        ]
    )
    source = Return.objects.create(system=system, kind="demo", title="Benchmark")
    # Options the engine must honour: no screening (10 indicators), fixed limits (1),
    # a rebase for every area (1); targets on half of them.
    AnalysisSettings.objects.bulk_create(
        [
            AnalysisSettings(indicator=ind, screen_outliers=False)
            for ind in indicators[:10]
        ]
        + [AnalysisSettings(indicator=indicators[10], fix_limits_after=24)]
    )
    RebasePoint.objects.create(
        indicator=indicators[11],
        period_id=int(period_ids[points // 2]),
        reason="New service model",
    )
    targets = []
    for i, ind in enumerate(indicators):
        if i % 2 == 0 and ind.polarity != "no_judgement":
            level = kinds[i % len(kinds)][3]
            targets.append(
                Target(indicator=ind, kind="absolute", value=round(level * 1.04, 1))
            )
    Target.objects.bulk_create(targets)

    columns = (
        "indicator_id", "area_id", "period_id", "breakdown", "value", "numerator",
        "denominator", "lower_ci", "upper_ci", "note", "is_synthetic", "is_current",
        "source_return_id", "recorded_at",
    )  # fmt: skip
    now = timezone.now().isoformat()
    rows = 0
    with connection.cursor() as cursor:
        # The benchmark's own database, consistent by construction: skip the per-row
        # foreign key triggers, which would make loading take minutes.
        cursor.execute("SET session_replication_role = replica")
        table = Observation._meta.db_table
        copy_sql = (
            f"COPY {table} ({', '.join(columns)}) FROM STDIN "
            "WITH (FORMAT csv, NULL '\\N')"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for i, ind in enumerate(indicators):
                measure, _, _, level = kinds[i % len(kinds)]
                y = _values(rng, areas_per_indicator, points, level)
                frame = pd.DataFrame(
                    {
                        "indicator_id": ind.pk,
                        "area_id": np.repeat(area_ids, points),
                        "period_id": np.tile(period_ids, areas_per_indicator),
                        "breakdown": "",
                    }
                )
                numerator = denominator = np.full(y.size, np.nan)
                if measure == "percentage":
                    denominator = rng.integers(400, 5000, y.size).astype(float)
                    numerator = np.round(np.clip(y.ravel(), 0, 100) / 100 * denominator)
                    values = np.round(100 * numerator / denominator, 1)
                elif measure == "rate_per_100000":
                    denominator = rng.integers(50_000, 300_000, y.size).astype(float)
                    numerator = np.round(
                        np.clip(y.ravel(), 0, None) * denominator / 1e5
                    )
                    values = np.round(1e5 * numerator / denominator, 1)
                else:
                    values = y.ravel()
                frame["value"] = values
                frame["numerator"] = numerator
                frame["denominator"] = denominator
                frame["lower_ci"] = np.nan
                frame["upper_ci"] = np.nan
                frame["note"] = ""
                frame["is_synthetic"] = "t"
                frame["is_current"] = "t"
                frame["source_return_id"] = source.pk
                frame["recorded_at"] = now
                buffer = io.StringIO()
                frame.to_csv(buffer, header=False, index=False, na_rep="\\N")
                copy.write(buffer.getvalue())
                rows += len(frame)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(f"ANALYZE {table}")
    return {"rows": rows, "seconds": time.monotonic() - started}


def _values(rng, count: int, points: int, level: float):
    """Series around a level with noise, and some with a shift, a trend or an outlier
    near the end, so every rule fires somewhere; one decimal, as returns are."""
    import numpy as np

    sd = level * 0.05
    y = rng.normal(rng.uniform(0.8, 1.2, (count, 1)) * level, sd, (count, points))
    shifted = rng.random(count) < 0.25
    starts = rng.integers(points - 24, points - 6, count)
    cols = np.arange(points)
    y += np.where(
        shifted[:, None] & (cols >= starts[:, None]),
        rng.choice([-2.5, 2.5], (count, 1)) * sd,
        0,
    )
    trending = rng.random(count) < 0.1
    ramp = np.clip(cols - (points - 8), 0, None) * 0.8 * sd
    y += np.where(trending[:, None], rng.choice([-1, 1], (count, 1)) * ramp, 0)
    outlier = rng.random(count) < 0.05
    y[outlier, -1] += rng.choice([-5, 5], outlier.sum()) * sd
    return np.round(y, 1)


def stage_full() -> dict:
    from django.db import connection

    from scorecard.models import ExceptionFlag, SeriesResult
    from scorecard.services.recompute import recompute_everything

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    before = _peak_rss_mb()
    load = os.getloadavg()[0]
    cpu, server_cpu = _cpu(resource.RUSAGE_SELF), _process_cpu(backend)
    other_backends = _BackendWatch(connection.settings_dict, exclude=backend)
    started = time.monotonic()
    run = recompute_everything()
    seconds = time.monotonic() - started
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_after = _process_cpu(backend)
    others = other_backends.stop()
    return {
        "load_before": load,
        "cpu": _cpu(resource.RUSAGE_SELF) - cpu,
        "worker_cpu": _cpu(resource.RUSAGE_CHILDREN),
        "server_cpu": server_after - server_cpu if server_after is not None else None,
        "other_server_cpu": others,
        "worker_peak_rss_mb": workers.ru_maxrss / 1024,
        "seconds": seconds,
        "series": run.series_count,
        "status": run.status,
        "failures": run.failure_count,
        "detail": run.detail,
        "results": SeriesResult.objects.count(),
        "open_flags": ExceptionFlag.objects.filter(cleared_at__isnull=True).count(),
        "rss_before_mb": before,
        "peak_rss_mb": _peak_rss_mb(),
    }


def stage_numpy() -> dict:
    """The same current values, read into arrays, then only the vectorised SPC pass."""
    import numpy as np

    from indicators.analysis.common import polarity_sign
    from indicators.analysis.spc_batch import spc_batch
    from indicators.models import Indicator
    from scorecard.services.recompute import read_current_observations

    frame = read_current_observations(None)
    frame = frame.sort_values(["indicator_id", "area_id", "breakdown", "period_start"])
    key = frame[["indicator_id", "area_id", "breakdown"]]
    new_series = np.flatnonzero((key != key.shift()).any(axis=1).to_numpy())
    offsets = np.append(new_series, len(frame))
    indicators = Indicator.objects.select_related("analysis_settings").in_bulk()
    first_rows = frame["indicator_id"].to_numpy()[offsets[:-1]]
    direction = np.array([polarity_sign(indicators[i].polarity) for i in first_rows])
    screen = np.array(
        [
            getattr(
                getattr(indicators[i], "analysis_settings", None),
                "screen_outliers",
                True,
            )
            for i in first_rows
        ]
    )
    values = np.ascontiguousarray(frame["value"].to_numpy(dtype=float))
    timings = []
    for _ in range(3):  # the best of three
        started = time.perf_counter()
        batch = spc_batch(
            values, offsets, improvement_direction=direction, screen_outliers=screen
        )
        timings.append(time.perf_counter() - started)
    return {
        "seconds": min(timings),
        "series": len(batch),
        "special_cause_points": int((batch.rule > 0).sum()),
    }


def stage_loop(sample: int, half: int) -> dict:
    """One series at a time, the obvious way: for each series read its data, analyse it
    and write its result and flags in its own transaction (the per-series engine).
    Times one half of the sample; the two halves run after the two full recomputes, so
    that they meet much the same load from the rest of the machine."""
    import random

    from django.db import connection
    from django.utils import timezone

    from scorecard.models import RecomputeRun
    from scorecard.services.recompute import _recompute_chunk, _series_keys_with_data

    keys = _series_keys_with_data(None)
    chosen = sorted(random.Random(SEED).sample(keys, min(sample, len(keys))))
    del keys
    chosen = chosen[half::2]
    run = RecomputeRun.objects.create(kind=RecomputeRun.Kind.SELECTED)
    as_at = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    load = os.getloadavg()[0]
    cpu, server_cpu = _cpu(resource.RUSAGE_SELF), _process_cpu(backend)
    started = time.monotonic()
    failures = []
    for key in chosen:
        failures.extend(_recompute_chunk([key], run, as_at))
    seconds = time.monotonic() - started
    server_after = _process_cpu(backend)
    return {
        "load_before": load,
        "seconds": seconds,
        "cpu": _cpu(resource.RUSAGE_SELF) - cpu,
        "server_cpu": server_after - server_cpu if server_after is not None else None,
        "sample": len(chosen),
        "failures": len(failures),
        "peak_rss_mb": _peak_rss_mb(),
    }


class _BackendWatch:
    """CPU of the other PostgreSQL backends that serve the recompute (its reading
    connection): sampled until stopped, as they close when the run ends."""

    def __init__(self, settings: dict, *, exclude: int) -> None:
        import threading

        import psycopg

        self._connection = psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"] or "postgres",
            dbname=settings["NAME"],
            autocommit=True,
        )
        self._exclude = {exclude, self._connection.info.backend_pid}
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._sample(at_start=True)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self, *, at_start: bool = False) -> None:
        rows = self._connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchall()
        for (pid,) in rows:
            if pid in self._exclude or (cpu := _process_cpu(pid)) is None:
                continue
            # A backend that opens during the run counts from nothing.
            self._first.setdefault(pid, cpu if at_start else 0.0)
            self._last[pid] = cpu

    def _run(self) -> None:
        while not self._done.wait(0.2):
            self._sample()

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        self._connection.close()
        return sum(self._last[pid] - self._first[pid] for pid in self._last)


def _ms(seconds: float | None, count: int) -> str:
    return "?" if seconds is None else f"{1000 * seconds / count:.1f}"


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float | None:
    """CPU seconds of the PostgreSQL backend serving us, when it runs on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the orchestrating process -----------------------------------------------------


def _run_stage(name: str, url: str, *extra: str) -> dict:
    command = [sys.executable, __file__, "--stage", name, "--url", url, *extra]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=STAGE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"Stage {name} failed.")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=60)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--half", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        _setup_django(args.url)
        result = {
            "migrate": stage_migrate,
            "generate": lambda: stage_generate(args.series, args.points),
            "full": stage_full,
            "numpy": stage_numpy,
            "loop": lambda: stage_loop(args.sample, args.half),
        }[args.stage]()
        print(json.dumps(result))
        return

    # Stopped by a signal, the run still drops its database (and its current stage).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("Stopped."))
    url = f"{args.server}/{DATABASE}"
    admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE}")
    admin_sql(args.server, f"CREATE DATABASE {DATABASE}")
    try:
        print(f"Database {DATABASE}: migrating and loading data...", flush=True)
        _run_stage("migrate", url)
        data = _run_stage(
            "generate", url, "--series", str(args.series), "--points", str(args.points)
        )
        print(f"Loaded {data['rows']:,} values in {data['seconds']:.1f} s.", flush=True)
        sample = ("--sample", str(args.sample))
        first = _run_stage("full", url)
        loops = [_run_stage("loop", url, *sample, "--half", "0")]
        second = _run_stage("full", url)
        loops.append(_run_stage("loop", url, *sample, "--half", "1"))
        bare = _run_stage("numpy", url)
        loop = {
            "seconds": sum(part["seconds"] for part in loops),
            "sample": sum(part["sample"] for part in loops),
            "loads": [part["load_before"] for part in loops],
            "cpu": sum(part["cpu"] for part in loops),
            "server_cpu": None
            if None in (part["server_cpu"] for part in loops)
            else sum(part["server_cpu"] for part in loops),
            "peak_rss_mb": max(part["peak_rss_mb"] for part in loops),
        }
    finally:
        if not args.keep:
            admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _report(args, data, first, second, bare, loop)


def _report(args, data, first, second, bare, loop) -> None:
    series = first["series"]
    scaled = loop["seconds"] / loop["sample"] * series
    print()
    print(
        f"{series:,} series x {args.points} points = {data['rows']:,} values, "
        f"PostgreSQL, {os.cpu_count()} cores"
    )
    rows = [
        ("1. Full recompute, empty result table", first),
        ("   Full recompute, nightly (results present)", second),
    ]
    for name, stage in rows:
        server = stage["server_cpu"]
        print(
            f"  {name:<48} {stage['seconds']:7.1f} s   (load {stage['load_before']:.1f}; "
            f"CPU s: this process {stage['cpu']:.1f}, workers {stage['worker_cpu']:.1f}, "
            f"PostgreSQL {'?' if server is None else f'{server:.1f}'} + "
            f"{stage['other_server_cpu']:.1f} reading ahead; {stage['detail']})"
        )
    print(
        f"  {'2. Limit: vectorised NumPy SPC, in memory':<48} {bare['seconds']:7.1f} s"
    )
    loads = " and ".join(f"{load:.1f}" for load in loop["loads"])
    print(
        f"  {'3. One series at a time, ' + str(loop['sample']) + ' timed, scaled':<48} "
        f"{scaled:7.1f} s   (loads {loads}; {loop['seconds']:.1f} s for "
        f"{loop['sample']}, {1000 * loop['seconds'] / loop['sample']:.1f} ms a series; "
        f"CPU ms a series: this process {1000 * loop['cpu'] / loop['sample']:.1f}, "
        f"PostgreSQL {_ms(loop['server_cpu'], loop['sample'])})"
    )
    print()
    for name, stage in (("empty table", first), ("nightly", second)):
        seconds = stage["seconds"]
        print(
            f"  {name:<12} under {GOAL_SECONDS} s: {'met' if seconds < GOAL_SECONDS else 'MISSED'}"
            f" ({seconds:.1f} s); {GOAL_SPEED_UP}x the loop: "
            f"{'met' if scaled / seconds >= GOAL_SPEED_UP else 'MISSED'} "
            f"({scaled / seconds:.0f}x); {seconds / bare['seconds']:.0f}x the NumPy limit"
        )
    print(
        f"  Peak memory (RSS): recompute process {first['peak_rss_mb']:.0f} / "
        f"{second['peak_rss_mb']:.0f} MB (Django alone {first['rss_before_mb']:.0f} MB), "
        f"largest worker {first['worker_peak_rss_mb']:.0f} / "
        f"{second['worker_peak_rss_mb']:.0f} MB; loop {loop['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  Results written: {second['results']:,}; open flags: {second['open_flags']:,}; "
        f"failures: {first['failures']} / {second['failures']}"
    )


if __name__ == "__main__":
    main()
