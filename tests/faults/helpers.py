"""What the fault tests share: a Redis server of their own (which they may stop), Celery
workers and a web server in processes of their own (which they may kill), and the
in-process Celery app pointed at a given broker.

The shared Redis on 6379 is never stopped: a test that stops Redis starts its own on a
free port in 6391-6399. The fixtures (conftest.py) stop every process when the test ends."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from kombu import pools as kombu_pools

ROOT = Path(__file__).resolve().parents[2]
REDIS_PORTS = range(6391, 6400)
WEB_PORTS = range(8131, 8140)


def free_port(ports: range) -> int:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {ports.start}-{ports.stop - 1}")


def wait_for(condition, *, timeout: float, interval: float = 0.1, what: str):
    """Poll `condition()` until it returns something true; that value, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def database_url() -> str:
    """The test database, as a URL other processes can use."""
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def stop_process(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """Stop a process this module started (and its children, which share its
    process group): SIGTERM, then SIGKILL if it does not go."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL: no clean-up, no acknowledgement, as when a machine loses a worker."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class RedisServer:
    """A redis-server of the test's own, without persistence (a restart is empty)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        executable = shutil.which("redis-server") or "redis-server"
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [executable, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:

            def answers() -> bool:
                if self.process.poll() is not None:
                    pytest.fail(f"redis-server on port {self.port} exited")
                try:
                    return bool(client.ping())
                except redis.exceptions.ConnectionError:
                    return False

            wait_for(answers, timeout=15, what=f"redis-server on port {self.port}")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def have_redis_server() -> bool:
    return shutil.which("redis-server") is not None


class Processes:
    """Processes a test starts; whatever is still running at its end is stopped."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def worker(
        self, broker_url: str, *, cache_url: str = "", **env: str
    ) -> subprocess.Popen:
        """A Celery worker (solo pool: the task runs in the worker's own process)
        consuming every queue, against the test database."""
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": "",
            "CACHE_URL": cache_url,
            "REDIS_URL": "",
            **env,
        }
        name = f"faults-{len(self.started)}-{os.getpid()}@%h"
        return self._start(
            [sys.executable, "-m", "celery", "-A", "tests.faults.worker_app", "worker",
             "--pool=solo", "--concurrency=1", "--loglevel=warning", "-n", name,
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            environment,
        )  # fmt: skip

    def web(self, port: int, **env: str) -> subprocess.Popen:
        """gunicorn with the production configuration file, one worker and one thread,
        against the test database."""
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "1",
            "CELERY_BROKER_URL": "",
            "CELERY_RESULT_BACKEND": "",
            "CACHE_URL": "",
            "REDIS_URL": "",
            **env,
        }
        return self._start(
            [sys.executable, "-m", "gunicorn", "commissioning.wsgi:application",
             "--config", "commissioning/gunicorn.conf.py"],
            environment,
        )  # fmt: skip

    def _start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
            args, cwd=ROOT, env=env, start_new_session=True
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            stop_process(process)


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at `url`, sending for real (not eagerly).
    Celery reads CELERY_BROKER_URL from the environment before its configuration."""
    from commissioning.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    saved_environment = os.environ.get("CELERY_BROKER_URL")

    def reset_pools() -> None:
        """Close every broker connection (none outlives the test) and forget them."""
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        kombu_pools.reset()

    reset_pools()
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        reset_pools()
        app.conf.broker_url, app.conf.task_always_eager = saved
        if saved_environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_environment


def monthly_percentage_indicator(slug: str, title: str):
    """A system of the test's own with one monthly percentage indicator (higher is
    better), keyed `slug` like the system."""
    from indicators.models import Indicator
    from strategies.models import CommissioningSystem

    system = CommissioningSystem.objects.create(
        slug=slug, name=title, short_name="Faults"
    )
    return Indicator.objects.create(
        system=system,
        key=slug,
        title=title,
        source_framework="LOCAL",
        measure_type="percentage",
        unit="%",
        polarity="higher_is_better",
        period_type="month",
    )
