"""The batch engine writes what the per-series engine writes: the same SeriesResult
rows and the same flags, on the seed data, in process or with worker processes, on
SQLite and on PostgreSQL (where it writes with COPY)."""

from datetime import date

import pytest
from django.db import connection

from indicators.models import Area, Indicator, Observation, Return, Target
from scorecard.models import (
    AnalysisSettings,
    ExceptionFlag,
    ExceptionRule,
    RebasePoint,
    RecomputeRun,
    SeriesResult,
)
from scorecard.seed.loader import period_for
from scorecard.services import recompute as service
from scorecard.services.recompute import BATCH, PER_SERIES, recompute

pytestmark = pytest.mark.django_db

NOT_COMPARED = {"id", "run", "computed_at"}
RESULT_FIELDS = [
    f.attname for f in SeriesResult._meta.concrete_fields if f.name not in NOT_COMPARED
]
FLAG_FIELDS = ["indicator_id", "area_id", "breakdown", "rule", "severity", "reason"]


def _results() -> dict:
    return {
        (r["indicator_id"], r["area_id"], r["breakdown"]): r
        for r in SeriesResult.objects.values(*RESULT_FIELDS)
    }


def _open_flags() -> list:
    return sorted(
        ExceptionFlag.objects.filter(cleared_at__isnull=True).values_list(*FLAG_FIELDS)
    )


def _every_flag() -> list:
    return sorted(ExceptionFlag.objects.values_list("id", *FLAG_FIELDS, "cleared_at"))


def _fresh_run(**options) -> tuple[dict, list]:
    """Results and open flags of a run that starts from nothing."""
    ExceptionFlag.objects.all().delete()
    SeriesResult.objects.all().delete()
    run = recompute(**options)
    assert run.failure_count == 0, run.failures
    return _results(), _open_flags()


def _enable_every_rule():
    ExceptionRule.objects.update(enabled=True)


@pytest.fixture
def varied(plymouth):
    """Beyond the seed's monthly SPC series: annual series with counts (intervals,
    England comparison, recent trend), a breakdown, targets of every kind, a rebase
    point, fixed limits and no screening."""
    source = Return.objects.create(system=plymouth, kind="upload", title="varied")
    england = Area.objects.get(code="E92000001")
    area = Area.objects.create(code="T0000001", name="Test area", kind="unitary")

    def add(indicator, where, label, value, **extra):
        Observation.objects.create(
            indicator=indicator, area=where, period=period_for(label), value=value,
            source_return=source, **extra,
        )  # fmt: skip

    weight = Indicator.objects.get(system=plymouth, key="excess-weight-adults")
    conceptions = Indicator.objects.get(system=plymouth, key="under-18-conceptions")
    for year, step in zip(range(2011, 2018), range(7), strict=True):
        for where, base, breakdown in (
            (england, 600, ""), (area, 640, ""), (area, 655, "Female"),
        ):  # fmt: skip
            events, people = base + 9 * step, 1000
            add(weight, where, str(year), round(100 * events / people, 1),
                numerator=events, denominator=people, breakdown=breakdown)  # fmt: skip
            count = 40 - 3 * step if where == area else 35
            add(conceptions, where, str(year), round(1000 * count / 2400, 1),
                numerator=count, denominator=2400, breakdown=breakdown)  # fmt: skip
    Target.objects.create(indicator=weight, kind="relative_to_england", value=0)
    Target.objects.create(
        indicator=conceptions, kind="change_from_baseline", value=-20,
        baseline_period=period_for("2012"),
    )  # fmt: skip

    rtt = Indicator.objects.get(system=plymouth, key="rtt-18-weeks-incomplete")
    months = [f"{m}-{y}" for y in ("16", "17") for m in (
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
        "Dec")][:20]  # fmt: skip
    for i, label in enumerate(months):
        add(rtt, area, label, 80 + (i % 5) - (3 if i > 12 else 0), breakdown="Female")
        add(rtt, area, label, 80 + (i % 3), lower_ci=78.0, upper_ci=83.5)
    RebasePoint.objects.create(
        indicator=rtt, area=area, period=period_for(months[12]), reason="New model"
    )
    Target.objects.create(indicator=rtt, kind="absolute", value=92.0)
    dementia = Indicator.objects.get(system=plymouth, key="dementia-diagnosis-rate")
    AnalysisSettings.objects.update_or_create(
        indicator=dementia, defaults={"screen_outliers": False, "fix_limits_after": 12}
    )
    iapt = Indicator.objects.get(system=plymouth, key="iapt-access-rate")
    AnalysisSettings.objects.update_or_create(
        indicator=iapt, defaults={"screen_outliers": False}
    )


