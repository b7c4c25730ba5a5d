"""Reads for indicator returns: reference data for checking a file, the current values a
return is compared with, and the pages' lists, each in a fixed number of queries."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, Max, Prefetch, QuerySet

from indicators.imports.diff import CURRENT_COLUMNS, empty_current
from indicators.imports.reference import AreaRef, IndicatorRef, Reference
from indicators.models import (
    Area,
    ImportJob,
    ImportProblem,
    Indicator,
    Observation,
    Period,
    Return,
    ReturnEvent,
)
from indicators.periods import PeriodSpec
from strategies.models import CommissioningSystem, SystemRole
from strategies.permissions import systems_visible_to

IN_BATCH = 500


def import_reference(system: CommissioningSystem) -> Reference:
    """The system's indicators (by key, code and Fingertips id) and every known area."""
    indicators = list(
        Indicator.objects.filter(system=system).values(
            "id",
            "key",
            "code",
            "title",
            "measure_type",
            "period_type",
            "fingertips_id",
            "breakdowns",
        )
    )
    above_one = dict(
        Observation.objects.filter(
            indicator__system=system,
            indicator__measure_type=Indicator.MeasureType.PERCENTAGE,
            is_current=True,
            value__isnull=False,
        )
        .values("indicator_id")
        .annotate(top=Max("value"))
        .values_list("indicator_id", "top")
    )
    refs = [
        IndicatorRef(
            id=row["id"],
            key=row["key"],
            title=row["title"],
            measure_type=row["measure_type"],
            period_type=row["period_type"] or None,
            fingertips_id=row["fingertips_id"],
            breakdowns=frozenset(row["breakdowns"] or []),
            values_above_one=(above_one[row["id"]] > 1)
            if row["id"] in above_one
            else None,
        )
        for row in indicators
    ]
    areas = [
        AreaRef(id=pk, code=code, name=name)
        for pk, code, name in Area.objects.values_list("id", "code", "name")
    ]
    return Reference.build(
        system_id=system.pk,
        system_name=system.name,
        indicators=refs,
        areas=areas,
        codes={row["id"]: row["code"] for row in indicators},
    )


def systems_for_indicators(tokens: set[str], fingertips_ids: set[int]) -> list[str]:
    """Slugs of the systems that hold these indicator keys, codes or Fingertips ids: the
    one holding the most of them, or every one tied for the most."""
    found: dict[str, int] = defaultdict(int)
    for slug, key, code, fid in Indicator.objects.values_list(
        "system__slug", "key", "code", "fingertips_id"
    ):
        if key.lower() in tokens or (code and " ".join(code.split()).lower() in tokens):
            found[slug] += 1
        if fid is not None and fid in fingertips_ids:
            found[slug] += 1
    if not found:
        return []
    most = max(found.values())
    return sorted(slug for slug, count in found.items() if count == most)


def period_ids(specs: list[PeriodSpec]) -> np.ndarray:
    """The database id of each parsed period, -1 where it does not exist yet."""
    out = np.full(len(specs), -1, dtype=np.int64)
    if not specs:
        return out
    wanted = {(s.kind, s.start, s.end): i for i, s in enumerate(specs)}
    # One range query whatever the number of periods (an OR per period would grow the
    # SQL with the file); the few extra periods it reads are ignored.
    candidates = Period.objects.filter(
        kind__in={s.kind for s in specs},
        start__gte=min(s.start for s in specs),
        end__lte=max(s.end for s in specs),
    )
    for pk, kind, start, end in candidates.values_list("id", "kind", "start", "end"):
        index = wanted.get((kind, start, end))
        if index is not None:
            out[index] = pk
    return out


def current_values(
    indicator_ids: Iterable[int], period_id_list: Iterable[int]
) -> pd.DataFrame:
    """Current observations of these indicators in these periods, one row each, with the
    columns `indicators.imports.diff.compare` expects. PostgreSQL streams them with COPY."""
    indicator_ids = sorted({int(i) for i in indicator_ids if int(i) > 0})
    period_id_list = sorted({int(p) for p in period_id_list if int(p) > 0})
    if not indicator_ids or not period_id_list:
        return empty_current()
    table = Observation._meta.db_table
    columns = (
        "id, indicator_id, area_id, period_id, breakdown, value, numerator, denominator, "
        "lower_ci, upper_ci, note, source_return_id"
    )
    frames = []
    for start in range(0, len(indicator_ids), IN_BATCH):
        batch = indicator_ids[start : start + IN_BATCH]
        indicator_list = ", ".join(str(i) for i in batch)  # ints: safe to inline
        period_list = ", ".join(str(p) for p in period_id_list)
        sql = (
            f"SELECT {columns} FROM {table} WHERE is_current "  # noqa: S608 - ints only
            f"AND indicator_id IN ({indicator_list}) AND period_id IN ({period_list})"
        )
        frames.append(_query_frame(sql))
    frame = pd.concat(frames, ignore_index=True) if frames else empty_current()
    return frame


