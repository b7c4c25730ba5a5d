"""Benchmark of loading returns into PostgreSQL (a benchmark, not a test: nothing fails).

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--repeat 3]
                                          [--server postgres://postgres@127.0.0.1:5432]

Creates its own database on the server (and drops it at the end), generates a long-format
CSV of 2,000 indicators x 50 areas x 10 periods (1,000,000 rows), and a second one with
different values for every row, then measures, `--repeat` times with the baselines
interleaved (so a busy machine slows the import and its baselines alike):

- end to end: rows per second of `return_commit` (read, parse, validate, compare, write,
  recompute queue, COMMIT with its foreign-key checks) of the whole file into an empty
  `indicators_observation`, against
- bare COPY: rows per second of PostgreSQL COPY of the same file into an unindexed table
  on the same database (the limit);
- per-row ORM: rows per second of the obvious `update_or_create` loop on a 10,000-row
  sample, in one transaction whose deferred foreign-key checks are fired (as its COMMIT
  would) before it is rolled back;
- peak memory (the high-water mark of resident memory, VmHWM) of the process that
  committed the file;
- dry run: seconds of `return_preview` of the file before the commit (every value new)
  and after it (every value unchanged), against the commit's seconds;
- a second commit that revises every value (informative; no goal).

It prints the median of the runs beside the median of its baseline, and each ratio as the
median of the ratios of the runs (the range in brackets). Each step runs in a fresh child
process, so its peak memory is its own. The analytics recompute that a commit announces
(which, with no Celery broker, would run inline after the commit) is not part of the
import and is not timed: the benchmark leaves it unannounced.
It also prints the CPU seconds of each step (Python and its PostgreSQL backend), which a
busy machine barely moves, with the same ratios by CPU time, and the load average.
Sized for a 2-core machine: about ten minutes with three runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDICATORS, AREAS, PERIODS = 2000, 50, 10
SAMPLE = 10_000
GOALS = {
    "copy_share": 1 / 3,
    "orm_speedup": 100,
    "peak_mb": 1536,
    "dry_run_ratio": 2,
}


def generate(path: Path, rows: int, seed: int = 20171031) -> None:
    """indicator x area x period, in that order; half the indicators are percentages with
    confidence limits, half are counts with a numerator and denominator."""
    import numpy as np
    import pandas as pd

    per_indicator = AREAS * PERIODS
    n_indicators = max(1, rows // per_indicator)
    total = n_indicators * per_indicator
    index = np.arange(total)
    indicator = index // per_indicator
    area = (index // PERIODS) % AREAS
    period = index % PERIODS
    rng = np.random.default_rng(seed)
    pct = indicator % 2 == 0
    value = np.where(
        pct, rng.uniform(5, 95, total), rng.integers(0, 5000, total)
    ).round(1)
    lower = np.where(pct, (value - rng.uniform(0.5, 4, total)).clip(0).round(1), np.nan)
    upper = np.where(
        pct, (value + rng.uniform(0.5, 4, total)).clip(None, 100).round(1), np.nan
    )
    numerator = np.where(pct, np.nan, value)
    denominator = np.where(pct, np.nan, value + rng.integers(0, 20000, total))
    labels = np.array([f"{2008 + p}/{(2009 + p) % 100:02d}" for p in range(PERIODS)])
    frame = pd.DataFrame(
        {
            "Indicator": np.char.add("bench-", np.char.zfill(indicator.astype(str), 4)),
            "Area": np.char.add("B", np.char.zfill(area.astype(str), 8)),
            "Period": labels[period],
            "Value": value,
            "Numerator": numerator,
            "Denominator": denominator,
            "Lower CI": lower,
            "Upper CI": upper,
            "Note": "",
        }
    )
    frame.to_csv(path, index=False)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare() -> None:
    """Migrate, then create the system, indicators, areas and periods the file names."""
    from django.core.management import call_command

    from indicators.models import Area, Indicator, Period
    from indicators.periods import financial_year_period
    from strategies.models import CommissioningSystem

    call_command("migrate", verbosity=0)
    system = CommissioningSystem.objects.create(
        slug="bench", name="Benchmark", short_name="Bench"
    )
    Indicator.objects.bulk_create(
        [
            Indicator(
                system=system,
                key=f"bench-{i:04d}",
                title=f"Benchmark indicator {i}",
                source_framework="OTHER",
                measure_type="percentage" if i % 2 == 0 else "count",
                period_type="financial_year",
            )
            for i in range(INDICATORS)
        ],
        batch_size=1000,
    )
    Area.objects.bulk_create(
        [
            Area(code=f"B{a:08d}", name=f"Benchmark area {a}", kind="other")
            for a in range(AREAS)
        ]
    )
    for p in range(PERIODS):
        spec = financial_year_period(2008 + p)
        Period.objects.get_or_create(
            kind=spec.kind,
            start=spec.start,
            end=spec.end,
            defaults={"label": spec.label},
        )


def peak_mb() -> float:
    """This process's high-water mark of resident memory. (getrusage's ru_maxrss would
    carry the parent's peak across exec, so it is not used.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # pragma: no cover - not Linux

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backend_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a PostgreSQL backend process on this machine (0 when
    it cannot be read: a server elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def step(database_url: str, name: str, path: Path) -> dict:
    """One measured step, in this (child) process."""
    setup_django(database_url)
    from django.db import connection, transaction

    from indicators import services
    from strategies.models import CommissioningSystem

    if name == "prepare":
        prepare()
        return {"rows": 0}
    if name == "reset":
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE indicators_observation, indicators_recomputerequest, "
                "indicators_returnevent, indicators_return CASCADE"
            )
            cursor.execute("VACUUM ANALYZE")
        return {"rows": 0}
    system = CommissioningSystem.objects.get(slug="bench")
    options = services.ImportOptions()
    result: dict = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu = (time.process_time(), backend_cpu(backend))
    started = time.perf_counter()
    if name == "copy":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_copy (indicator text, area text, period text, "
                "value double precision, numerator double precision, denominator double "
                "precision, lower_ci double precision, upper_ci double precision, note text)"
            )
            cpu = (time.process_time(), backend_cpu(backend))
            started = time.perf_counter()
            with (
                open(path, "rb") as handle,
                cursor.cursor.copy(
                    "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
                ) as copy,
            ):
                while block := handle.read(1 << 20):
                    copy.write(block)
            result["seconds"] = time.perf_counter() - started
            result["cpu"] = [
                time.process_time() - cpu[0],
                backend_cpu(backend) - cpu[1],
            ]
            cursor.execute("SELECT count(*) FROM bench_copy")
            result["rows"] = cursor.fetchone()[0]
            cursor.execute("DROP TABLE bench_copy")
    elif name == "orm":
        import pandas as pd

        from indicators.models import Area, Indicator, Observation, Period, Return

        sample = pd.read_csv(path, nrows=SAMPLE, keep_default_na=False)
        indicators = dict(
            Indicator.objects.filter(system=system).values_list("key", "id")
        )
        areas = dict(Area.objects.values_list("code", "id"))
        periods = dict(Period.objects.values_list("label", "id"))
        cpu = (time.process_time(), backend_cpu(backend))
        started = time.perf_counter()
        with transaction.atomic():
            the_return = Return.objects.create(
                system=system, kind="upload", title="orm"
            )

            def number(text):
                return float(text) if text != "" else None

            for row in sample.itertuples(index=False):
                Observation.objects.update_or_create(
                    indicator_id=indicators[row[0]],
                    area_id=areas[row[1]],
                    period_id=periods[row[2]],
                    breakdown="",
                    is_current=True,
                    defaults={
                        "value": number(row[3]),
                        "numerator": number(row[4]),
                        "denominator": number(row[5]),
                        "lower_ci": number(row[6]),
                        "upper_ci": number(row[7]),
                        "note": row[8],
                        "source_return": the_return,
                    },
                )
            # What its COMMIT would do: the deferred foreign-key checks.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            result["rows"] = len(sample)
            result["seconds"] = time.perf_counter() - started
            result["cpu"] = [
                time.process_time() - cpu[0],
                backend_cpu(backend) - cpu[1],
            ]
            transaction.set_rollback(True)
    elif name == "dry_run":
        preview = services.return_preview(
            data=path.read_bytes(), file_name=path.name, system=system, options=options
        )
        if preview.problems:
            raise SystemExit(f"The benchmark file has problems: {preview.problems[:5]}")
        result["rows"] = preview.new + preview.revised + preview.unchanged
        result["counts"] = [preview.new, preview.revised, preview.unchanged]
    elif name == "commit":
        from indicators.imports import commit

        # The analytics recompute is announced after the commit; it is not the import's
        # work (with no broker it would run inline here), so it is not announced.
        commit._announce_recompute = lambda: None
        outcome = services.return_commit(
            data=path.read_bytes(), file_name=path.name, system=system, options=options
        )
        result["rows"] = outcome.the_return.new_count + outcome.the_return.revised_count
        result["counts"] = [outcome.preview.new, outcome.preview.revised]
    result.setdefault("seconds", time.perf_counter() - started)
    result.setdefault(
        "cpu", [time.process_time() - cpu[0], backend_cpu(backend) - cpu[1]]
    )
    result["peak_mb"] = peak_mb()
    return result


