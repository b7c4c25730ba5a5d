"""A real Celery worker, against Redis and the test database, runs the project's tasks."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from strategies.models import CommissioningSystem
from strategies.tasks import system_slugs

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


@pytest.fixture
def worker(transactional_db):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_RESULT_BACKEND": os.environ["CELERY_BROKER_URL"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "commissioning", "worker", "--pool=solo",
         "--concurrency=1", "--loglevel=warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_against_the_database(worker, settings):
    CommissioningSystem.objects.create(slug="worker-check", name="Worker check")
    from commissioning.celery import app

    app.conf.task_always_eager = False
    app.conf.result_backend = os.environ["CELERY_BROKER_URL"]
    # Celery caches the backend per thread; earlier in-process tasks may have cached the
    # disabled one, which the configuration change above does not replace.
    app._local.__dict__.pop("backend", None)
    try:
        result = system_slugs.delay()
        deadline = time.monotonic() + 60
        while not result.ready() and time.monotonic() < deadline:
            time.sleep(0.2)
        slugs = result.get(timeout=1)
    finally:
        app.conf.task_always_eager = True

    assert "worker-check" in slugs


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_committed_return_changes_the_flags_through_a_real_worker(worker):
    """Issue 4's end-to-end check: a return commits, the outbox is announced to a real
    worker over Redis, and the worker's recompute changes the series' flags."""
    from commissioning.celery import app
    from indicators import services
    from scorecard.models import ExceptionFlag, SeriesResult
    from scorecard.seed.loader import load_seed_data

    load_seed_data(with_demo=True)  # transactional tests start from a flushed database
    plymouth = CommissioningSystem.objects.get(slug="plymouth")
    before = SeriesResult.objects.get(indicator__key="rtt-18-weeks-incomplete")
    assert before.latest_period.label == "Aug-17"
    assert (
        ExceptionFlag.objects.filter(
            indicator__key="rtt-18-weeks-incomplete", rule="rag_red", cleared_at=None
        ).count()
        == 0
    )
    # 82.2% in September 2017 against the 85.8% trajectory (002): red at a 2% tolerance.
    rtt = before.indicator
    rtt.amber_tolerance = 2
    rtt.save(update_fields=["amber_tolerance"])
    data = (
        b"Indicator,Area,Period,Value,Numerator,Denominator,Lower CI,Upper CI,Note\n"
        b"rtt-18-weeks-incomplete,RK9,Sep-17,82.2,,,,,\n"
    )

    app.conf.task_always_eager = False
    try:
        services.return_commit(
            data=data,
            file_name="rtt-sep-17.csv",
            system=plymouth,
            options=services.ImportOptions(),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = SeriesResult.objects.get(pk=before.pk)
            if after.latest_period_id != before.latest_period_id:
                break
            time.sleep(0.3)
    finally:
        app.conf.task_always_eager = True

    assert after.latest_period.label == "Sep-17"
    assert after.latest_value == pytest.approx(82.2)
    assert after.rag_reason == "Red: 82.2% against a target of 85.8%, higher is better"
    assert ExceptionFlag.objects.filter(
        indicator__key="rtt-18-weeks-incomplete", rule="rag_red", cleared_at=None
    ).exists()
