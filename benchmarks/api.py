"""Benchmark: the scorecard API under load (issue 7, "Speed"). Not a test.

Creates a PostgreSQL database (`bench_api` on postgres://postgres@127.0.0.1:5432 unless
--server says otherwise), migrates it, loads the seed with its demo history and scales it
to ten times the seed (every indicator copied nine times, with its values and its places
in the strategies), recomputes every flag, then serves the app with gunicorn (2 workers)
on loopback and drives, for a bounded time each, with the same read token:

1. a trivial DRF endpoint (GET /api/v1/ping/: the same middleware, authentication,
   permission check, throttle and JSON rendering as every API view);
2. the scorecard endpoint (GET /api/v1/scorecard/plymouth/<strategy>/), the strategy
   with the most indicators (its cached answer: both are warmed first);

taking turns (--rounds slices each, so that other load on the machine falls on both
alike), printing requests per second and p50/p95 latency of each with the load average,
and drops the database (unless --keep). The server's cache is the app's default
(in-process) unless --cache-url says otherwise, and CONN_MAX_AGE production's 60. Goal: the scorecard at least half the trivial endpoint's throughput, p95 under
50 ms. Run from the project root:

    .venv/bin/python benchmarks/api.py [--scale 10] [--seconds 15] [--clients 4]

While developing, `--keep` once and then `--reuse` skips the (slow) preparation: the kept
database is served again with a fresh token.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

# benchmarks/seed_scale.py, beside this script
from seed_scale import (
    admin_sql,
    copy_seed_indicators,
)

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench_api"
STAGE_TIMEOUT = 1800
GOAL_RATIO = 0.5
GOAL_P95_MS = 50


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def stage_prepare(scale: int) -> dict:
    """Migrate, load the seed with demo history, copy every indicator to `scale` times
    the seed, recompute, and make a viewer with a read token."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from commissioning.api.auth import api_token_create
    from indicators.models import Indicator, Observation
    from scorecard.seed.loader import load_seed_data
    from scorecard.services.recompute import recompute
    from strategies.models import CommissioningSystem, SystemRole

    started = time.monotonic()
    load_seed_data(with_demo=True)
    copy_seed_indicators(scale)
    recompute()
    plymouth = CommissioningSystem.objects.get(slug="plymouth")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench", password=None)
    SystemRole.objects.create(system=plymouth, user=user, role=SystemRole.Role.VIEWER)
    _row, token = api_token_create(user=user, name="bench")
    from django.db.models import Count

    strategy = (
        plymouth.strategies.annotate(n=Count("assignments")).order_by("-n").first()
    )
    return {
        "seconds": time.monotonic() - started,
        "indicators": Indicator.objects.count(),
        "values": Observation.objects.count(),
        "rows": strategy.n,
        "strategy": strategy.slug,
        "token": token,
    }


def stage_token() -> dict:
    """On a kept database: a fresh read token for the benchmark's user, and the strategy."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from commissioning.api.auth import api_token_create
    from indicators.models import Indicator, Observation
    from strategies.models import CommissioningSystem

    user = get_user_model().objects.get(username="bench")
    _row, token = api_token_create(user=user, name="bench")
    plymouth = CommissioningSystem.objects.get(slug="plymouth")
    strategy = (
        plymouth.strategies.annotate(n=Count("assignments")).order_by("-n").first()
    )
    return {
        "seconds": 0.0,
        "indicators": Indicator.objects.count(),
        "values": Observation.objects.count(),
        "rows": strategy.n,
        "strategy": strategy.slug,
        "token": token,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, token: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            status, _ = _get(http.client.HTTPConnection("127.0.0.1", port, timeout=5),
                             "/api/v1/ping/", token)  # fmt: skip
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("The server did not start.")


def _get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    return response.status, response.read()


def drive(port: int, path: str, token: str, seconds: float, clients: int) -> dict:
    """`clients` keep-alive connections, each sending one request after another."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                status, _body = _get(conn, path, token)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            elapsed = time.perf_counter() - t0
            if status == 200:
                mine.append(elapsed)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "latencies": latencies,
        "errors": errors[0],
        "wall": time.monotonic() - started,
    }


