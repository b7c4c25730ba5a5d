"""Commit a return: all of it or nothing, and exactly what its preview showed.

Inside one transaction, holding the system's lock: the file's values are compared again
with the current ones; if that comparison (its fingerprint) differs from the preview the
analyst confirmed, nothing is written. Otherwise: missing periods, Fingertips areas and
indicators are created; the return is recorded; revised values are marked as superseded by
their new versions (never overwritten); new versions are written in bulk (PostgreSQL COPY
for large loads); each touched series is queued for recomputation; the audit trail gets a
"committed" event.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from indicators import selectors
from indicators.imports import pgcopy
from indicators.imports import problems as P
from indicators.imports.diff import NEW, NUMBERS, REVISED, fingerprint
from indicators.imports.parsing import Options, Progress
from indicators.imports.preview import Preview, compare_with_database, return_preview
from indicators.models import (
    Area,
    Indicator,
    Observation,
    Period,
    RecomputeRequest,
    Return,
    ReturnEvent,
)
from strategies.models import CommissioningSystem

BATCH = 500
PROGRESS_STEP = 10_000


class PreviewOutOfDate(Exception):
    """The data changed after the preview: nothing was committed."""

    def __init__(self) -> None:
        super().__init__(P.PREVIEW_OUT_OF_DATE)


class ReturnHasProblems(Exception):
    def __init__(self, problems: list[P.Problem]) -> None:
        super().__init__(P.HAS_PROBLEMS)
        self.problems = problems


logger = logging.getLogger(__name__)


@dataclass
class CommitOutcome:
    preview: Preview
    the_return: Return | None  # None when the file changed nothing

    @property
    def changed_nothing(self) -> bool:
        return self.the_return is None


_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


def store_original(data: bytes, sha256: str, file_name: str) -> str:
    """Keep the uploaded file under MEDIA_ROOT, named by its content (so a file uploaded
    twice is kept once); returns its storage name."""
    suffix = os.path.splitext(file_name)[1].lower()
    if not _SAFE_SUFFIX.match(suffix):
        suffix = ".bin"
    name = f"returns/{sha256[:2]}/{sha256}{suffix}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name


def _lock_system(system: CommissioningSystem) -> None:
    """Commits and rollbacks of one system take turns. SQLite's immediate transactions
    already serialise writers; PostgreSQL takes a transaction-scoped advisory lock."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"returns:{system.pk}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def return_commit(
    *,
    data: bytes,
    file_name: str,
    system: CommissioningSystem | None,
    options: Options,
    user=None,
    expected_fingerprint: str = "",
    source: str = "",
    stored_name: str = "",
    progress: Progress | None = None,
) -> CommitOutcome:
    """Check the file and, if it has no problem, commit it in one transaction.

    With `expected_fingerprint` (what the analyst saw in the preview), refuse with
    PreviewOutOfDate unless the commit would do exactly that."""
    preview = return_preview(
        data=data,
        file_name=file_name,
        system=system,
        options=options,
        progress=progress,
        compare_values=False,
    )
    if not preview.ok:
        raise ReturnHasProblems(preview.problems)
    stored_name = stored_name or store_original(data, preview.sha256, file_name)
    if progress:
        progress("Saving the values", 0, 1)
    with transaction.atomic():
        _lock_system(preview.system)
        # Compare again under the lock: another commit may have landed since the parse.
        comparison = compare_with_database(preview)
        preview.comparison = comparison
        preview.fingerprint = fingerprint(
            comparison,
            preview.parse.periods,
            system_id=preview.system.pk,
            extra=preview.fingerprint_extra(),
        )
        if expected_fingerprint and preview.fingerprint != expected_fingerprint:
            raise PreviewOutOfDate
        if _new_codes_taken(preview):
            raise PreviewOutOfDate
        if comparison.new == 0 and comparison.revised == 0:
            return CommitOutcome(preview=preview, the_return=None)
        the_return = _write(
            preview,
            user=user,
            source=source,
            stored_name=stored_name,
            progress=progress,
        )
    return CommitOutcome(preview=preview, the_return=the_return)


def _new_codes_taken(preview: Preview) -> bool:
    codes = [a.code for a in preview.parse.new_areas]
    fingertips_ids = [i.fingertips_id for i in preview.parse.new_indicators]
    return (bool(codes) and Area.objects.filter(code__in=codes).exists()) or (
        bool(fingertips_ids)
        and Indicator.objects.filter(
            system=preview.system, fingertips_id__in=fingertips_ids
        ).exists()
    )


