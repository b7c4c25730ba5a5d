"""Benchmark: the pages and API under load (issue 9, "Load"). Not a test.

Creates a PostgreSQL database (`bench_load` on postgres://postgres@127.0.0.1:5432 unless
--server says otherwise), migrates it and loads the seed frameworks with demo history at
ten times the seed scale (each system loaded --scale times under its own slug: 10 x the
systems, indicators, values and computed flags), signs in --users distinct viewers, finds
which pages and API reads exist (every candidate is tried once; those answering 200 are
used), starts gunicorn in production mode on loopback with the production settings (CSP,
throttling, JSON logs to a file), then runs locust headless (as a library, in its own
process) for a bounded time with --users users mixing scorecard, strategy, exception,
indicator and action pages and API reads, and prints p50/p95/p99 and errors beside the
goal (p95 under 300 ms, no errors). Drops the database unless --keep; --reuse runs
again on a kept one without reseeding (seeding at 10 x takes minutes).

    .venv/bin/python benchmarks/load.py [--users 50] [--duration 60] [--scale 10]
    .venv/bin/python benchmarks/load.py --keep             # then, as often as needed:
    .venv/bin/python benchmarks/load.py --reuse --probe    # --duration 0: probe only

What it prints, so that the slow kinds show:
- gunicorn's configuration as gunicorn resolves it (worker class, processes, threads,
  timeouts, recycling) and how many workers booted;
- per kind of page or API read, slowest first: requests, errors, p50/p95/p99/max as
  locust saw them (queueing included) and p50/p95 inside Django (from the app's JSON
  access log, `duration_ms`): a large gap between the two is queueing for the CPU, not
  a slow page;
- the totals against the goal, ERROR lines in the server log, and the CPU gunicorn and
  locust used (ms a request: comparable between runs on a busy machine, unlike the
  latencies) with the load average;
- with --probe, before the load: each kind's CPU cost in one process, cold and cached,
  with its query counts, and what the mix allows on this machine's cores.

gunicorn (commissioning/gunicorn.conf.py; --workers/--threads/--worker-class override
it): gthread, 3 processes x 2 threads. The app is CPU-bound Python (ORM, templates, DRF
serialisers) with short waits on PostgreSQL over loopback, and locust itself needs a
share of the same 2 cores. Processes give the parallelism (one thread a process runs
Python at a time); one more process than cores keeps both cores busy while one waits on
the database. Two threads a process let a quick page through beside a slow one, keep
locust's connections alive (sync workers close every connection) and share the
process's LocMem page cache (each process warms its own: fewer processes, fewer cold
misses). Measured on the shared machine (30 s, 50 users, --reuse; the load average was
6-9 on 2 cores, so only the order of magnitude holds): gthread 3x2 8.5 requests/s,
sync 4x1 6.4 (p50 5.8 s), gthread 2x4 14.6, gthread 3x4 10.7; every one was CPU-bound
(Django's own p50 150-500 ms against locust's 2-6 s: queueing). No configuration makes
up for CPU: the --probe mix needed ~39 ms of CPU a request (most of it `api: indicators`
and `api: exceptions`, ~200-260 ms each uncached), i.e. ~50 requests/s for 2 cores with
nothing else running; the offered load is ~50/s. Workers recycle after ~10000 requests
(a new one imports for ~3 s of CPU and starts with an empty page cache).

Sessions are database-backed (one indexed query a request); static files are served by
WhiteNoise from the collected, hashed manifest (not requested by the load); the app logs
one JSON access line a request to the server log file. None of these is a measurable
share beside the views.

Figures depend on the machine: on a shared 2-core box, other work inflates them.
"""

from __future__ import annotations

import sys

if sys.argv[1:3] == ["--stage", "locust"]:
    # Locust runs on gevent: patch the standard library before anything imports it.
    from gevent import monkey

    monkey.patch_all()

import argparse
import json
import os
import random
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

# benchmarks/seed_scale.py, beside this script
from seed_scale import admin_sql

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench_load"
GOAL_P95_MS = 300
GUNICORN_CONFIG = "commissioning/gunicorn.conf.py"
SEED = 20171023
PAGE_SAMPLES = 12  # concrete URLs kept per kind of page (spread over the systems)