def summary(runs: list[dict]) -> dict:
    """Requests per second and latency percentiles over several slices of driving."""
    latencies = sorted(x for r in runs for x in r["latencies"])
    wall = sum(r["wall"] for r in runs)
    count = len(latencies)
    return {
        "requests": count,
        "errors": sum(r["errors"] for r in runs),
        "rps": count / wall if wall else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if count else None,
        "p95_ms": 1000 * latencies[max(0, int(0.95 * count) - 1)] if count else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=3, help="Turns the endpoints take (default 3)."
    )
    parser.add_argument(
        "--cache-url",
        default="",
        help="The server's CACHE_URL (e.g. redis://127.0.0.1:6379/12); default: the "
        "environment's CACHE_URL or REDIS_URL, else the app's in-process cache.",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="The server's CONN_MAX_AGE (default 60, production's default; 0 opens a "
        "new database connection per request, as behind PgBouncer).",
    )
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    parser.add_argument(
        "--reuse", action="store_true", help="Serve a kept database (implies --keep)."
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage == "prepare":
        _setup_django(args.url)
        print(json.dumps(stage_prepare(args.scale)))
        return
    if args.stage == "token":
        _setup_django(args.url)
        print(json.dumps(stage_token()))
        return

    signal.signal(signal.SIGTERM, lambda *_: sys.exit("Stopped."))
    url = f"{args.server}/{DATABASE}"
    cache_url = (
        args.cache_url or os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")
    )
    keep = args.keep or args.reuse
    if not args.reuse:
        admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin_sql(args.server, f"CREATE DATABASE {DATABASE}")
    server = None
    try:
        if args.reuse:
            print(f"Database {DATABASE}: reusing the kept data...", flush=True)
        else:
            print(
                f"Database {DATABASE}: loading the seed at {args.scale}x...", flush=True
            )
        stage = "token" if args.reuse else "prepare"
        done = subprocess.run(
            [sys.executable, __file__, "--stage", stage, "--url", url,
             "--scale", str(args.scale)],
            cwd=ROOT, capture_output=True, text=True, timeout=STAGE_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit("Preparing the data failed.")
        data = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{data['indicators']:,} indicators, {data['values']:,} values; strategy "
            f"'{data['strategy']}' has {data['rows']} rows ({data['seconds']:.0f} s).",
            flush=True,
        )
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "commissioning.settings",
            "API_RATE": "100000000/min",  # measure the endpoints, not the throttle
            "LOG_LEVEL": "WARNING",
            "CACHE_URL": cache_url,
        }
        if args.conn_max_age is not None:
            env["CONN_MAX_AGE"] = str(args.conn_max_age)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "commissioning.wsgi:application",
             "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        _wait_for(port, data["token"], time.monotonic() + 60)
        scorecard = f"/api/v1/scorecard/plymouth/{data['strategy']}/"
        endpoints = {
            "trivial (/api/v1/ping/)": "/api/v1/ping/",
            f"scorecard ({scorecard})": scorecard,
        }
        for path in endpoints.values():  # warm both (imports, caches)
            drive(port, path, data["token"], min(3.0, args.seconds), args.clients)
        # The endpoints take turns, in slices, so that a change in the machine's load
        # (other processes) falls on both alike and their ratio stays comparable.
        rounds = max(1, args.rounds)
        runs: dict[str, list[dict]] = {name: [] for name in endpoints}
        load_before = os.getloadavg()[0]
        for _ in range(rounds):
            for name, path in endpoints.items():
                runs[name].append(
                    drive(
                        port, path, data["token"], args.seconds / rounds, args.clients
                    )
                )
        load_after = os.getloadavg()[0]
        results = {name: summary(r) for name, r in runs.items()}
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not keep:
            admin_sql(args.server, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    print(
        f"\ngunicorn, 2 workers, {args.clients} keep-alive clients, {args.seconds:.0f} s "
        f"each in {rounds} turns; cache: {cache_url or 'in-process'}; CONN_MAX_AGE "
        f"{env.get('CONN_MAX_AGE', '0')}; "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    print(f"{'endpoint':55} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for name, r in results.items():
        print(
            f"{name:55} {r['rps']:8.1f} {r['p50_ms'] or 0:8.1f} {r['p95_ms'] or 0:8.1f} "
            f"{r['errors']:7d}"
        )
    trivial, board = results.values()
    ratio = board["rps"] / trivial["rps"] if trivial["rps"] else 0.0
    print(
        f"\nScorecard throughput is {ratio:.0%} of the trivial endpoint's "
        f"(goal >= {GOAL_RATIO:.0%}): {'met' if ratio >= GOAL_RATIO else 'NOT met'}; "
        f"p95 {board['p95_ms'] or 0:.1f} ms (goal < {GOAL_P95_MS} ms): "
        f"{'met' if (board['p95_ms'] or 1e9) < GOAL_P95_MS else 'NOT met'}."
    )


if __name__ == "__main__":
    main()
