"""Recomputing flags from data: results replaced whole, exception history kept, rules
configurable per system, one full run at a time."""

import pytest
from django.core.management import call_command
from django.db import connections

from commissioning.locks import advisory_lock
from indicators.models import Area, Indicator, Observation, Return
from scorecard.models import ExceptionFlag, ExceptionRule, RecomputeRun, SeriesResult
from scorecard.seed.loader import period_for
from scorecard.services.recompute import (
    FULL_RECOMPUTE_LOCK,
    recompute,
    recompute_everything,
)

pytestmark = pytest.mark.django_db


def _rtt(plymouth):
    indicator = Indicator.objects.get(system=plymouth, key="rtt-18-weeks-incomplete")
    return indicator, Area.objects.get(code="RK9")


def test_seed_load_computes_every_series_with_reasons_in_words(plymouth):
    rtt = SeriesResult.objects.get(indicator__key="rtt-18-weeks-incomplete")

    assert SeriesResult.objects.filter(indicator__system=plymouth).count() == 26
    assert rtt.method == "spc"
    assert rtt.latest_value == pytest.approx(83.8)
    assert rtt.latest_period.label == "Aug-17"
    assert rtt.spc_reason.startswith("Special cause concern")
    assert rtt.has_synthetic is True
    assert rtt.inputs["returns"]
    assert len(rtt.sparkline) == 13


def test_rag_uses_the_target_in_force_through_polarity(plymouth):
    single = SeriesResult.objects.get(indicator__key="single-assessments-45-days")

    assert single.rag == "Red"
    assert single.rag_reason == "Red: 71.1% against a target of 88.0%, higher is better"


def test_open_flags_are_the_exception_report(plymouth):
    rules = set(
        ExceptionFlag.objects.filter(
            indicator__key="single-assessments-45-days", cleared_at__isnull=True
        ).values_list("rule", flat=True)
    )

    assert rules == {"rag_red", "special_cause_concern"}


def test_a_disabled_rule_raises_no_flag(plymouth):
    assert not ExceptionFlag.objects.filter(
        indicator__system=plymouth, rule="data_overdue"
    ).exists()
    ExceptionRule.objects.filter(system=plymouth, rule="data_overdue").update(
        enabled=True
    )

    recompute()

    assert (
        ExceptionFlag.objects.filter(
            indicator__system=plymouth, rule="data_overdue", cleared_at__isnull=True
        ).count()
        == SeriesResult.objects.filter(indicator__system=plymouth).count()
    )


def test_recompute_twice_replaces_results_and_duplicates_no_flag(plymouth):
    before = (SeriesResult.objects.count(), ExceptionFlag.objects.count())

    run = recompute()

    assert run.status == RecomputeRun.Status.SUCCEEDED
    assert run.series_count == SeriesResult.objects.count()
    assert (SeriesResult.objects.count(), ExceptionFlag.objects.count()) == before
    assert set(SeriesResult.objects.values_list("run", flat=True)) == {run.pk}


def test_a_flag_clears_when_the_data_recovers_and_history_is_kept(plymouth):
    indicator, area = _rtt(plymouth)
    flag = ExceptionFlag.objects.get(
        indicator=indicator, rule="special_cause_concern", cleared_at__isnull=True
    )
    # A run of values at the mean breaks the shift and stays inside the limits.
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

    recompute(indicator_ids=[indicator.pk])

    flag.refresh_from_db()
    assert flag.cleared_at is not None
    assert flag.cleared_run is not None
    assert not ExceptionFlag.objects.filter(
        indicator=indicator, rule="special_cause_concern", cleared_at__isnull=True
    ).exists()


def test_one_failing_series_does_not_stop_the_others(plymouth, monkeypatch):
    from scorecard.services import recompute as service

    real = service.analyse_series

    def fail_for_rtt(series):
        if series.title.startswith("Referral to Treatment"):
            raise ValueError("broken series")
        return real(series)

    monkeypatch.setattr(service, "analyse_series", fail_for_rtt)

    run = recompute()

    assert run.status == RecomputeRun.Status.FAILED
    assert run.failure_count == 1
    assert run.failures[0]["error"] == "broken series"
    assert run.series_count == SeriesResult.objects.count()


def test_recompute_flags_command_by_indicator(plymouth, capsys):
    call_command("recompute_flags", "--indicator", "rtt-18-weeks-incomplete")

    assert "Succeeded: 1 series" in capsys.readouterr().out


def test_recompute_flags_command_names_unknown_keys(plymouth):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No indicator with key: not-a-key"):
        call_command("recompute_flags", "--indicator", "not-a-key")


@pytest.mark.postgres
def test_full_runs_never_overlap(plymouth):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            import zlib

            cursor.execute(
                "SELECT pg_try_advisory_lock(%s)",
                [zlib.crc32(FULL_RECOMPUTE_LOCK.encode())],
            )
            assert cursor.fetchone()[0] is True
            assert recompute_everything() is None
        with advisory_lock("another-job") as acquired:
            assert acquired is True
    finally:
        other.close()