def _write(
    preview: Preview, *, user, source: str, stored_name: str, progress: Progress | None
) -> Return:
    now = timezone.now()
    parse = preview.parse
    changes = _Changes.of(preview.comparison.frame)

    area_ids = _create_areas(parse.new_areas)
    indicator_ids = _create_indicators(preview)
    changes.area = _remap(changes.area, area_ids)
    changes.ind = _remap(changes.ind, indicator_ids)
    changes.period_id = _create_periods(parse.periods, np.unique(changes.period))[
        changes.period
    ]

    the_return = Return.objects.create(
        system=preview.system,
        kind=Return.Kind.UPLOAD,
        status=Return.Status.COMMITTED,
        title=preview.file_name[:300],
        file_name=preview.file_name[:300],
        sha256=preview.sha256,
        uploaded_by=user,
        source=source[:300],
        file=stored_name,
        sheet=preview.sheet_label()[:300],
        file_format=parse.format[:20],
        value_convention=parse.percentage_convention[:300],
        new_count=preview.new,
        revised_count=preview.revised,
        unchanged_count=preview.unchanged,
        skipped_count=preview.skipped,
    )
    if connection.vendor == "postgresql":
        _write_postgresql(changes, the_return.pk, now, progress)
    else:
        _write_simple(changes, the_return, now, progress)
    _insert_recompute_requests(
        changes.series(), the_return.pk, RecomputeRequest.Reason.COMMIT, now
    )
    ReturnEvent.objects.create(
        source_return=the_return,
        action=ReturnEvent.Action.COMMITTED,
        actor=user,
        details={
            "new": preview.new,
            "revised": preview.revised,
            "unchanged": preview.unchanged,
            "skipped": preview.skipped,
            "areas_created": [a.code for a in parse.new_areas],
            "indicators_created": [i.fingertips_id for i in parse.new_indicators],
        },
    )
    return the_return


@dataclass
class _Changes:
    """The new and revised values of a comparison, as arrays (one element per value)."""

    ind: np.ndarray
    area: np.ndarray
    period: np.ndarray  # index into the parse's periods
    breakdown: np.ndarray
    note: np.ndarray
    numbers: dict[str, np.ndarray]
    old_id: np.ndarray  # the version a revised value replaces; 0 for a new one
    revised: np.ndarray
    period_id: np.ndarray | None = None

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Changes:
        status = frame["status"].to_numpy()
        rows = np.flatnonzero((status == NEW) | (status == REVISED))

        def column(name: str, dtype=None) -> np.ndarray:
            return frame[name].to_numpy(dtype=dtype)[rows]

        return cls(
            ind=column("ind", np.int64),
            area=column("area", np.int64),
            period=column("period", np.int64),
            breakdown=column("breakdown", object),
            note=column("note", object),
            numbers={name: column(name, float) for name in NUMBERS},
            old_id=column("old_id", np.int64),
            revised=status[rows] == REVISED,
        )

    def __len__(self) -> int:
        return len(self.ind)

    def series(self) -> pd.DataFrame:
        """Each (indicator, area, breakdown) touched, once."""
        return pd.DataFrame(
            {"ind": self.ind, "area": self.area, "breakdown": self.breakdown}
        ).drop_duplicates(ignore_index=True)


def _remap(ids: np.ndarray, created: dict[int, int]) -> np.ndarray:
    """Ids with those of areas or indicators created by this commit (negative until
    created) replaced by their database ids."""
    if not created:
        return ids
    out = ids.copy()
    for placeholder, pk in created.items():
        out[ids == placeholder] = pk
    return out


def _create_areas(new_areas) -> dict[int, int]:
    if not new_areas:
        return {}
    created = Area.objects.bulk_create(
        [Area(code=a.code, name=a.name, kind=a.kind) for a in new_areas]
    )
    by_code = {a.code: a.pk for a in created}
    if any(pk is None for pk in by_code.values()):  # pragma: no cover - old databases
        by_code = dict(
            Area.objects.filter(code__in=[a.code for a in new_areas]).values_list(
                "code", "id"
            )
        )
    return {a.id: by_code[a.code] for a in new_areas}


