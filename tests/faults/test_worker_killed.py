"""Fault 2: the worker running a recomputation is killed (SIGKILL) halfway through.

Readers never see a series whose flags disagree with its result (each chunk's results
and flags land in one transaction); the task, acknowledged only when it finishes, is
delivered again to the next worker and completes; every series then has a result.

The check a partial write would break: for every series, its result is Red exactly when
it has an open "Red against target" flag, with the result's reason. The test's series
have no result and no flag before the run, and about half of them come out Red."""

from dataclasses import dataclass

import pytest
from django.db import connection

from commissioning.celery import app
from indicators.models import (
    Area,
    Indicator,
    Observation,
    Period,
    RecomputeRequest,
    Return,
    Target,
)
from indicators.periods import month_period
from scorecard.models import ExceptionFlag, RecomputeRun, SeriesResult
from tests.faults.helpers import (
    celery_broker,
    kill_process_group,
    monthly_percentage_indicator,
    wait_for,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

# Four chunks (the test's workers write 1,000 series per transaction): the worker is
# killed once the first has landed, before the last.
CHUNK = 1000
SERIES = 4 * CHUNK
POINTS = 12
WORKER_ENV = {"FAULTS_VISIBILITY_TIMEOUT": "8", "FAULTS_BATCH_SERIES": str(CHUNK)}


@pytest.fixture
def queued_series() -> Indicator:
    """SERIES series of POINTS monthly values around a 50% target, all queued for
    recomputation (as a committed return leaves them), none computed yet."""
    indicator = monthly_percentage_indicator(
        "faults-killed", "Recomputed while a worker dies"
    )
    system = indicator.system
    Target.objects.create(indicator=indicator, kind="absolute", value=50)
    Area.objects.bulk_create(
        [
            Area(code=f"F{i:08d}", name=f"Faults area {i}", kind="unitary")
            for i in range(SERIES)
        ],
        batch_size=5000,
    )
    months = [month_period(2024, m) for m in range(1, POINTS + 1)]
    periods = Period.objects.bulk_create(
        [Period(kind=s.kind, start=s.start, end=s.end, label=s.label) for s in months]
    )
    source = Return.objects.create(system=system, kind="demo", title="Faults")
    area_ids = f"SELECT id FROM {Area._meta.db_table} WHERE code LIKE 'F%%'"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.25)")
        cursor.execute(
            f"INSERT INTO {Observation._meta.db_table} (indicator_id, area_id, "  # noqa: S608 (table names from the models)
            "period_id, breakdown, value, note, is_synthetic, is_current, "
            "source_return_id, recorded_at) "
            "SELECT %s, a.id, p.id, '', round((44 + 12 * random())::numeric, 1), "
            "'', false, true, %s, now() "
            f"FROM ({area_ids}) AS a CROSS JOIN unnest(%s::bigint[]) AS p(id)",
            [indicator.pk, source.pk, [p.pk for p in periods]],
        )
        cursor.execute(
            f"INSERT INTO {RecomputeRequest._meta.db_table} (indicator_id, area_id, "  # noqa: S608 (table names from the models)
            "breakdown, source_return_id, reason, created_at) "
            f"SELECT %s, a.id, '', %s, 'commit', now() FROM ({area_ids}) AS a",
            [indicator.pk, source.pk],
        )
    return indicator


@dataclass(frozen=True)
class Snapshot:
    results: int
    red_flags: int
    red_without_flag: int
    flag_without_red: int


def snapshot(indicator: Indicator) -> Snapshot:
    """What a reader sees, in one statement (one consistent view of the database)."""
    results = SeriesResult._meta.db_table
    flags = ExceptionFlag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH r AS (SELECT area_id, breakdown, rag, rag_reason FROM {results}
                       WHERE indicator_id = %(i)s),
                 f AS (SELECT area_id, breakdown, reason FROM {flags}
                       WHERE indicator_id = %(i)s AND rule = 'rag_red'
                       AND cleared_at IS NULL)
            SELECT
              (SELECT count(*) FROM r),
              (SELECT count(*) FROM f),
              (SELECT count(*) FROM r WHERE rag = 'Red' AND NOT EXISTS (
                 SELECT 1 FROM f WHERE f.area_id = r.area_id
                 AND f.breakdown = r.breakdown AND f.reason = r.rag_reason)),
              (SELECT count(*) FROM f WHERE NOT EXISTS (
                 SELECT 1 FROM r WHERE r.area_id = f.area_id
                 AND r.breakdown = f.breakdown AND r.rag = 'Red'))
            """,  # noqa: S608 (table names from the models)
            {"i": indicator.pk},
        )
        return Snapshot(*cursor.fetchone())


def test_a_worker_killed_mid_recompute_leaves_whole_results_and_the_task_completes(
    own_redis, processes, queued_series
):
    broker = own_redis.url(0)
    first_worker = processes.worker(broker, **WORKER_ENV)
    with celery_broker(broker):
        # What the commit's announcement (and the periodic sweep) sends.
        app.send_task("scorecard.recompute_queued", ignore_result=True)

    seen: list[Snapshot] = []

    def first_chunk_landed() -> RecomputeRun | None:
        seen.append(snapshot(queued_series))
        run = RecomputeRun.objects.filter(kind=RecomputeRun.Kind.QUEUED).first()
        if run is not None and run.finished_at is not None:
            pytest.fail("The recompute finished before the worker could be killed")
        return run if seen[-1].results else None

    killed_run = wait_for(
        first_chunk_landed,
        timeout=120,
        interval=0.05,
        what="the recompute's first chunk to land",
    )
    kill_process_group(first_worker)

    halfway = snapshot(queued_series)
    assert 0 < halfway.results < SERIES
    killed_run.refresh_from_db()
    assert killed_run.finished_at is None
    assert not RecomputeRequest.objects.filter(processed_at__isnull=False).exists()

    processes.worker(broker, **WORKER_ENV)

    def completed() -> RecomputeRun | None:
        seen.append(snapshot(queued_series))
        if RecomputeRequest.objects.filter(processed_at__isnull=True).exists():
            return None
        return (
            RecomputeRun.objects.filter(
                kind=RecomputeRun.Kind.QUEUED, finished_at__isnull=False
            )
            .exclude(pk=killed_run.pk)
            .first()
        )

    run = wait_for(
        completed, timeout=120, interval=0.1, what="the redelivered recompute"
    )

    assert run.status == RecomputeRun.Status.SUCCEEDED
    assert run.series_count == SERIES
    assert f"{SERIES // CHUNK} chunk(s)" in run.detail, run.detail
    final = snapshot(queued_series)
    assert final.results == SERIES
    assert SeriesResult.objects.filter(indicator=queued_series, run=run).count() == (
        SERIES
    )
    assert 0 < final.red_flags < SERIES  # the check below is not vacuous
    # Every reader, throughout: whole series, and whole chunks.
    for view in [*seen, halfway, final]:
        assert (view.red_without_flag, view.flag_without_red) == (0, 0), view
        assert view.results % CHUNK == 0, view
    # Run once: the late copy a short visibility timeout may deliver finds nothing queued.
    assert RecomputeRun.objects.filter(kind=RecomputeRun.Kind.QUEUED).count() == 2
    # The killed run is not left "running" for ever: the next run closed it.
    killed_run.refresh_from_db()
    assert killed_run.status == RecomputeRun.Status.FAILED
    assert killed_run.finished_at is not None
    assert killed_run.detail.startswith("Interrupted")
