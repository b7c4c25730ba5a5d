"""Fault 4: two returns that overlap (same indicator, some of the same areas and periods)
are committed by two processes at the same moment. The commits take turns (the system's
lock): both succeed, the second compares its values with the first's, and afterwards
every value has one current version, each earlier version superseded exactly once by
the next, and nothing is lost or written twice."""

import multiprocessing
import queue
from collections import defaultdict

import pytest

from indicators import services
from indicators.models import (
    Area,
    Observation,
    Period,
    RecomputeRequest,
    Return,
)
from indicators.periods import month_period
from tests.faults import children
from tests.faults.helpers import database_url, monthly_percentage_indicator

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

AREAS = 300
MONTHS = [month_period(2019 + (m // 12), m % 12 + 1) for m in range(24)]
BASE = {(a, m) for a in range(250) for m in range(20)}
FIRST = {(a, m) for a in range(200) for m in range(16)}  # revises base values
SECOND = {(a, m) for a in range(100, 300) for m in range(8, 24)}  # and new ones
HEADER = "Indicator,Area,Period,Value,Numerator,Denominator,Lower CI,Upper CI,Note\n"


def _code(a: int) -> str:
    return f"E0699{a:04d}"


def _value(which: str, a: int, m: int) -> float:
    """Different in each file, so that every value of a later file revises."""
    offset = {"base": 10.0, "first": 40.0, "second": 70.0}[which]
    return offset + (a * 7 + m) % 25


def _file(which: str, keys: set[tuple[int, int]]) -> bytes:
    rows = [
        f"faults-overlap,{_code(a)},{MONTHS[m].label},{_value(which, a, m)},,,,,\n"
        for a, m in sorted(keys)
    ]
    return (HEADER + "".join(rows)).encode()


@pytest.fixture
def system():
    system = monthly_percentage_indicator(
        "faults-overlap", "Overlapping returns"
    ).system
    Area.objects.bulk_create(
        [
            Area(code=_code(a), name=f"Faults area {a}", kind="unitary")
            for a in range(AREAS)
        ]
    )
    Period.objects.bulk_create(
        [Period(kind=s.kind, start=s.start, end=s.end, label=s.label) for s in MONTHS]
    )
    services.return_commit(
        data=_file("base", BASE),
        file_name="base.csv",
        system=system,
        options=services.ImportOptions(),
    )
    return system


def test_two_overlapping_returns_committed_at_once_are_serialised(system):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    files = {"first.csv": FIRST, "second.csv": SECOND}
    workers = [
        context.Process(
            target=children.commit_return,
            args=(
                database_url(),
                system.slug,
                name,
                _file(name.removesuffix(".csv"), keys),
                barrier,
                results,
            ),
        )
        for name, keys in files.items()
    ]
    for worker in workers:
        worker.start()
    outcomes = {}
    try:
        for _ in workers:
            name, status, detail, started, ended = results.get(timeout=120)
            outcomes[name] = (status, detail, started, ended)
    except queue.Empty:
        pytest.fail(f"A commit did not finish; finished: {sorted(outcomes)}")
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()

    assert {n: o[0] for n, o in outcomes.items()} == {n: "ok" for n in files}, outcomes
    (_, _, start_a, end_a), (_, _, start_b, end_b) = outcomes.values()
    assert max(start_a, start_b) < min(end_a, end_b), "the commits did not overlap"

    # Whichever took the lock first created its Return first.
    returns = sorted(
        (outcomes[name][1], keys, name.removesuffix(".csv"))
        for name, keys in files.items()
    )
    (first_id, first_keys, first_name), (second_id, second_keys, second_name) = returns
    base_id = Return.objects.get(file_name="base.csv").pk

    area_index = {
        pk: int(code.removeprefix("E0699"))
        for pk, code in Area.objects.filter(code__startswith="E0699").values_list(
            "pk", "code"
        )
    }
    month_index = {
        pk: MONTHS.index(next(s for s in MONTHS if s.start == start))
        for pk, start in Period.objects.filter(kind="month").values_list("pk", "start")
        if any(s.start == start for s in MONTHS)
    }
    versions = defaultdict(list)
    for row in Observation.objects.filter(indicator__key="faults-overlap").order_by(
        "pk"
    ):
        versions[area_index[row.area_id], month_index[row.period_id]].append(row)

    expected_total = 0
    for key in BASE | FIRST | SECOND:
        expected = [
            (return_id, name)
            for return_id, keys, name in (
                (base_id, BASE, "base"),
                (first_id, first_keys, first_name),
                (second_id, second_keys, second_name),
            )
            if key in keys
        ]
        expected_total += len(expected)
        rows = versions[key]
        assert [(r.source_return_id, r.value) for r in rows] == [
            (return_id, _value(name, *key)) for return_id, name in expected
        ], key
        *earlier, current = rows
        assert current.is_current
        assert (current.superseded_at, current.superseded_by_id) == (None, None)
        for old, newer in zip(earlier, rows[1:], strict=True):
            assert not old.is_current, key
            assert old.superseded_at is not None, key
            assert old.superseded_by_id == newer.pk, key
    assert sum(len(rows) for rows in versions.values()) == expected_total
    assert set(versions) == BASE | FIRST | SECOND

    first = Return.objects.get(pk=first_id)
    second = Return.objects.get(pk=second_id)
    assert (first.new_count, first.revised_count) == (
        len(first_keys - BASE),
        len(first_keys & BASE),
    )
    assert (second.new_count, second.revised_count) == (
        len(second_keys - BASE - first_keys),
        len(second_keys & (BASE | first_keys)),
    )
    for the_return, keys in ((first, first_keys), (second, second_keys)):
        queued = RecomputeRequest.objects.filter(source_return=the_return)
        assert sorted(queued.values_list("area__code", flat=True)) == sorted(
            {_code(a) for a, _ in keys}
        )