def _create_indicators(preview: Preview) -> dict[int, int]:
    out = {}
    for created in preview.parse.new_indicators:
        key = f"fingertips-{created.fingertips_id}"
        if Indicator.objects.filter(system=preview.system, key=key).exists():
            key = f"{key}-{created.id * -1}"
        indicator = Indicator.objects.create(
            system=preview.system,
            key=key,
            title=created.name,
            source_framework=Indicator.SourceFramework.OTHER,
            measure_type=created.measure_type,
            period_type=created.period_type or "calendar_year",
            fingertips_id=created.fingertips_id,
            source=f"Fingertips indicator {created.fingertips_id}, from {preview.file_name}"[
                :200
            ],
        )
        out[created.id] = indicator.pk
    return out


def _create_periods(specs, used) -> np.ndarray:
    ids = selectors.period_ids(specs)
    missing = [int(i) for i in used if ids[int(i)] < 0]
    if missing:
        Period.objects.bulk_create(
            [
                Period(
                    kind=specs[i].kind,
                    start=specs[i].start,
                    end=specs[i].end,
                    label=specs[i].label,
                )
                for i in missing
            ],
            ignore_conflicts=True,
        )
        ids = selectors.period_ids(specs)
    return ids


def _write_postgresql(
    changes: _Changes, return_id: int, now, progress: Progress | None
) -> None:
    """Set-based, in bulk: revised versions marked superseded (and linked to their
    successors) by one UPDATE, new versions written by binary COPY. The deferred
    foreign-key checks run at COMMIT."""
    revised = np.flatnonzero(changes.revised)
    added = np.flatnonzero(~changes.revised)
    table = Observation._meta.db_table
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute("SET LOCAL work_mem = '256MB'")
        new_ids = np.zeros(0, dtype=np.int64)
        if len(revised):
            # The successors' ids are drawn first, so one UPDATE both retires each old
            # version and points it at its successor; the new versions are written
            # after it, once no other version of their key is current.
            new_ids = _draw_ids(cursor, table, len(revised))
            staging = f"returns_superseded_{return_id}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staging} (old_id bigint, new_id bigint) "
                "ON COMMIT DROP"
            )
            pgcopy.copy_columns(
                cursor,
                staging,
                [
                    pgcopy.Column("old_id", pgcopy.INT8, changes.old_id[revised]),
                    pgcopy.Column("new_id", pgcopy.INT8, new_ids),
                ],
                len(revised),
            )
            cursor.execute(
                f"UPDATE {table} AS o SET is_current = false, superseded_at = %s, "  # noqa: S608 - names are ours
                f"superseded_by_id = s.new_id FROM {staging} AS s "
                "WHERE o.id = s.old_id AND o.is_current",
                [now],
            )
            if cursor.rowcount != len(revised):
                raise PreviewOutOfDate
            cursor.execute(f"DROP TABLE {staging}")
        total, done = len(changes), 0
        recorded_at = pgcopy.timestamp(now)
        for rows, ids in ((revised, new_ids), (added, None)):
            if not len(rows):
                continue
            columns = [] if ids is None else [pgcopy.Column("id", pgcopy.INT8, ids)]
            columns += [
                pgcopy.Column("indicator_id", pgcopy.INT8, changes.ind[rows]),
                pgcopy.Column("area_id", pgcopy.INT8, changes.area[rows]),
                pgcopy.Column("period_id", pgcopy.INT8, changes.period_id[rows]),
                pgcopy.Column("breakdown", pgcopy.TEXT, changes.breakdown[rows]),
                *(
                    pgcopy.Column(name, pgcopy.FLOAT8, changes.numbers[name][rows])
                    for name in NUMBERS
                ),
                pgcopy.Column("note", pgcopy.TEXT, changes.note[rows]),
                pgcopy.Column("is_synthetic", pgcopy.BOOL, False),
                pgcopy.Column("is_current", pgcopy.BOOL, True),
                pgcopy.Column("source_return_id", pgcopy.INT8, return_id),
                pgcopy.Column("recorded_at", pgcopy.TIMESTAMPTZ, recorded_at),
            ]

            def step(n: int, before: int = done) -> None:
                if progress:
                    progress("Saving the values", before + n, total)

            pgcopy.copy_columns(cursor, table, columns, len(rows), step)
            done += len(rows)