def weight(kind: str) -> int:
    """How often a user picks the kind: pages and API reads in the proportion a working
    day has them (mostly pages)."""
    return 3 if kind.startswith("page") else 2


# --- stages run in their own processes ------------------------------------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _scaled_fixtures(scale: int, into: Path) -> Path:
    """The seed fixtures with every system folder copied scale-1 more times, each copy
    under its own slug and name (areas are shared, as they are in life)."""
    source = ROOT / "fixtures"
    shutil.copy(source / "areas.yaml", into / "areas.yaml")
    for folder in sorted(p for p in source.iterdir() if (p / "system.yaml").exists()):
        for copy in range(scale):
            slug = folder.name if copy == 0 else f"{folder.name}-bench-{copy + 1}"
            target = into / slug
            shutil.copytree(folder, target)
            if copy:
                system_yaml = target / "system.yaml"
                text = system_yaml.read_text()
                text = re.sub(
                    rf"(?m)^(  slug: ){re.escape(folder.name)}$", rf"\g<1>{slug}", text
                )
                text = re.sub(
                    r"(?m)^(  (?:short_)?name: )(.+)$",
                    rf"\g<1>\g<2> (bench copy {copy + 1})",
                    text,
                    count=2,
                )
                system_yaml.write_text(text)
    return into


def stage_prepare(scale: int, users: int, reuse: bool) -> dict:
    """Migrate, load the scaled seed (unless reusing a kept database), make the users
    and their sessions, find the URLs."""
    _setup_django()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user_model, login
    from django.core.management import call_command
    from django.http import HttpRequest
    from django.test import Client

    from indicators.models import Indicator, Observation
    from scorecard.models import ExceptionFlag, SeriesResult
    from scorecard.seed.loader import load_seed_data
    from strategies.models import CommissioningSystem, Strategy, SystemRole

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    if not reuse:
        with tempfile.TemporaryDirectory() as folder:
            load_seed_data(root=_scaled_fixtures(scale, Path(folder)), with_demo=True)
    loaded = time.monotonic() - started

    systems = list(CommissioningSystem.objects.order_by("slug"))
    engine = import_module(settings.SESSION_ENGINE)
    sessions = []
    for number in range(users):
        username = f"bench-reader-{number}"
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = get_user_model().objects.create_user(
                username=username, password=secrets.token_urlsafe(24)
            )
        SystemRole.objects.bulk_create(
            [SystemRole(system=s, user=user, role="viewer") for s in systems],
            ignore_conflicts=True,
        )
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        request.session = engine.SessionStore()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.save()
        sessions.append(request.session.session_key)

    rng = random.Random(SEED)
    strategies = list(Strategy.objects.select_related("system").order_by("pk"))
    indicators = list(Indicator.objects.select_related("system").order_by("pk"))
    some_strategies = rng.sample(strategies, min(PAGE_SAMPLES, len(strategies)))
    some_indicators = rng.sample(indicators, min(PAGE_SAMPLES, len(indicators)))
    some_systems = rng.sample(systems, min(PAGE_SAMPLES, len(systems)))
    candidates = {
        "page: home": ["/"],
        "page: system scorecard": [f"/scorecard/{s.slug}/" for s in some_systems],
        "page: strategy overview": [
            f"/scorecard/{s.system.slug}/{s.slug}/" for s in some_strategies
        ],
        "page: exception report": [
            f"/scorecard/{s.system.slug}/{s.slug}/exceptions/" for s in some_strategies
        ],
        "page: indicator": [f"/indicators/{i.pk}/" for i in some_indicators],
        "page: action plan": [
            f"/actions/{s.system.slug}/{s.slug}/" for s in some_strategies
        ],
        "page: workflow": ["/workflow/", "/workflow/my-updates/"],
        "page: returns": ["/returns/"],
        "api: systems": ["/api/v1/systems/"],
        "api: strategies": [
            f"/api/v1/systems/{s.slug}/strategies/" for s in some_systems
        ],
        "api: strategy": [
            f"/api/v1/systems/{s.system.slug}/strategies/{s.slug}/"
            for s in some_strategies
        ],
        "api: scorecard": [
            f"/api/v1/scorecard/{s.system.slug}/{s.slug}/" for s in some_strategies
        ],
        "api: indicators": ["/api/v1/indicators/"],
        "api: indicator series": [
            f"/api/v1/indicators/{i.pk}/series/" for i in some_indicators
        ],
        "api: exceptions": ["/api/v1/exceptions/"],
        "api: actions": ["/api/v1/actions/"],
    }
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = sessions[0]
    endpoints, missing = {}, {}
    for name, paths in candidates.items():
        statuses = {path: client.get(path).status_code for path in paths}
        working = [path for path, status in statuses.items() if status == 200]
        if working:
            endpoints[name] = working
        else:
            missing[name] = sorted(set(statuses.values()))
    return {
        "sessions": sessions,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "endpoints": endpoints,
        "missing": missing,
        "load_seconds": round(loaded, 1),
        "counts": {
            "systems": len(systems),
            "strategies": len(strategies),
            "indicators": len(indicators),
            "current values": Observation.objects.filter(is_current=True).count(),
            "series results": SeriesResult.objects.count(),
            "open exception flags": ExceptionFlag.objects.filter(
                cleared_at__isnull=True
            ).count(),
        },
    }