@pytest.mark.parametrize("as_at", [date(2017, 11, 1), date(2024, 6, 1)])
def test_batch_and_per_series_engines_write_the_same_rows_and_flags(varied, as_at):
    _enable_every_rule()

    reference = _fresh_run(engine=PER_SERIES, as_at=as_at)
    batch = _fresh_run(engine=BATCH, as_at=as_at)

    assert len(reference[0]) == SeriesResult.objects.count() > 30
    assert batch[0] == reference[0]
    assert batch[1] == reference[1]
    methods = {r["method"] for r in batch[0].values()}
    assert methods == {"spc", "public_health", "insufficient_data"}
    assert {r["trend"] for r in batch[0].values()} > {"", "Cannot be calculated"}
    assert {r["comparison"] for r in batch[0].values()} > {""}
    fired = {row[3] for row in batch[1]}
    assert {"special_cause_concern", "rag_red", "worse_than_england"} <= fired


def test_worker_processes_write_the_same_as_one_process(varied, monkeypatch):
    _enable_every_rule()
    reference = _fresh_run(engine=PER_SERIES, as_at=date(2024, 6, 1))
    monkeypatch.setattr(service, "BATCH_ROWS", 60)  # many chunks, a few per worker

    pooled = _fresh_run(engine=BATCH, as_at=date(2024, 6, 1), workers=2)

    assert pooled == reference


def test_a_batch_run_after_a_per_series_run_changes_no_result_and_no_flag(varied):
    _enable_every_rule()
    recompute(engine=PER_SERIES, as_at=date(2024, 6, 1))
    before, flags_before = _results(), _every_flag()

    run = recompute(engine=BATCH, as_at=date(2024, 6, 1))

    assert _results() == before
    assert _every_flag() == flags_before
    assert set(SeriesResult.objects.values_list("run", flat=True)) == {run.pk}


def test_named_series_without_values_get_the_same_result(plymouth):
    indicator = Indicator.objects.get(system=plymouth, key="rtt-18-weeks-incomplete")
    empty = (indicator.pk, Area.objects.get(code="E92000001").pk, "no such breakdown")
    rtt = (indicator.pk, Area.objects.get(code="RK9").pk, "")
    keys = [empty, rtt]

    reference = _fresh_run(engine=PER_SERIES, series=keys)
    batch = _fresh_run(engine=BATCH, series=keys)

    assert batch == reference
    assert batch[0][empty]["spc_reason"] == "No values yet"


def test_a_flag_clears_the_same_way_in_both_engines(plymouth):
    indicator = Indicator.objects.get(system=plymouth, key="rtt-18-weeks-incomplete")
    area = Area.objects.get(code="RK9")
    recompute(engine=BATCH)
    flag = ExceptionFlag.objects.get(
        indicator=indicator, rule="special_cause_concern", cleared_at__isnull=True
    )
    source = Return.objects.create(system=plymouth, kind="upload", title="recovery")
    mean = SeriesResult.objects.get(indicator=indicator).spc["groups"][-1]["mean"]
    for label in ("Sep-17", "Oct-17", "Nov-17"):
        Observation.objects.create(
            indicator=indicator,
            area=area,
            period=period_for(label),
            value=mean + 3,
            source_return=source,
        )

    run = recompute(engine=BATCH, indicator_ids=[indicator.pk])

    flag.refresh_from_db()
    assert flag.cleared_run_id == run.pk
    result = SeriesResult.objects.get(indicator=indicator)
    assert result.latest_period.label == "Nov-17"
    assert result.spc["points"][-1] == {
        "rule": None,
        "type": "common_cause",
        "label": "Nov-17",
        "value": mean + 3,
    }