def _draw_ids(cursor, table: str, n: int) -> np.ndarray:
    """n fresh ids from the table's identity sequence (named once: resolving it in the
    query would cost a catalogue lookup per id)."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    buffer = bytearray()
    with cursor.copy(
        "COPY (SELECT nextval(%s::regclass) FROM generate_series(1, %s)) "
        "TO STDOUT WITH (FORMAT binary)",
        [sequence, int(n)],
    ) as copy:
        for block in copy:
            buffer += block
    return pgcopy.read_int8(bytes(buffer))


def _write_simple(
    changes: _Changes, the_return: Return, now, progress: Progress | None
) -> None:
    """SQLite (small loads, one writer at a time): the ORM, in batches."""
    revised_old = changes.old_id[changes.revised].tolist()
    for start in range(0, len(revised_old), BATCH):
        Observation.objects.filter(
            pk__in=revised_old[start : start + BATCH], is_current=True
        ).update(is_current=False, superseded_at=now)
    numbers = {
        name: [None if np.isnan(v) else float(v) for v in values]
        for name, values in changes.numbers.items()
    }
    total = len(changes)
    for start in range(0, total, PROGRESS_STEP):
        Observation.objects.bulk_create(
            [
                Observation(
                    indicator_id=int(changes.ind[i]),
                    area_id=int(changes.area[i]),
                    period_id=int(changes.period_id[i]),
                    breakdown=changes.breakdown[i],
                    value=numbers["value"][i],
                    numerator=numbers["numerator"][i],
                    denominator=numbers["denominator"][i],
                    lower_ci=numbers["lower_ci"][i],
                    upper_ci=numbers["upper_ci"][i],
                    note=changes.note[i],
                    source_return_id=the_return.pk,
                    recorded_at=now,
                )
                for i in range(start, min(start + PROGRESS_STEP, total))
            ],
            batch_size=BATCH,
        )
        if progress:
            progress("Saving the values", min(start + PROGRESS_STEP, total), total)
    _link_superseded(revised_old, the_return)


def _link_superseded(old_ids: list[int], the_return: Return) -> None:
    """Point each revised version at the version of `the_return` that replaced it."""
    newer = Observation.objects.filter(
        source_return=the_return,
        indicator=OuterRef("indicator"),
        area=OuterRef("area"),
        period=OuterRef("period"),
        breakdown=OuterRef("breakdown"),
    ).values("pk")[:1]
    for start in range(0, len(old_ids), BATCH):
        Observation.objects.filter(pk__in=old_ids[start : start + BATCH]).update(
            superseded_by=Subquery(newer)
        )


def _announce_recompute() -> None:
    """After the values commit, ask a worker (or, with no broker, this process) to
    recompute the queued series. If the broker cannot be reached, nothing is lost: the
    requests are in the database and the periodic sweep recomputes them later."""
    from scorecard.tasks import recompute_queued  # scorecard builds on indicators

    try:
        # Nothing waits for its result: sending never touches the result store.
        recompute_queued.apply_async(ignore_result=True)
    except Exception:
        logger.exception(
            "Could not enqueue the recompute; the periodic sweep will run it"
        )


def _insert_recompute_requests(
    series: pd.DataFrame, return_id: int, reason: str, now
) -> None:
    transaction.on_commit(_announce_recompute)
    if connection.vendor == "postgresql":
        with connection.cursor() as wrapper:
            pgcopy.copy_columns(
                wrapper.cursor,
                RecomputeRequest._meta.db_table,
                [
                    pgcopy.Column(
                        "indicator_id", pgcopy.INT8, series["ind"].to_numpy(np.int64)
                    ),
                    pgcopy.Column(
                        "area_id", pgcopy.INT8, series["area"].to_numpy(np.int64)
                    ),
                    pgcopy.Column(
                        "breakdown", pgcopy.TEXT, series["breakdown"].to_numpy(object)
                    ),
                    pgcopy.Column("source_return_id", pgcopy.INT8, return_id),
                    pgcopy.Column("reason", pgcopy.TEXT, reason),
                    pgcopy.Column(
                        "created_at", pgcopy.TIMESTAMPTZ, pgcopy.timestamp(now)
                    ),
                ],
                len(series),
            )
        return
    RecomputeRequest.objects.bulk_create(
        [
            RecomputeRequest(
                indicator_id=int(ind),
                area_id=int(area),
                breakdown=breakdown,
                source_return_id=return_id,
                reason=reason,
            )
            for ind, area, breakdown in series.itertuples(index=False)
        ],
        batch_size=BATCH,
    )