def stage_probe(config_path: str) -> dict:
    """Each kind's cost in one process, with nothing else of ours running: every URL
    of the kind once with an empty cache (a fresh process's LocMem: with --cache-url,
    whatever that cache holds), then again (cached where the page caches), by
    the Django test client under the production settings. CPU time is this process's
    only (PostgreSQL's own work is not in it), so it holds on a busy machine where the
    wall-clock figures under load do not."""
    _setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import get_resolver

    config = json.loads(Path(config_path).read_text())
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = config["sessions"][0]
    get_resolver().url_patterns  # noqa: B018 - the imports, as a worker's boot does

    def one(path: str) -> tuple[float, float, int]:
        with CaptureQueriesContext(connection) as queries:
            cpu, wall = time.process_time(), time.perf_counter()
            status = client.get(path).status_code
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}")
        return cpu * 1000, wall * 1000, len(queries)

    kinds = {}
    for name, paths in config["endpoints"].items():
        first = [one(path) for path in paths]
        again = [one(path) for path in paths]
        kinds[name] = {
            "urls": len(paths),
            "first_cpu": sum(r[0] for r in first) / len(first),
            "first_queries": max(r[2] for r in first),
            "again_cpu": sum(r[0] for r in again) / len(again),
            "again_wall": sum(r[1] for r in again) / len(again),
            "again_queries": max(r[2] for r in again),
        }
    return kinds


def stage_locust(config_path: str) -> dict:
    """Locust as a library (it patches the process with gevent: hence its own process)."""
    import gevent
    from locust import HttpUser, between, events, task
    from locust.env import Environment

    config = json.loads(Path(config_path).read_text())
    endpoints = config["endpoints"]
    # Pages and API reads in the proportion a working day has them: mostly pages.
    names = [name for name in endpoints for _ in range(weight(name))]
    sessions = iter(config["sessions"])

    class ScorecardReader(HttpUser):
        host = config["base_url"]
        wait_time = between(0.5, 1.5)

        def on_start(self):
            self.client.cookies.set(config["session_cookie"], next(sessions))
            self.rng = random.Random()

        @task
        def read(self):
            name = self.rng.choice(names)
            path = self.rng.choice(endpoints[name])
            with self.client.get(path, name=name, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")

    env = Environment(user_classes=[ScorecardReader], events=events)
    runner = env.create_local_runner()
    cpu = time.process_time()
    runner.start(config["users"], spawn_rate=config["spawn_rate"])
    gevent.spawn_later(config["duration"], runner.quit)
    runner.greenlet.join()

    def summary(entry) -> dict:
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
            "rps": entry.total_rps,
        }

    return {
        "locust_cpu": time.process_time() - cpu,
        "total": summary(env.stats.total),
        "by_name": {
            name: summary(entry) for (name, _method), entry in env.stats.entries.items()
        },
        "errors": [
            {"name": e.name, "error": str(e.error), "occurrences": e.occurrences}
            for e in env.stats.errors.values()
        ]
        + [
            {"name": "locust", "error": e["msg"], "occurrences": e["count"]}
            for e in runner.exceptions.values()
        ],
    }


