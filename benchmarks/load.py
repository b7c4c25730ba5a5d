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
goal (p95 under 300 ms, no errors). Drops the database unless --keep.

    .venv/bin/python benchmarks/load.py [--users 50] [--duration 60] [--scale 10]

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
SEED = 20171023
PAGE_SAMPLES = 12  # concrete URLs kept per kind of page (spread over the systems)


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


def stage_prepare(scale: int, users: int) -> dict:
    """Migrate, load the scaled seed, make the users and their sessions, find the URLs."""
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
    with tempfile.TemporaryDirectory() as folder:
        load_seed_data(root=_scaled_fixtures(scale, Path(folder)), with_demo=True)
    loaded = time.monotonic() - started

    systems = list(CommissioningSystem.objects.order_by("slug"))
    engine = import_module(settings.SESSION_ENGINE)
    sessions = []
    for number in range(users):
        user = get_user_model().objects.create_user(
            username=f"bench-reader-{number}", password=secrets.token_urlsafe(24)
        )
        SystemRole.objects.bulk_create(
            [SystemRole(system=s, user=user, role="viewer") for s in systems]
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


def stage_locust(config_path: str) -> dict:
    """Locust as a library (it patches the process with gevent: hence its own process)."""
    import gevent
    from locust import HttpUser, between, events, task
    from locust.env import Environment

    config = json.loads(Path(config_path).read_text())
    endpoints = config["endpoints"]
    # Pages and API reads in the proportion a working day has them: mostly pages.
    weighted = [
        (name, paths, 3 if name.startswith("page") else 2)
        for name, paths in endpoints.items()
    ]
    names = [name for name, _, weight in weighted for _ in range(weight)]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per process")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage == "prepare":
        print(json.dumps(stage_prepare(args.scale, args.users)))
        return
    if args.stage == "locust":
        print(json.dumps(stage_locust(args.config)))
        return

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CELERY_")},
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
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
    }
    gunicorn = None
    try:
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
        print(f"Preparing {DATABASE} at {args.scale} x the seed scale ...", flush=True)
        prepared = _run_stage(
            "prepare",
            env,
            "--scale",
            str(args.scale),
            "--users",
            str(args.users),
            timeout=3600,
        )
        log_path = work / "gunicorn.log"
        with log_path.open("w") as log:
            gunicorn = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")),
                 "commissioning.wsgi:application",
                 "--config", "commissioning/gunicorn.conf.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_until_alive(base_url, gunicorn)
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
        print(
            f"Loading {base_url} with {args.users} users for {args.duration} s ...",
            flush=True,
        )
        result = _run_stage(
            "locust", env, "--config", str(config), timeout=args.duration + 300
        )
        _report(args, prepared, result, log_path)
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        if not args.keep:
            admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        if args.keep:
            print(f"Kept: database {DATABASE}, server log {work / 'gunicorn.log'}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _report(args, prepared: dict, result: dict, log_path: Path) -> None:
    total = result["total"]
    counts = ", ".join(f"{v:,} {k}" for k, v in prepared["counts"].items())
    print()
    print(
        f"Data ({args.scale} x the seed, loaded in {prepared['load_seconds']} s): {counts}"
    )
    exercised = ", ".join(sorted(prepared["endpoints"])) or "nothing"
    print(f"Exercised: {exercised}")
    if prepared["missing"]:
        absent = ", ".join(f"{k} ({v})" for k, v in prepared["missing"].items())
        print(f"Not exercised (no candidate answered 200): {absent}")
    print(
        f"gunicorn: {args.workers} processes x {args.threads} threads, production "
        f"settings, PostgreSQL on loopback; {args.users} users, {args.duration} s"
    )
    print()
    print(f"{'endpoint':<28} {'reqs':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6}")
    for name, row in sorted(result["by_name"].items()):
        print(
            f"{name:<28} {row['requests']:>6} {row['failures']:>5} "
            f"{row['p50']:>6.0f} {row['p95']:>6.0f} {row['p99']:>6.0f}"
        )
    print(
        f"{'all':<28} {total['requests']:>6} {total['failures']:>5} "
        f"{total['p50']:>6.0f} {total['p95']:>6.0f} {total['p99']:>6.0f}   (ms)"
    )
    print()
    for error in result["errors"][:10]:
        print(f"error: {error['name']}: {error['error']} x{error['occurrences']}")
    met_latency = total["p95"] < GOAL_P95_MS
    met_errors = total["failures"] == 0 and total["requests"] > 0
    print(
        f"Throughput {total['rps']:.1f} requests/s. Goal: p95 < {GOAL_P95_MS} ms: "
        f"{'met' if met_latency else 'MISSED'} ({total['p95']:.0f} ms); no errors: "
        f"{'met' if met_errors else 'MISSED'} ({total['failures']} of "
        f"{total['requests']})."
    )
    server_errors = sum(
        1 for line in log_path.read_text().splitlines() if '"level": "ERROR"' in line
    )
    print(f"Server log: {server_errors} ERROR lines.")


if __name__ == "__main__":
    main()