@pytest.mark.postgres
def test_copy_writes_json_as_postgresql_prints_it(varied):
    """The writer recognises an unchanged stored value by its text: that text must be
    the one jsonb prints, or every night would parse every value again."""
    _enable_every_rule()
    recompute(engine=BATCH, as_at=date(2024, 6, 1))
    inputs = service._load_inputs(
        service._series_keys_with_data(None), date(2024, 6, 1)
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indicator_id, area_id, breakdown, spc::text, sparkline::text, "
            "inputs::text FROM scorecard_seriesresult"
        )
        stored = {row[:3]: row[3:] for row in cursor.fetchall()}
    for key, series in inputs.items():
        fields = service.analyse_series(series).fields
        expected = tuple(
            None if value is None else service._json_text(value)
            for value in (
                fields.get(name, service.RESULT_DEFAULTS[name])
                for name in ("spc", "sparkline", "inputs")
            )
        )
        assert stored[key] == expected, key


@pytest.mark.parametrize("engine", [PER_SERIES, BATCH])
def test_a_rebase_on_the_latest_point_stores_a_group_without_limits(plymouth, engine):
    # The new group has one point and no spread yet: its limits are unknown (NaN in
    # the engine), stored as null because JSON has no NaN; the run has no failure.
    rtt = Indicator.objects.get(system=plymouth, key="rtt-18-weeks-incomplete")
    RebasePoint.objects.create(indicator=rtt, period=period_for("Aug-17"), reason="New")

    run = recompute(engine=engine)

    assert run.failure_count == 0
    result = SeriesResult.objects.get(run=run, indicator=rtt)
    latest_group = result.spc["groups"][-1]
    assert latest_group["end"] - latest_group["start"] == 1
    assert latest_group["upper_limit"] is None
    assert latest_group["lower_limit"] is None
    assert result.spc["groups"][0]["upper_limit"] is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_reads_ahead_on_a_second_connection(monkeypatch):
    """Committed data, no surrounding transaction: worker processes compute while a
    thread reads ahead on its own connection. Builds its own data (a transactional
    test's flush leaves no seed behind it)."""
    from strategies.models import CommissioningSystem

    system = CommissioningSystem.objects.create(
        slug="ahead", name="Ahead", short_name="A"
    )
    source = Return.objects.create(system=system, kind="upload", title="ahead")
    england = Area.objects.get_or_create(
        code="E92000001", defaults={"name": "England", "kind": "country"}
    )[0]
    areas = [england] + [
        Area.objects.create(code=f"A000000{i}", name=f"Area {i}", kind="unitary")
        for i in range(4)
    ]
    months = [f"{m}-{y}" for y in ("16", "17") for m in (
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
        "Dec")]  # fmt: skip
    for n, polarity in enumerate(
        ("higher_is_better", "lower_is_better", "no_judgement")
    ):
        indicator = Indicator.objects.create(
            system=system, key=f"ahead-{n}", title=f"Ahead {n}",
            source_framework="LOCAL", measure_type="percentage", polarity=polarity,
            period_type="month",
        )  # fmt: skip
        Target.objects.create(indicator=indicator, kind="absolute", value=52.0)
        for a, area in enumerate(areas):
            for i, label in enumerate(months):
                Observation.objects.create(
                    indicator=indicator, area=area, period=period_for(label),
                    value=50 + (i * (a + 1) + n) % 7 - (4 if i > 16 and a == 1 else 0),
                    numerator=500 + i, denominator=1000, source_return=source,
                )  # fmt: skip
    reference = _fresh_run(engine=PER_SERIES, as_at=date(2018, 6, 1))
    monkeypatch.setattr(service, "BATCH_ROWS", 24 * 5)  # one indicator a chunk

    ahead = _fresh_run(engine=BATCH, as_at=date(2018, 6, 1), workers=2)

    assert ahead == reference
    assert SeriesResult.objects.filter(indicator__system=system).count() == 15
    run = RecomputeRun.objects.latest("started_at")
    assert "worker processes, reading ahead on a second connection" in run.detail