# --- orchestration --------------------------------------------------------------------


def _run_stage(name: str, env: dict, *extra: str, timeout: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--stage", name, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"stage {name} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_alive(url: str, process: subprocess.Popen, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn stopped while starting (see its log)")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit("gunicorn did not answer /healthz within a minute")


def _database_exists(server: str) -> bool:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
    return found is not None


def gunicorn_settings(env: dict) -> dict:
    """The settings gunicorn reads from its config file under `env`, as it resolves them
    (gunicorn runs `sync` with threads > 1 as `gthread`)."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        namespace = runpy.run_path(str(ROOT / GUNICORN_CONFIG))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    threads = namespace.get("threads", 1)
    worker_class = namespace.get("worker_class", "sync")
    if worker_class == "sync" and threads > 1:
        worker_class = "gthread"
    return {
        "config": GUNICORN_CONFIG,
        "worker_class": worker_class,
        "workers": namespace.get("workers", 1),
        "threads": threads,
        "timeout": namespace.get("timeout", 30),
        "keepalive": namespace.get("keepalive", 2),
        "max_requests": namespace.get("max_requests", 0),
        "preload_app": namespace.get("preload_app", False),
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of gunicorn's master and its workers."""
    import psutil

    total = 0.0
    master = psutil.Process(pid)
    for process in [master, *master.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _settled_cpu(pid: int, workers: int, seconds: float = 60) -> float:
    """gunicorn's CPU time once every worker has booted and imported the app (a few
    seconds of CPU each, which is not the load's)."""
    import psutil

    deadline = time.monotonic() + seconds
    before = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_seconds(pid)
        booted = len(psutil.Process(pid).children()) >= workers
        if booted and now - before < 0.05:
            return now
        before = now
    return before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument(
        "--workers", type=int, help="gunicorn processes (default: the config file's)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per process (default: the config file's)"
    )
    parser.add_argument(
        "--worker-class", help="sync or gthread (default: the config file's)"
    )
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--cache-url",
        help="The page cache, e.g. redis://127.0.0.1:6380/5 as in docker-compose.yml "
        "(default: LocMem, one cache per gunicorn process)",
    )
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Use the database a --keep run left (no reseeding); implies --keep.",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="Before the load, time every kind once cold and once warm in one process "
        "(CPU ms: holds on a busy machine). --duration 0: the probe alone.",
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reuse:
        args.keep = True

    if args.stage == "prepare":
        print(json.dumps(stage_prepare(args.scale, args.users, args.reuse)))
        return
    if args.stage == "locust":
        print(json.dumps(stage_locust(args.config)))
        return
    if args.stage == "probe":
        print(json.dumps(stage_probe(args.config)))
        return

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    port = args.port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CELERY_", "GUNICORN_", "CACHE_URL", "REDIS_URL"))
            and k != "WEB_CONCURRENCY"
        },
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DATABASE_URL": f"{args.server}/{DATABASE}",
        "CONN_MAX_AGE": "60",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(work / "static"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "CSP_ENABLED": os.environ.get("CSP_ENABLED", "true"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    if args.cache_url:
        env["CACHE_URL"] = args.cache_url
    for name, value in (
        ("WEB_CONCURRENCY", args.workers),
        ("GUNICORN_THREADS", args.threads),
        ("GUNICORN_WORKER_CLASS", args.worker_class),
    ):
        if value is not None:
            env[name] = str(value)
    gunicorn = None
    try:
        if args.reuse:
            if not _database_exists(args.server):
                sys.exit(f"--reuse: no database {DATABASE}; run once with --keep first")
        else:
            admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            admin_sql(args.server, f"CREATE DATABASE {DATABASE}")
        # Production serves hashed static files from a manifest: collect them first.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        print(
            f"{'Reusing' if args.reuse else 'Preparing'} {DATABASE} at {args.scale} x "
            "the seed scale ...",
            flush=True,
        )
        prepared = _run_stage(
            "prepare",
            env,
            "--scale",
            str(args.scale),
            "--users",
            str(args.users),
            *(["--reuse"] if args.reuse else []),
            timeout=3600,
        )
        config = work / "locust.json"
        config.write_text(
            json.dumps(
                {
                    "base_url": base_url,
                    "users": args.users,
                    "spawn_rate": args.spawn_rate,
                    "duration": args.duration,
                    "sessions": prepared["sessions"],
                    "session_cookie": prepared["session_cookie"],
                    "endpoints": prepared["endpoints"],
                }
            )
        )
        if args.probe:
            print("Probing each kind in one process ...", flush=True)
            probed = _run_stage("probe", env, "--config", str(config), timeout=1800)
            _report_probe(probed)
        if args.duration <= 0:
            return
        log_path = work / "gunicorn.log"
        with log_path.open("w") as log:
            gunicorn = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")),
                 "commissioning.wsgi:application",
                 "--config", GUNICORN_CONFIG],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_until_alive(base_url, gunicorn)
        settled = _settled_cpu(gunicorn.pid, gunicorn_settings(env)["workers"])
        print(
            f"Loading {base_url} with {args.users} users for {args.duration} s ...",
            flush=True,
        )
        result = _run_stage(
            "locust", env, "--config", str(config), timeout=args.duration + 300
        )
        result["server_cpu"] = _cpu_seconds(gunicorn.pid) - settled
        _report(args, prepared, result, log_path, gunicorn_settings(env))
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        if args.keep:
            print(f"Kept: database {DATABASE}, server log {work / 'gunicorn.log'}")
            print("Run again without reseeding: add --reuse.")
        else:
            admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            shutil.rmtree(work, ignore_errors=True)


def _report_probe(probed: dict) -> None:
    print()
    print(
        "In one process, no load (ms of this process's CPU per request; first: every "
        "URL of the kind with empty caches; again: the same URLs at once after)"
    )
    header = (
        f"{'kind':<26} {'urls':>4} {'first':>6} {'q':>3} {'again':>6} {'q':>3} "
        f"{'wall':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, row in sorted(probed.items(), key=lambda item: -item[1]["again_cpu"]):
        print(
            f"{name:<26} {row['urls']:>4} {row['first_cpu']:>6.1f} "
            f"{row['first_queries']:>3} {row['again_cpu']:>6.1f} "
            f"{row['again_queries']:>3} {row['again_wall']:>6.1f}"
        )
    total = sum(weight(name) for name in probed)
    mean = sum(weight(n) * r["again_cpu"] for n, r in probed.items()) / total
    cores = os.cpu_count() or 1
    print(
        f"The load's mix costs {mean:.1f} ms of CPU a request once warm: at most "
        f"~{cores * 1000 / mean:.0f} requests/s on {cores} CPUs for Django alone "
        "(PostgreSQL, gunicorn and locust share them; 50 users offer ~50/s)."
    )
    print()


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _server_times(log_path: Path, endpoints: dict) -> tuple[dict, int, list[str]]:
    """From the app's JSON access log: the time Django spent on each kind of request
    (after gunicorn handed it over: the gap to locust's figure is queueing and the
    network), the number of ERROR lines, and what gunicorn said about its workers."""
    kind_of = {
        path.split("?")[0]: name for name, paths in endpoints.items() for path in paths
    }
    durations: dict[str, list[float]] = {}
    errors = 0
    gunicorn_lines = []
    for line in log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if "Using worker" in line or "Booting worker" in line:
                gunicorn_lines.append(line.split("] ", 2)[-1])
            continue
        if not isinstance(entry, dict):
            continue
        if entry.get("level") == "ERROR":
            errors += 1
        kind = kind_of.get(entry.get("path", ""))
        if kind and "duration_ms" in entry:
            durations.setdefault(kind, []).append(float(entry["duration_ms"]))
    return durations, errors, gunicorn_lines


def _report(args, prepared: dict, result: dict, log_path: Path, server: dict) -> None:
    total = result["total"]
    counts = ", ".join(f"{v:,} {k}" for k, v in prepared["counts"].items())
    print()
    loaded = (
        "reused, not reloaded"
        if args.reuse
        else f"loaded in {prepared['load_seconds']} s"
    )
    print(f"Data ({args.scale} x the seed, {loaded}): {counts}")
    exercised = ", ".join(sorted(prepared["endpoints"])) or "nothing"
    print(f"Exercised: {exercised}")
    if prepared["missing"]:
        absent = ", ".join(f"{k} ({v})" for k, v in prepared["missing"].items())
        print(f"Not exercised (no candidate answered 200): {absent}")
    durations, server_errors, gunicorn_lines = _server_times(
        log_path, prepared["endpoints"]
    )
    booted = sum(1 for line in gunicorn_lines if "Booting worker" in line)
    cache = f"cache {args.cache_url}" if args.cache_url else "LocMem cache per process"
    print(
        f"gunicorn ({server['config']}): {server['worker_class']}, "
        f"{server['workers']} processes x {server['threads']} threads "
        f"({booted} workers booted), timeout {server['timeout']} s, keepalive "
        f"{server['keepalive']} s, max_requests {server['max_requests']}, preload "
        f"{'on' if server['preload_app'] else 'off'}; production settings, "
        f"{cache}, PostgreSQL on loopback, {os.cpu_count()} CPUs; "
        f"{args.users} users, {args.duration} s"
    )
    print()
    print(
        "Per kind, slowest p95 first (ms; client: as locust saw it, queueing "
        "included; server: inside Django)"
    )
    header = (
        f"{'kind':<26} {'reqs':>5} {'errs':>4} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'max':>6} | {'srv p50':>7} {'srv p95':>7}"
    )
    print(header)
    print("-" * len(header))
    rows = sorted(result["by_name"].items(), key=lambda item: -item[1]["p95"])
    for name, row in rows:
        own = durations.get(name, [])
        print(
            f"{name:<26} {row['requests']:>5} {row['failures']:>4} "
            f"{row['p50']:>6.0f} {row['p95']:>6.0f} {row['p99']:>6.0f} "
            f"{row['max']:>6.0f} | {_percentile(own, 0.5):>7.0f} "
            f"{_percentile(own, 0.95):>7.0f}"
        )
    everything = [d for own in durations.values() for d in own]
    print("-" * len(header))
    print(
        f"{'all':<26} {total['requests']:>5} {total['failures']:>4} "
        f"{total['p50']:>6.0f} {total['p95']:>6.0f} {total['p99']:>6.0f} "
        f"{total['max']:>6.0f} | {_percentile(everything, 0.5):>7.0f} "
        f"{_percentile(everything, 0.95):>7.0f}"
    )
    print()
    for error in result["errors"][:10]:
        print(f"error: {error['name']}: {error['error']} x{error['occurrences']}")
    met_latency = total["p95"] < GOAL_P95_MS
    met_errors = total["failures"] == 0 and total["requests"] > 0
    print(
        f"Throughput {total['rps']:.1f} requests/s. p50 {total['p50']:.0f} ms, "
        f"p95 {total['p95']:.0f} ms, p99 {total['p99']:.0f} ms, errors "
        f"{total['failures']} of {total['requests']}."
    )
    print(
        f"Goal: p95 < {GOAL_P95_MS} ms: {'met' if met_latency else 'MISSED'}; "
        f"no errors: {'met' if met_errors else 'MISSED'}."
    )
    print(f"Server log: {server_errors} ERROR lines.")
    served = max(total["requests"], 1)
    print(
        f"CPU during the load: gunicorn {result['server_cpu']:.1f} s "
        f"({result['server_cpu'] * 1000 / served:.1f} ms a request), locust "
        f"{result['locust_cpu']:.1f} s, of {args.duration * (os.cpu_count() or 1)} s "
        f"on {os.cpu_count()} CPUs; the load average was {os.getloadavg()[0]:.1f} "
        "(above the CPU count: other work shares them, and the latencies are "
        "inflated)."
    )


if __name__ == "__main__":
    main()