def _query_frame(sql: str) -> pd.DataFrame:
    dtypes = {
        "old_id": np.int64,
        "ind": np.int64,
        "area": np.int64,
        "period_id": np.int64,
        "old_return": np.int64,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            with cursor.cursor.copy(
                f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
            ) as copy:
                for block in copy:
                    buffer.write(block)
            buffer.seek(0)
            numbers = [
                c
                for c in CURRENT_COLUMNS
                if c.startswith("old_")
                and c not in ("old_id", "old_note", "old_return")
            ]
            frame = pd.read_csv(
                buffer,
                header=None,
                names=CURRENT_COLUMNS,
                dtype={
                    **dtypes,
                    "breakdown": str,
                    "old_note": str,
                    **dict.fromkeys(numbers, float),
                },
                keep_default_na=False,
                na_values={n: [""] for n in numbers},
            )
        else:
            cursor.execute(sql)
            frame = pd.DataFrame(cursor.fetchall(), columns=CURRENT_COLUMNS)
    if not len(frame):
        return empty_current()
    for name, dtype in dtypes.items():
        frame[name] = frame[name].astype(dtype)
    for name in CURRENT_COLUMNS:
        if name.startswith("old_") and name not in dtypes and name != "old_note":
            frame[name] = frame[name].astype(float)
    frame["breakdown"] = frame["breakdown"].fillna("").astype(object)
    frame["old_note"] = frame["old_note"].fillna("").astype(object)
    return frame


# --- pages ---------------------------------------------------------------------------


def manageable_systems(user) -> QuerySet[CommissioningSystem]:
    """Systems the user may upload returns to (analysts; superusers everywhere)."""
    if not user.is_authenticated:
        return CommissioningSystem.objects.none()
    if user.is_superuser:
        return CommissioningSystem.objects.all()
    return CommissioningSystem.objects.filter(
        roles__user=user, roles__role=SystemRole.Role.ANALYST
    ).distinct()


def returns_for(user, *, limit: int = 200) -> QuerySet[Return]:
    """Returns of the systems the user can see, newest first: three queries in all."""
    return (
        Return.objects.filter(system__in=systems_visible_to(user))
        .select_related("system", "uploaded_by", "rolled_back_by")
        .order_by("-created_at", "-id")[:limit]
    )


def jobs_for(user, *, limit: int = 20) -> QuerySet[ImportJob]:
    """The user's recent uploads not yet committed (checking, previewed, with problems)."""
    return (
        ImportJob.objects.filter(created_by=user, committed_return__isnull=True)
        .exclude(status=ImportJob.Status.DISCARDED)
        .select_related("system")
        .order_by("-created_at", "-id")[:limit]
    )


def job_problems(
    job: ImportJob, *, limit: int | None = None
) -> QuerySet[ImportProblem]:
    problems = job.problems.order_by("position")
    return problems[:limit] if limit else problems


def job_problem_counts(job: ImportJob) -> list[tuple[str, int]]:
    return list(
        job.problems.values("code")
        .annotate(n=Count("id"))
        .order_by("-n", "code")
        .values_list("code", "n")
    )


@dataclass
class ReturnDetail:
    the_return: Return
    events: list[ReturnEvent]
    values: list[Observation]
    value_count: int


def return_detail(the_return: Return, *, limit: int = 500) -> ReturnDetail:
    observations = (
        Observation.objects.filter(source_return=the_return)
        .select_related("indicator", "area", "period", "superseded_by__source_return")
        .prefetch_related(
            Prefetch(
                "earlier_versions",
                queryset=Observation.objects.select_related("source_return"),
            )
        )
        .order_by("indicator__title", "area__code", "period__start", "breakdown")
    )
    return ReturnDetail(
        the_return=the_return,
        events=list(the_return.events.select_related("actor").order_by("at", "id")),
        values=list(observations[:limit]),
        value_count=observations.count(),
    )


@dataclass
class SeriesPoint:
    period: Period
    breakdown: str
    current: Observation | None
    versions: list[Observation]

    @property
    def revised(self) -> bool:
        return len(self.versions) > 1


def series_history(indicator: Indicator, area: Area) -> list[SeriesPoint]:
    """Every period of a series with its current value and every earlier version (value,
    return, who, when); two queries."""
    observations = (
        Observation.objects.filter(indicator=indicator, area=area)
        .select_related("period", "source_return__uploaded_by")
        .order_by("period__start", "breakdown", "recorded_at", "id")
    )
    points: dict[tuple[int, str], SeriesPoint] = {}
    for observation in observations:
        key = (observation.period_id, observation.breakdown)
        point = points.get(key)
        if point is None:
            point = points[key] = SeriesPoint(
                observation.period, observation.breakdown, None, []
            )
        point.versions.append(observation)
        if observation.is_current:
            point.current = observation
    return list(points.values())
