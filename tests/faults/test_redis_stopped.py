"""Fault 1: Redis (the broker and the page cache) stops.

Pages and the API keep answering (the cache is treated as empty); an analyst's upload is
still checked and committed (sending its task fails, so the web process runs it); the
return's recomputation is not lost: it waits in the outbox (RecomputeRequest, in
PostgreSQL) and runs, once, when Redis is back and the periodic sweep is sent.

The test's Redis is its own (on a free port), never the shared one."""

import logging
import threading
from pathlib import Path

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from commissioning import cache_backends
from commissioning.api.auth import api_token_create
from commissioning.celery import app
from indicators.models import ImportJob, Observation, RecomputeRequest
from scorecard.models import RecomputeRun, SeriesResult
from scorecard.seed.loader import load_seed_data
from strategies.models import CommissioningSystem, Strategy, SystemRole
from tests.conftest import make_user
from tests.faults.helpers import celery_broker, wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


@pytest.fixture
def site(settings, own_redis, monkeypatch):
    """The seed, and this process using the test's Redis as broker and cache, with
    upload jobs sent to Celery (as in production)."""
    load_seed_data(with_demo=True)  # transactional tests start from an empty database
    monkeypatch.setattr(cache_backends, "_down_until", {})
    monkeypatch.setattr(cache_backends, "_warned_at", {})
    settings.CACHES = {
        "default": {
            "BACKEND": "commissioning.cache_backends.ResilientRedisCache",
            "LOCATION": own_redis.url(1),
            "KEY_PREFIX": "ics",
        }
    }
    settings.CELERY_BROKER_URL = own_redis.url(0)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.RETURNS_TASK_MODE = "celery"
    with celery_broker(own_redis.url(0)):
        yield own_redis


def _reads(client, api, strategy) -> list[int]:
    return [
        client.get("/scorecard/plymouth/").status_code,
        client.get(f"/scorecard/plymouth/{strategy}/").status_code,
        api.get(f"/api/v1/scorecard/plymouth/{strategy}/").status_code,
    ]


def _settled(job: ImportJob) -> ImportJob | None:
    job.refresh_from_db()
    return None if job.status in ImportJob.RUNNING else job


def _join_job_threads() -> None:
    """The jobs' threads (started when the broker was unreachable) end before the test's
    database is emptied."""
    for thread in threading.enumerate():
        if thread.name.startswith("indicators.tasks."):
            thread.join(timeout=30)


def test_with_redis_stopped_the_site_serves_and_the_recompute_waits_for_it(
    site, client, processes, caplog
):
    caplog.set_level(logging.WARNING)
    plymouth = CommissioningSystem.objects.get(slug="plymouth")
    viewer = make_user("viewer", system=plymouth, role=SystemRole.Role.VIEWER)
    analyst = make_user("analyst", system=plymouth, role=SystemRole.Role.ANALYST)
    strategy = Strategy.objects.filter(system=plymouth).order_by("pk").first().slug
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=viewer, name='f')[1]}"
    )
    client.force_login(viewer)

    assert _reads(client, api, strategy) == [200, 200, 200]
    cache_db = redis.Redis(port=site.port, db=1)
    assert cache_db.dbsize() > 0  # the pages really were cached in this Redis
    cache_db.close()

    site.stop()

    # Pages and the API, with neither broker nor cache.
    assert _reads(client, api, strategy) == [200, 200, 200]
    assert "The cache (Redis) is unreachable" in caplog.text

    # An analyst uploads a return and commits it, as on the returns pages.
    client.force_login(analyst)
    response = client.post(
        "/returns/upload/",
        {
            "system": plymouth.pk,
            "file": SimpleUploadedFile(
                "clean-long.csv", (EXAMPLES / "clean-long.csv").read_bytes()
            ),
            "file_format": "auto",
        },
    )
    assert response.status_code == 302, response.content
    job = ImportJob.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))
    job = wait_for(lambda: _settled(job), timeout=60, what="the upload to be checked")
    assert job.status == ImportJob.Status.READY, job.status
    response = client.post(
        f"/returns/uploads/{job.pk}/commit/", {"fingerprint": job.fingerprint}
    )
    assert response.status_code == 302
    job = wait_for(lambda: _settled(job), timeout=60, what="the commit")
    assert job.status == ImportJob.Status.COMMITTED, job.status
    _join_job_threads()
    for task in ("validate_import_job", "commit_import_job"):
        assert f"running indicators.tasks.{task} in the web process" in caplog.text

    the_return = job.committed_return
    queued = RecomputeRequest.objects.filter(source_return=the_return)
    series = set(queued.values_list("indicator_id", "area_id", "breakdown"))
    assert series
    assert not queued.filter(processed_at__isnull=False).exists()
    assert not RecomputeRun.objects.filter(kind=RecomputeRun.Kind.QUEUED).exists()

    # Redis comes back (empty: whatever it held is gone), with a worker.
    site.start()
    processes.worker(site.url(0), cache_url=site.url(1))
    app.send_task("scorecard.recompute_queued", ignore_result=True)  # as beat does

    def recomputed() -> RecomputeRun | None:
        if queued.filter(processed_at__isnull=True).exists():
            return None
        return RecomputeRun.objects.filter(
            kind=RecomputeRun.Kind.QUEUED, finished_at__isnull=False
        ).first()

    run = wait_for(recomputed, timeout=60, interval=0.2, what="the queued recompute")
    assert run.status == RecomputeRun.Status.SUCCEEDED
    assert RecomputeRun.objects.filter(kind=RecomputeRun.Kind.QUEUED).count() == 1
    assert run.series_count == len(series)
    for indicator_id, area_id, breakdown in series:
        result = SeriesResult.objects.get(
            indicator_id=indicator_id, area_id=area_id, breakdown=breakdown
        )
        latest = (
            Observation.objects.filter(
                indicator_id=indicator_id,
                area_id=area_id,
                breakdown=breakdown,
                is_current=True,
                value__isnull=False,
            )
            .order_by("-period__start")
            .first()
        )
        assert result.run_id == run.pk
        assert result.latest_period_id == latest.period_id
        assert result.latest_value == pytest.approx(latest.value)
    client.force_login(viewer)
    assert _reads(client, api, strategy) == [200, 200, 200]