def run_step(database_url: str, name: str, path: Path) -> dict:
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--step",
            name,
            "--database",
            database_url,
            "--file",
            str(path),
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if completed.returncode:
        raise SystemExit(f"Step {name} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=INDICATORS * AREAS * PERIODS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.database, args.step, Path(args.file))))
        return

    import psycopg

    name = f"bench_returns_{os.getpid()}"
    server = args.server.rstrip("/")
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{server}/{name}"
    runs: list[dict[str, dict]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "returns-1m.csv"
            revised = Path(folder) / "returns-1m-revised.csv"
            t0 = time.perf_counter()
            generate(path, args.rows)
            generate(revised, args.rows, seed=20180401)
            print(
                f"Generated 2 x {path.stat().st_size / 1e6:.0f} MB in "
                f"{time.perf_counter() - t0:.1f} s; {args.repeat} run(s) of each step; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                flush=True,
            )
            run_step(database_url, "prepare", path)
            for number in range(args.repeat):
                run = {
                    "copy": run_step(database_url, "copy", path),
                    "orm": run_step(database_url, "orm", path),
                    "dry_new": run_step(database_url, "dry_run", path),
                    "commit": run_step(database_url, "commit", path),
                    "dry_same": run_step(database_url, "dry_run", path),
                    "revise": run_step(database_url, "commit", revised),
                }
                run_step(database_url, "reset", path)
                runs.append(run)
                print(
                    f"run {number + 1}: "
                    + ", ".join(
                        f"{k} {v['seconds']:.1f} s (CPU {sum(v['cpu']):.1f} s)"
                        for k, v in run.items()
                    )
                    + f"; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        report(runs)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def report(runs: list[dict[str, dict]]) -> None:
    def median(key: str, field: str = "seconds") -> float:
        return statistics.median(run[key][field] for run in runs)

    def rate(run: dict, key: str) -> float:
        return run[key]["rows"] / run[key]["seconds"]

    def ratio(of) -> tuple[float, str]:
        values = [of(run) for run in runs]
        middle = statistics.median(values)
        spread = f" [{min(values):.2f}-{max(values):.2f}]" if len(values) > 1 else ""
        return middle, spread

    def rate_median(key: str) -> float:
        return statistics.median(rate(run, key) for run in runs)

    first = runs[0]
    copy_share, copy_spread = ratio(lambda r: rate(r, "commit") / rate(r, "copy"))
    orm_speedup, orm_spread = ratio(lambda r: rate(r, "commit") / rate(r, "orm"))
    dry_new, dry_new_spread = ratio(
        lambda r: r["dry_new"]["seconds"] / r["commit"]["seconds"]
    )
    dry_same, dry_same_spread = ratio(
        lambda r: r["dry_same"]["seconds"] / r["commit"]["seconds"]
    )
    n = len(runs)
    lines = [
        (
            "rows committed",
            f"{first['commit']['rows']:,} (medians of {n} run{'s' if n > 1 else ''})",
            "",
        ),
        (
            "end to end (read, check, write)",
            f"{rate_median('commit'):,.0f} rows/s ({median('commit'):.1f} s)",
            f"bare COPY {rate_median('copy'):,.0f} rows/s ({median('copy'):.1f} s): "
            f"{copy_share:.3f}{copy_spread} of COPY (goal >= {GOALS['copy_share']:.2f})",
        ),
        (
            "per-row ORM update_or_create",
            f"{rate_median('orm'):,.0f} rows/s ({first['orm']['rows']:,} rows, "
            f"{median('orm'):.1f} s)",
            f"end to end is {orm_speedup:,.0f}x{orm_spread} faster "
            f"(goal > {GOALS['orm_speedup']}x)",
        ),
        (
            "peak memory of the commit",
            f"{max(run['commit']['peak_mb'] for run in runs):,.0f} MB",
            f"goal < {GOALS['peak_mb']:,} MB (bare COPY process "
            f"{max(run['copy']['peak_mb'] for run in runs):,.0f} MB)",
        ),
        (
            "dry run, every value new",
            f"{median('dry_new'):.1f} s ({max(r['dry_new']['peak_mb'] for r in runs):,.0f} MB)",
            f"commit {median('commit'):.1f} s: {dry_new:.2f}x{dry_new_spread} "
            f"(goal < {GOALS['dry_run_ratio']}x)",
        ),
        (
            "dry run, every value unchanged",
            f"{median('dry_same'):.1f} s ({max(r['dry_same']['peak_mb'] for r in runs):,.0f} MB)",
            f"commit {median('commit'):.1f} s: {dry_same:.2f}x{dry_same_spread} "
            f"(goal < {GOALS['dry_run_ratio']}x)",
        ),
        (
            "commit revising every value",
            f"{rate_median('revise'):,.0f} rows/s ({median('revise'):.1f} s, "
            f"{max(r['revise']['peak_mb'] for r in runs):,.0f} MB)",
            f"{first['revise']['counts'][1]:,} revised, "
            f"{first['revise']['counts'][0]:,} new (no goal)",
        ),
    ]
    width = max(len(a) for a, _, _ in lines)
    for label, figure, baseline in lines:
        print(f"{label:<{width}}  {figure:<40}  {baseline}".rstrip())

    # CPU seconds barely move with the load on a shared machine, so the same ratios by
    # CPU time say what the wall clock would on a quiet one.
    def cpu(key: str, side: int | None = None) -> float:
        return statistics.median(
            sum(run[key]["cpu"]) if side is None else run[key]["cpu"][side]
            for run in runs
        )

    def per_cpu(run: dict, key: str) -> float:
        return run[key]["rows"] / max(sum(run[key]["cpu"]), 1e-9)

    copy_cpu, _ = ratio(lambda r: per_cpu(r, "commit") / per_cpu(r, "copy"))
    orm_cpu, _ = ratio(lambda r: per_cpu(r, "commit") / per_cpu(r, "orm"))
    print(
        "\nCPU seconds (median; Python + its PostgreSQL backend process), which the "
        "load on the machine barely moves:"
    )
    for label, key in (
        ("commit", "commit"),
        ("bare COPY", "copy"),
        ("per-row ORM (10,000 rows)", "orm"),
        ("dry run, every value new", "dry_new"),
        ("dry run, every value unchanged", "dry_same"),
        ("commit revising every value", "revise"),
    ):
        print(
            f"  {label:<31} {cpu(key, 0):6.1f} + {cpu(key, 1):6.1f} = {cpu(key):6.1f}"
        )
    print(
        f"  by CPU time, end to end is {copy_cpu:.3f} of bare COPY and "
        f"{orm_cpu:,.0f}x the per-row ORM loop"
    )


if __name__ == "__main__":
    main()
