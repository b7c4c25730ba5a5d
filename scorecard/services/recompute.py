"""Recompute the flags of series from their data, and keep the exception report's history.

Idempotent: a computation replaces the whole result of each series it touches, and opens or
closes exception flags, in one transaction per chunk of series, so a reader sees either the
old picture of a series or the new one, never a mixture. Each run is recorded.

Two engines give the same results (tests/integration/test_recompute_batch.py):

- "batch" (the default) reads the current values of many series at once as columns
  (on PostgreSQL as CSV text the server aggregates into a few large rows; with the ORM
  on SQLite), computes the SPC of all of them in one vectorised pass
  (`indicators.analysis.spc_batch`), lets `analyse_series` add every other method and
  the reasons series by series, and writes a chunk of about `BATCH_ROWS` values in one
  transaction (COPY into a temporary table and two set-based statements on PostgreSQL;
  `bulk_create` on SQLite). On PostgreSQL, worker processes compute chunks while this
  process reads and writes the others. docs/recompute.md has the design and figures.
- "per_series", the reference: series by series with the ORM, `CHUNK` a transaction.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from commissioning.locks import advisory_lock
from indicators.analysis.common import polarity_sign
from indicators.analysis.spc_batch import BatchPoints, spc_batch
from indicators.models import (
    Area,
    Indicator,
    Observation,
    Period,
    RecomputeRequest,
    Target,
)
from scorecard.analysis import (
    BatchRow,
    Point,
    PointColumns,
    SeriesInput,
    SeriesOutput,
    TargetInput,
    analyse_series,
)
from scorecard.models import (
    ExceptionFlag,
    ExceptionRule,
    RebasePoint,
    RecomputeRun,
    SeriesResult,
)
from strategies.models import CommissioningSystem

logger = logging.getLogger(__name__)

ENGLAND_CODE = "E92000001"
BATCH = "batch"
PER_SERIES = "per_series"
CHUNK = 500  # series per transaction, per-series engine
BATCH_ROWS = 250_000  # current values read, analysed and written per transaction
BATCH_SERIES = 5_000  # named series per transaction (a queued recompute)
WORKERS = min(2, os.cpu_count() or 1)  # processes computing chunks, on PostgreSQL
SeriesKey = tuple[int, int, str]  # (indicator id, area id, breakdown)

# Every column a computation replaces, with the value it takes when the computation has
# nothing to say (so a field a new result lacks never keeps the old run's value).
RESULT_DEFAULTS = {
    f.attname: f.get_default()
    for f in SeriesResult._meta.concrete_fields
    if f.attname not in {"id", "indicator_id", "area_id", "breakdown"}
}
RESULT_FIELDS = list(RESULT_DEFAULTS)
JSON_FIELDS = [
    f.attname
    for f in SeriesResult._meta.concrete_fields
    if f.get_internal_type() == "JSONField"
]
OBSERVATION_COLUMNS = (
    "id", "indicator_id", "area_id", "breakdown", "source_return_id", "period_id",
    "value", "lower_ci", "upper_ci", "numerator", "denominator", "is_synthetic",
)  # fmt: skip
OPTIONAL_NUMBERS = ("lower_ci", "upper_ci", "numerator", "denominator")
GROUPED = ("indicator_id", "breakdown")  # read once per group of rows


def default_rules(system) -> dict[str, str]:
    """The enabled rules of a system and their severity; a system without configuration
    gets every rule at medium severity."""
    configured = {r.rule: r for r in ExceptionRule.objects.filter(system=system)}
    rules = {}
    for rule in ExceptionRule.Rule.values:
        setting = configured.get(rule)
        if setting is None:
            rules[rule] = ExceptionRule.Severity.MEDIUM
        elif setting.enabled:
            rules[rule] = setting.severity
    return rules


def _series_keys_with_data(indicator_ids: Iterable[int] | None) -> list[SeriesKey]:
    qs = Observation.objects.filter(is_current=True, value__isnull=False)
    if indicator_ids is not None:
        qs = qs.filter(indicator_id__in=list(indicator_ids))
    return sorted(set(qs.values_list("indicator_id", "area_id", "breakdown")))


def recompute(
    *,
    kind: str = RecomputeRun.Kind.FULL,
    series: Iterable[SeriesKey] | None = None,
    indicator_ids: Iterable[int] | None = None,
    as_at: date | None = None,
    engine: str = BATCH,
    workers: int | None = None,
) -> RecomputeRun:
    """Recompute the given series (or every series of the given indicators, or all).

    `workers`: processes computing chunks for the batch engine; by default `WORKERS`
    on PostgreSQL when there is more than one chunk, else none (in this process)."""
    if engine not in (BATCH, PER_SERIES):
        raise ValueError(f"Unknown engine {engine!r}: use {BATCH!r} or {PER_SERIES!r}.")
    run = RecomputeRun.objects.create(kind=kind)
    started = time.monotonic()
    as_at = as_at or timezone.localdate()
    keys = sorted(set(series)) if series is not None else None
    ids = sorted(set(indicator_ids)) if indicator_ids is not None else None
    if engine == BATCH:
        count, failures, detail = _recompute_batched(run, keys, ids, as_at, workers)
    else:
        count, failures, detail = _recompute_per_series(run, keys, ids, as_at)
    run.series_count = count
    run.failure_count = len(failures)
    run.failures = failures[:200]
    run.detail = detail[:300]
    run.status = (
        RecomputeRun.Status.FAILED if failures else RecomputeRun.Status.SUCCEEDED
    )
    run.finished_at = timezone.now()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.save()
    from scorecard.cache import bump_version  # the pages' cache: this run has landed

    bump_version()
    return run


# --- what both engines share -------------------------------------------------------


@dataclass(frozen=True)
class _Indicator:
    """What a series needs of its indicator (plain data: it travels to workers)."""

    title: str
    measure_type: str
    unit: str
    decimals: int
    polarity: str
    period_type: str
    amber_tolerance: float
    screen_outliers: bool
    fix_limits_after: int | None
    publication_lag_days: int | None


@dataclass
class _Context:
    """Per indicator, what a series needs besides its values."""

    indicators: dict[int, _Indicator]
    england: int | None
    targets: dict[int, list[TargetInput]]
    rebases: dict[tuple[int, int | None], set[int]]

    @classmethod
    def load(cls, indicator_ids: Collection[int]) -> _Context:
        indicators = {}
        for i in Indicator.objects.filter(pk__in=indicator_ids).select_related(
            "analysis_settings"
        ):
            settings = getattr(i, "analysis_settings", None)
            indicators[i.pk] = _Indicator(
                title=i.title,
                measure_type=i.measure_type,
                unit=i.unit,
                decimals=i.decimal_places,
                polarity=i.polarity,
                period_type=i.period_type,
                amber_tolerance=float(i.amber_tolerance),
                screen_outliers=settings.screen_outliers if settings else True,
                fix_limits_after=settings.fix_limits_after if settings else None,
                publication_lag_days=(
                    settings.publication_lag_days if settings else None
                ),
            )
        england = (
            Area.objects.filter(code=ENGLAND_CODE).values_list("pk", flat=True).first()
        )
        targets: dict[int, list[TargetInput]] = defaultdict(list)
        for t in Target.objects.filter(indicator_id__in=indicator_ids):
            targets[t.indicator_id].append(
                TargetInput(
                    id=t.pk, kind=t.kind, value=t.value,
                    baseline_value=t.baseline_value,
                    baseline_period_id=t.baseline_period_id, applies_to=t.applies_to,
                    amber_tolerance=t.amber_tolerance, text=t.text,
                )
            )  # fmt: skip
        rebases: dict[tuple[int, int | None], set[int]] = defaultdict(set)
        for r in RebasePoint.objects.filter(indicator_id__in=indicator_ids):
            rebases[r.indicator_id, r.area_id].add(r.period_id)
        return cls(indicators, england, dict(targets), dict(rebases))

    def series_input(self, key: SeriesKey, **values) -> SeriesInput:
        indicator = self.indicators[key[0]]
        return SeriesInput(
            title=indicator.title,
            measure_type=indicator.measure_type,
            unit=indicator.unit,
            decimals=indicator.decimals,
            polarity=indicator.polarity,
            period_type=indicator.period_type,
            is_england=key[1] == self.england,
            targets=self.targets.get(key[0], []),
            amber_tolerance=indicator.amber_tolerance,
            rebase_period_ids=self.rebases.get((key[0], None), set())
            | self.rebases.get((key[0], key[1]), set()),
            screen_outliers=indicator.screen_outliers,
            fix_limits_after=indicator.fix_limits_after,
            publication_lag_days=indicator.publication_lag_days,
            **values,
        )


@dataclass
class _Chunk:
    """A computed chunk, ready to write: its results (as ORM values, or as COPY text
    for PostgreSQL), the rules that fired per series, and the series that failed."""

    keys: list[SeriesKey]
    rules: dict[SeriesKey, dict[str, str]]
    failures: list[dict]
    now: datetime
    values: list[tuple[SeriesKey, dict]] = field(default_factory=list)
    copy_text: str | None = None
    seconds: float = 0.0  # computing it


def _analyse(
    inputs: dict[SeriesKey, SeriesInput],
) -> tuple[dict[SeriesKey, SeriesOutput], list[dict]]:
    outputs: dict[SeriesKey, SeriesOutput] = {}
    failures = []
    for key, series in inputs.items():
        try:
            outputs[key] = analyse_series(series)
        except Exception as exc:  # one bad series must not stop the others
            logger.exception("Series %s failed", key)
            failures.append({"series": list(key), "error": str(exc)})
    return outputs, failures


def _chunk(
    outputs: dict[SeriesKey, SeriesOutput],
    failures: list[dict],
    *,
    run_id: int,
    now: datetime,
    copy: bool,
) -> _Chunk:
    chunk = _Chunk(
        keys=list(outputs),
        rules={key: output.rules for key, output in outputs.items()},
        failures=failures,
        now=now,
    )
    if copy:
        lines = []
        for key, output in outputs.items():
            try:
                lines.append(_copy_line(key, output.fields, run_id, now))
            except ValueError as exc:
                _unstorable(chunk, key, exc)
        chunk.copy_text = "".join(lines)
        return chunk
    for key, output in outputs.items():
        values = dict(RESULT_DEFAULTS)
        values.update(
            {k: v for k, v in output.plain_fields().items() if k in RESULT_DEFAULTS}
        )
        try:
            for name in JSON_FIELDS:
                _JSON.encode(values[name])
        except ValueError as exc:
            _unstorable(chunk, key, exc)
            continue
        values.update(run_id=run_id, computed_at=now)
        chunk.values.append((key, values))
    return chunk


def _unstorable(chunk: _Chunk, key: SeriesKey, exc: ValueError) -> None:
    """A result with NaN in its JSON (no JSON column takes it) fails on its own,
    not with the whole chunk's transaction."""
    chunk.failures.append({"series": list(key), "error": f"Cannot store: {exc}"})
    del chunk.rules[key]
    chunk.keys.remove(key)


@transaction.atomic
def _write(chunk: _Chunk, run: RecomputeRun, *, fast: bool) -> None:
    """Replace the results of the chunk's series and open or close their flags, at
    once. `fast` (PostgreSQL) writes the chunk's COPY text instead of using the ORM."""
    if fast:
        _write_results_copy(chunk.copy_text or "")
    else:
        SeriesResult.objects.bulk_create(
            [
                SeriesResult(
                    indicator_id=key[0], area_id=key[1], breakdown=key[2], **values
                )
                for key, values in chunk.values
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["indicator", "area", "breakdown"],
            update_fields=RESULT_FIELDS,
        )
    _update_flags(chunk.rules, run, chunk.now, fast=fast)


def _update_flags(
    fired_rules: dict[SeriesKey, dict[str, str]], run: RecomputeRun, now, *, fast: bool
) -> None:
    indicator_ids = {k[0] for k in fired_rules}
    area_ids = {k[1] for k in fired_rules}
    systems = dict(
        Indicator.objects.filter(pk__in=indicator_ids).values_list("pk", "system_id")
    )
    rules_by_system = {
        system_id: default_rules(CommissioningSystem(pk=system_id))
        for system_id in set(systems.values())
    }
    open_flags = ExceptionFlag.objects.filter(
        indicator_id__in=indicator_ids, cleared_at__isnull=True
    )
    if len(area_ids) <= CHUNK:
        open_flags = open_flags.filter(area_id__in=area_ids)
    current: dict[SeriesKey, dict[str, tuple[int, str, str]]] = defaultdict(dict)
    for (
        flag_id,
        indicator_id,
        area_id,
        breakdown,
        rule,
        reason,
        severity,
    ) in open_flags.values_list(
        "id", "indicator_id", "area_id", "breakdown", "rule", "reason", "severity"
    ):
        current[indicator_id, area_id, breakdown][rule] = (flag_id, reason, severity)
    to_close: list[int] = []
    to_update: list[tuple[int, str, str]] = []
    to_open: list[tuple] = []
    for key, rules in fired_rules.items():
        enabled = rules_by_system[systems[key[0]]]
        fired = {
            rule: reason[:300] for rule, reason in rules.items() if rule in enabled
        }
        flags = current.get(key, {})
        for rule, (flag_id, reason, severity) in flags.items():
            if rule not in fired:
                to_close.append(flag_id)
            elif reason != fired[rule] or severity != enabled[rule]:
                to_update.append((flag_id, fired[rule], enabled[rule]))
        for rule, reason in fired.items():
            if rule not in flags:
                to_open.append((*key, rule, enabled[rule], reason))
    if fast:
        _write_flags_sql(to_close, to_update, to_open, run, now)
        return
    for offset in range(0, len(to_close), CHUNK):
        ExceptionFlag.objects.filter(pk__in=to_close[offset : offset + CHUNK]).update(
            cleared_at=now, cleared_run=run
        )
    ExceptionFlag.objects.bulk_update(
        [ExceptionFlag(pk=i, reason=r, severity=s) for i, r, s in to_update],
        ["reason", "severity"],
        batch_size=500,
    )
    names = ("indicator_id", "area_id", "breakdown", "rule", "severity", "reason")
    ExceptionFlag.objects.bulk_create(
        [
            ExceptionFlag(
                **dict(zip(names, row, strict=False)), raised_at=now, raised_run=run
            )
            for row in to_open
        ],
        batch_size=500,
    )


# --- the per-series engine ---------------------------------------------------------


def _recompute_per_series(
    run: RecomputeRun,
    keys: list[SeriesKey] | None,
    indicator_ids: list[int] | None,
    as_at: date,
) -> tuple[int, list[dict], str]:
    if keys is None:
        keys = _series_keys_with_data(indicator_ids)
    failures: list[dict] = []
    for offset in range(0, len(keys), CHUNK):
        chunk = keys[offset : offset + CHUNK]
        try:
            failures.extend(_recompute_chunk(chunk, run, as_at))
        except Exception as exc:  # a chunk fails whole; the others still land
            logger.exception("Recompute chunk failed")
            failures.extend({"series": list(k), "error": str(exc)} for k in chunk)
    return len(keys), failures, f"per-series engine, {CHUNK} series a transaction"


def _recompute_chunk(
    keys: list[SeriesKey], run: RecomputeRun, as_at: date
) -> list[dict]:
    """Read, analyse and write these series, one by one with the ORM."""
    inputs = _load_inputs(keys, as_at)
    outputs, failures = _analyse(inputs)
    chunk = _chunk(outputs, failures, run_id=run.pk, now=timezone.now(), copy=False)
    _write(chunk, run, fast=False)
    return failures


def _load_inputs(keys: list[SeriesKey], as_at: date) -> dict[SeriesKey, SeriesInput]:
    context = _Context.load({k[0] for k in keys})
    england = context.england
    area_ids = {k[1] for k in keys}
    wanted_keys = set(keys)
    rows = (
        Observation.objects.filter(
            is_current=True,
            value__isnull=False,
            indicator_id__in=list(context.indicators),
            area_id__in=area_ids | ({england} if england else set()),
        )
        .values_list(
            "id", "indicator_id", "area_id", "breakdown", "source_return_id",
            "period_id", "period__label", "period__start", "period__end", "value",
            "lower_ci", "upper_ci", "numerator", "denominator", "is_synthetic",
        )
        .order_by("period__start")
    )  # fmt: skip
    points: dict[SeriesKey, list[Point]] = defaultdict(list)
    england_values: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    for row in rows:
        key = (row[1], row[2], row[3])
        if row[2] == england:
            england_values[row[1], row[3]][row[5]] = row[9]
        if key in wanted_keys:
            points[key].append(
                Point(
                    observation_id=row[0], return_id=row[4], period_id=row[5],
                    label=row[6], start=row[7], end=row[8], value=row[9],
                    lower=row[10], upper=row[11], numerator=row[12],
                    denominator=row[13], is_synthetic=row[14],
                )
            )  # fmt: skip
    return {
        key: context.series_input(
            key,
            points=points.get(key, []),
            england_by_period=england_values.get((key[0], key[2]), {}),
            as_at=as_at,
        )
        for key in keys
    }


# --- the batch engine --------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """A chunk to compute: these indicators' series (all of them, or those named)."""

    indicator_ids: list[int]
    keys: list[SeriesKey] | None


def _recompute_batched(
    run: RecomputeRun,
    keys: list[SeriesKey] | None,
    indicator_ids: list[int] | None,
    as_at: date,
    workers: int | None,
) -> tuple[int, list[dict], str]:
    fast = connection.vendor == "postgresql"
    if keys is None:
        specs = [_Spec(ids, None) for ids in _indicator_chunks(indicator_ids)]
    else:
        specs = [
            _Spec(sorted({k[0] for k in part}), part)
            for part in (
                keys[i : i + BATCH_SERIES] for i in range(0, len(keys), BATCH_SERIES)
            )
        ]
    if workers is None:
        workers = WORKERS if fast and len(specs) > 1 else 0
    context = _Context.load({i for spec in specs for i in spec.indicator_ids})
    seconds: dict[str, float] = defaultdict(float)
    count, failures = 0, []
    chunks = _computed_chunks(specs, context, run, as_at, fast, workers, seconds)
    for spec, outcome in chunks:
        clock = time.monotonic()
        try:
            if isinstance(outcome, Exception):
                raise outcome
            seconds["compute"] += outcome.seconds
            _write(outcome, run, fast=fast)
            count += len(outcome.keys) + len(outcome.failures)
            failures.extend(outcome.failures)
        except Exception as exc:  # a chunk fails whole; the others still land
            logger.exception("Recompute chunk failed", exc_info=exc)
            lost = (
                spec.keys
                if spec.keys is not None
                else _series_keys_with_data(spec.indicator_ids)
            )
            count += len(lost)
            failures.extend({"series": list(k), "error": str(exc)} for k in lost)
        seconds["write"] += time.monotonic() - clock
    workers = int(seconds.pop("workers", 0))
    mode = f"{workers} worker processes" if workers else "in process"
    if seconds.pop("threaded", False):
        mode += ", reading ahead on a second connection"
    detail = (
        f"batch engine, {len(specs)} chunk(s), {mode}; seconds spent reading "
        f"{seconds['read']:.1f}, computing {seconds['compute']:.1f}, writing "
        f"{seconds['write']:.1f}"
    )
    return count, failures, detail


def _computed_chunks(
    specs: list[_Spec],
    context: _Context,
    run: RecomputeRun,
    as_at: date,
    fast: bool,
    workers: int,
    seconds: dict[str, float],
) -> Iterator[tuple[_Spec, _Chunk | Exception]]:
    """Each chunk computed, in order. With workers, chunks are read and computed
    ahead (a few at once) while the caller writes the previous ones."""
    pending: deque[tuple[_Spec, Future]] = deque()
    with _executor(workers) as executor:
        seconds["workers"] = 0 if isinstance(executor, _InProcess) else workers
        # Outside a transaction, a second connection reads while this one writes.
        threaded = fast and workers > 0 and not connection.in_atomic_block
        seconds["threaded"] = threaded
        ahead = _read_ahead(specs, context, seconds, threaded=threaded)

        def submit() -> None:
            item = next(ahead, None)
            if item is None:
                return
            spec, values = item
            future: Future
            if isinstance(values, Exception):
                future = Future()
                future.set_exception(values)
            else:
                future = executor.submit(
                    _compute_chunk, *values, spec.keys, context, as_at,
                    timezone.now(), run.pk, fast,
                )  # fmt: skip
            pending.append((spec, future))

        try:
            for _ in range(max(workers, 0) + 1):
                submit()
            while pending:
                spec, future = pending.popleft()
                try:
                    outcome: _Chunk | Exception = future.result()
                except Exception as exc:
                    outcome = exc
                submit()  # read the next chunk while the workers compute
                yield spec, outcome
        finally:
            ahead.close()


def _read_ahead(
    specs: list[_Spec],
    context: _Context,
    seconds: dict[str, float],
    *,
    threaded: bool,
) -> Iterator[tuple[_Spec, tuple[pd.DataFrame, _Periods] | Exception]]:
    """Each chunk's values (or why they could not be read), in order; with `threaded`,
    read by a thread on its own connection, two chunks ahead at most."""

    def read(spec: _Spec):
        clock = time.monotonic()
        try:
            areas = None
            if spec.keys is not None:
                areas = {k[1] for k in spec.keys} | (
                    {context.england} if context.england else set()
                )
            return _read_chunk(spec.indicator_ids, areas)
        except Exception as exc:
            return exc
        finally:
            seconds["read"] += time.monotonic() - clock

    if not threaded:
        for spec in specs:
            yield spec, read(spec)
        return
    done = object()
    items: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def reader() -> None:
        try:
            for spec in specs:
                item = (spec, read(spec))
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        finally:
            connection.close()  # this thread's own connection
            items.put(done)

    thread = threading.Thread(target=reader, name="recompute-reader", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not done:
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a blocked reader finish
            with contextlib.suppress(queue.Empty):
                items.get(timeout=0.1)
        thread.join()


@contextmanager
def _executor(workers: int) -> Iterator[Executor]:
    if workers <= 0:
        yield _InProcess()
        return
    # Forked workers inherit the loaded code and never touch the database; they live
    # for one run, so they leave cyclic garbage collection off (see _cyclic_gc_paused).
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=gc.disable,
    )
    try:
        pool.submit(int).result()  # starts the workers, or fails here
    except Exception:  # e.g. in a process that may not have children
        logger.warning("No worker processes; computing in process.", exc_info=True)
        pool.shutdown(wait=False, cancel_futures=True)
        yield _InProcess()
        return
    with pool:
        yield pool


class _InProcess(Executor):
    """Computes at submission, in this process: the same results as the workers."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def _compute_chunk(
    frame: pd.DataFrame,
    periods: _Periods,
    keys: list[SeriesKey] | None,
    context: _Context,
    as_at: date,
    now: datetime,
    run_id: int,
    copy: bool,
) -> _Chunk:
    """Pure: a chunk's values in, its results out (in a worker or in process)."""
    started = time.monotonic()
    with _cyclic_gc_paused():
        chunk = _computed(frame, periods, keys, context, as_at, now, run_id, copy)
    chunk.seconds = time.monotonic() - started
    return chunk


def _computed(frame, periods, keys, context, as_at, now, run_id, copy) -> _Chunk:
    # Its millions of intermediate objects are gone when it returns.
    inputs = _batch_inputs(frame, periods, keys, context, as_at)
    outputs, failures = _analyse(inputs)
    return _chunk(outputs, failures, run_id=run_id, now=now, copy=copy)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A chunk makes millions of small objects, none in a cycle: collecting them
    as they come would traverse them again and again, while reference counting frees
    them all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _indicator_chunks(indicator_ids: list[int] | None) -> list[list[int]]:
    """Indicators grouped so that a chunk holds about BATCH_ROWS current values (an
    indicator is never split: its England series is read with its other series)."""
    qs = Observation.objects.filter(is_current=True, value__isnull=False)
    if indicator_ids is not None:
        qs = qs.filter(indicator_id__in=indicator_ids)
    counts = (
        qs.values_list("indicator_id")
        .annotate(n=Count("id"))
        .order_by("indicator_id")
        .values_list("indicator_id", "n")
    )
    chunks: list[list[int]] = []
    size = 0
    for indicator_id, n in counts:
        if not chunks or size + n > BATCH_ROWS:
            chunks.append([])
            size = 0
        chunks[-1].append(indicator_id)
        size += n
    return chunks


@dataclass(frozen=True)
class _Periods:
    """Every period, by id: a small table that travels with a chunk's values."""

    ids: np.ndarray  # sorted
    starts: np.ndarray  # datetime64
    ends: np.ndarray  # dates (objects)
    labels: np.ndarray  # str (objects)

    @classmethod
    def load(cls) -> _Periods:
        rows = list(
            Period.objects.order_by("id").values_list("id", "start", "end", "label")
        )
        ids, starts, ends, labels = (
            zip(*rows, strict=True) if rows else ((), (), (), ())
        )
        return cls(
            ids=np.array(ids, dtype=np.int64),
            starts=np.array(starts, dtype="datetime64[D]"),
            ends=np.array(ends, dtype=object),
            labels=np.array(labels, dtype=object),
        )

    def index(self, period_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, period_ids)


def read_current_observations(
    indicator_ids: Collection[int] | None, area_ids: Collection[int] | None = None
) -> pd.DataFrame:
    """The current values of these indicators (and areas) as columns, with each
    period's start, end and label; missing optional numbers are NaN."""
    frame, periods = _read_chunk(indicator_ids, area_ids)
    at = periods.index(frame["period_id"].to_numpy())
    frame["period_end"] = periods.ends[at]
    frame["period_label"] = periods.labels[at]
    return frame


def _read_chunk(
    indicator_ids: Collection[int] | None, area_ids: Collection[int] | None
) -> tuple[pd.DataFrame, _Periods]:
    """The current values as columns (with their period's start, for ordering) and the
    periods, read after them so that every period they name is there. PostgreSQL sends
    the values as CSV text in a few large rows; the ORM reads them elsewhere."""
    if connection.vendor == "postgresql":
        frame = _csv_frame(indicator_ids, area_ids)
    else:
        qs = Observation.objects.filter(is_current=True, value__isnull=False)
        if indicator_ids is not None:
            qs = qs.filter(indicator_id__in=list(indicator_ids))
        if area_ids is not None:
            qs = qs.filter(area_id__in=list(area_ids))
        rows = list(qs.order_by().values_list(*OBSERVATION_COLUMNS))
        frame = pd.DataFrame.from_records(rows, columns=list(OBSERVATION_COLUMNS))
    for name in ("id", "indicator_id", "area_id", "source_return_id", "period_id"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("value", *OPTIONAL_NUMBERS):
        frame[name] = frame[name].astype(float)
    frame["is_synthetic"] = frame["is_synthetic"].astype(bool)
    frame["breakdown"] = frame["breakdown"].astype(object)
    periods = _Periods.load()
    frame["period_start"] = periods.starts[periods.index(frame["period_id"].to_numpy())]
    return frame, periods


def _csv_frame(
    indicator_ids: Collection[int] | None, area_ids: Collection[int] | None
) -> pd.DataFrame:
    """The rows as CSV lines that the server aggregates into a few large texts, one
    per indicator and breakdown (and slice of areas): COPY would send a message a row,
    and reading three million of them here costs seconds."""
    meta = Observation._meta
    column = {
        name: meta.get_field(name.removesuffix("_id")).column
        for name in OBSERVATION_COLUMNS
    }
    per_row = [name for name in OBSERVATION_COLUMNS if name not in GROUPED]
    text = {name: f"coalesce({column[name]}::text, '')" for name in OPTIONAL_NUMBERS}
    text["is_synthetic"] = f"{column['is_synthetic']}::int"
    line = ", ".join(text.get(name, column[name]) for name in per_row)
    where = [f"{column['value']} IS NOT NULL", meta.get_field("is_current").column]
    params: list = []
    if indicator_ids is not None:
        where.append(f"{column['indicator_id']} = ANY(%s)")
        params.append(list(indicator_ids))
    if area_ids is not None:
        where.append(f"{column['area_id']} = ANY(%s)")
        params.append(list(area_ids))
    grouped = ", ".join(column[name] for name in GROUPED)
    sql = (
        f"SELECT {grouped}, string_agg(concat_ws(',', {line}), E'\\n') "  # noqa: S608 (names from the model)
        f"FROM {meta.db_table} WHERE {' AND '.join(where)} "
        f"GROUP BY {grouped}, {column['area_id']} %% 8"  # texts of bounded size
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        groups = cursor.fetchall()
    if not groups:
        return pd.DataFrame({name: [] for name in OBSERVATION_COLUMNS})
    frame = pd.read_csv(
        io.StringIO("\n".join(group[-1] for group in groups)),
        names=per_row,
        header=None,
        keep_default_na=False,
        na_values={name: [""] for name in ("value", *OPTIONAL_NUMBERS)},
    )
    lines = [group[-1].count("\n") + 1 for group in groups]
    for at, name in enumerate(GROUPED):
        frame[name] = np.repeat(np.array([g[at] for g in groups], dtype=object), lines)
    return frame


def _batch_inputs(
    frame: pd.DataFrame,
    periods: _Periods,
    keys: list[SeriesKey] | None,
    context: _Context,
    as_at: date,
) -> dict[SeriesKey, SeriesInput]:
    """One SeriesInput per series of the frame (or per named key, with or without
    values), each with its columns in time order and its row of one SPC batch."""
    breakdown_code, breakdowns = pd.factorize(frame["breakdown"], sort=True)
    indicator = frame["indicator_id"].to_numpy()
    area = frame["area_id"].to_numpy()
    order = np.lexsort(
        (
            frame["id"].to_numpy(),
            frame["period_start"].to_numpy(),
            breakdown_code,
            area,
            indicator,
        )
    )
    indicator, area, breakdown_code = (
        indicator[order],
        area[order],
        breakdown_code[order],
    )
    new_series = np.ones(order.size, dtype=bool)
    new_series[1:] = (
        (indicator[1:] != indicator[:-1])
        | (area[1:] != area[:-1])
        | (breakdown_code[1:] != breakdown_code[:-1])
    )
    starts = np.flatnonzero(new_series)
    offsets = np.append(starts, order.size).astype(np.int64).tolist()
    series_indicator = indicator[starts].tolist()
    series_area = area[starts].tolist()
    series_breakdown = [breakdowns[c] for c in breakdown_code[starts].tolist()]

    values = np.ascontiguousarray(frame["value"].to_numpy()[order])
    batch = spc_batch(
        values,
        np.asarray(offsets),
        improvement_direction=[
            polarity_sign(context.indicators[i].polarity) for i in series_indicator
        ],
        screen_outliers=[
            context.indicators[i].screen_outliers for i in series_indicator
        ],
    )
    column = {
        name: frame[name].to_numpy()[order]
        for name in ("id", "source_return_id", "period_id", *OPTIONAL_NUMBERS)
    }
    at = periods.index(column["period_id"])
    column["period_label"] = periods.labels[at]
    column["period_end"] = periods.ends[at]
    column["is_synthetic"] = frame["is_synthetic"].to_numpy()[order]
    column = {name: array.tolist() for name, array in column.items()}
    value_list = values.tolist()

    england: dict[tuple[int, str], dict[int, float]] = {}
    for s, area_id in enumerate(series_area):
        if area_id == context.england:
            a, b = offsets[s], offsets[s + 1]
            england[series_indicator[s], series_breakdown[s]] = dict(
                zip(column["period_id"][a:b], value_list[a:b], strict=True)
            )

    wanted = set(keys) if keys is not None else None
    inputs: dict[SeriesKey, SeriesInput] = {}
    for s, key in enumerate(
        zip(series_indicator, series_area, series_breakdown, strict=True)
    ):
        if wanted is not None and key not in wanted:
            continue
        a, b = offsets[s], offsets[s + 1]
        inputs[key] = context.series_input(
            key,
            points=[],
            columns=PointColumns(
                observation_ids=column["id"][a:b],
                return_ids=column["source_return_id"][a:b],
                period_ids=column["period_id"][a:b],
                labels=column["period_label"][a:b],
                ends=column["period_end"][a:b],
                values=value_list[a:b],
                lower=column["lower_ci"][a:b],
                upper=column["upper_ci"][a:b],
                numerator=column["numerator"][a:b],
                denominator=column["denominator"][a:b],
                is_synthetic=column["is_synthetic"][a:b],
            ),
            spc_row=BatchRow(batch, s),
            england_by_period=england.get((key[0], key[2]), {}),
            as_at=as_at,
        )
    if keys is not None:  # a named series without values gets "No values yet"
        for key in keys:
            if key not in inputs:
                inputs[key] = context.series_input(
                    key, points=[], england_by_period={}, as_at=as_at
                )
        inputs = {key: inputs[key] for key in keys}
    return inputs


# --- writing with COPY (PostgreSQL) ------------------------------------------------

COPY_COLUMNS = ["indicator_id", "area_id", "breakdown", *RESULT_FIELDS]
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_line(key: SeriesKey, fields: dict, run_id: int, now: datetime) -> str:
    """One result row in COPY's text format. JSON goes as the text jsonb prints for it
    (json.dumps keeping non-ASCII: the same separators, and our dicts are built in
    jsonb's key order), so an unchanged stored value is recognised by its text."""
    texts = [str(key[0]), str(key[1]), _copy_text(key[2])]
    for name, default, write in _COPY_FORMATS:
        value = (
            run_id if name == "run_id"
            else now if name == "computed_at"
            else fields.get(name, default)
        )  # fmt: skip
        texts.append("\\N" if value is None else write(value))
    return "\t".join(texts) + "\n"


def _copy_format(internal_type: str):
    """How COPY's text format writes a value of this kind of field (never None)."""
    if internal_type == "JSONField":
        return lambda value: _copy_text(_json_text(value))
    if internal_type == "FloatField":
        return lambda value: float.__repr__(float(value))
    if internal_type == "BooleanField":
        return lambda value: "t" if value else "f"
    if internal_type == "DateTimeField":
        return datetime.isoformat
    if "Integer" in internal_type or internal_type == "ForeignKey":
        return lambda value: str(int(value))
    return lambda value: _copy_text(str(value))


# Per result column, in COPY_COLUMNS' order: name, default, writer.
_COPY_FORMATS = [
    (f.attname, RESULT_DEFAULTS[f.attname], _copy_format(f.get_internal_type()))
    for f in SeriesResult._meta.concrete_fields
    if f.attname in RESULT_DEFAULTS
]


def _copy_text(text: str) -> str:
    if "\\" in text or "\n" in text or "\r" in text or "\t" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _json_text(value: dict | list) -> str:
    """json.dumps(value, ensure_ascii=False) of plain fields; a batch row's points
    write their own text. NaN raises ValueError: jsonb has no such number, and one
    series must not fail its whole chunk."""
    if isinstance(value, dict) and isinstance(value.get("points"), BatchPoints):
        return (
            "{"
            + ", ".join(
                _json_key(k)
                + (v.json() if isinstance(v, BatchPoints) else _JSON.encode(v))
                for k, v in value.items()
            )
            + "}"
        )
    return _JSON.encode(value)


# One encoder for every value: json.dumps with options builds a new one each call.
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


@lru_cache(maxsize=64)
def _json_key(key: str) -> str:
    return f"{_JSON.encode(key)}: "


def _write_results_copy(copy_text: str) -> None:
    """COPY the rows into a temporary table (JSON as plain text), then update the
    existing results and insert the new ones. A JSON value whose text equals what is
    stored keeps the stored value: parsing jsonb is the costliest part of the write,
    and most values are unchanged from one night to the next."""
    quote = connection.ops.quote_name
    table = quote(SeriesResult._meta.db_table)
    incoming = "scorecard_result_incoming"
    names = ", ".join(quote(c) for c in COPY_COLUMNS)
    same = " AND ".join(
        f"r.{c} = t.{c}" for c in ("indicator_id", "area_id", "breakdown")
    )
    new_value = {
        c: f"t.{quote(c)}::jsonb" if c in JSON_FIELDS else f"t.{quote(c)}"
        for c in COPY_COLUMNS
    }
    kept_value = {
        c: (
            f"CASE WHEN r.{quote(c)}::text = t.{quote(c)} THEN r.{quote(c)} "
            f"ELSE t.{quote(c)}::jsonb END"
        )
        if c in JSON_FIELDS
        else f"t.{quote(c)}"
        for c in RESULT_FIELDS
    }
    with connection.cursor() as cursor:
        if _lz4_available(cursor):  # new values compress several times faster
            cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {incoming} ON COMMIT DROP AS "  # noqa: S608 (names from the models)
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        for c in JSON_FIELDS:
            cursor.execute(
                f"ALTER TABLE {incoming} ALTER COLUMN {quote(c)} TYPE text, "
                f"ALTER COLUMN {quote(c)} SET STORAGE EXTERNAL"
            )
        with cursor.cursor.copy(f"COPY {incoming} ({names}) FROM STDIN") as copy:
            copy.write(copy_text)
        cursor.execute(
            f"UPDATE {table} AS r SET "  # noqa: S608 (names from the models)
            + ", ".join(f"{quote(c)} = {kept_value[c]}" for c in RESULT_FIELDS)
            + f" FROM {incoming} AS t WHERE {same}"
        )
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT "  # noqa: S608 (names from the models)
            + ", ".join(new_value[c] for c in COPY_COLUMNS)
            + f" FROM {incoming} AS t WHERE NOT EXISTS "  # noqa: S608 (names from the models)
            f"(SELECT 1 FROM {table} AS r WHERE {same}) "
            "ON CONFLICT (indicator_id, area_id, breakdown) DO UPDATE SET "
            + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in RESULT_FIELDS)
        )
        cursor.execute(f"DROP TABLE {incoming}")


def _lz4_available(cursor) -> bool:
    cursor.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
        "WHERE name = 'default_toast_compression'"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def _write_flags_sql(to_close, to_update, to_open, run: RecomputeRun, now) -> None:
    table = connection.ops.quote_name(ExceptionFlag._meta.db_table)
    with connection.cursor() as cursor:
        if to_close:
            cursor.execute(
                f"UPDATE {table} SET cleared_at = %s, cleared_run_id = %s "  # noqa: S608 (names from the models)
                "WHERE id = ANY(%s)",
                [now, run.pk, to_close],
            )
        if to_update:
            ids, reasons, severities = (list(c) for c in zip(*to_update, strict=True))
            cursor.execute(
                f"UPDATE {table} AS flag SET reason = new.reason, "  # noqa: S608 (names from the models)
                "severity = new.severity FROM unnest(%s::bigint[], %s::text[], "
                "%s::text[]) AS new(id, reason, severity) WHERE flag.id = new.id",
                [ids, reasons, severities],
            )
        if to_open:
            with cursor.cursor.copy(
                f"COPY {table} (indicator_id, area_id, breakdown, rule, severity, "
                "reason, raised_at, raised_run_id) FROM STDIN"
            ) as copy:
                for row in to_open:
                    copy.write_row((*row, now, run.pk))


# --- entry points ------------------------------------------------------------------


QUEUED_RECOMPUTE_LOCK = "scorecard.queued-recompute"
FULL_RECOMPUTE_LOCK = "scorecard.full-recompute"
INTERRUPTED = (
    "Interrupted: the worker stopped before the run finished. Its series were "
    "recomputed by a later run."
)


def recompute_queued(*, limit: int = 100_000) -> RecomputeRun | None:
    """Recompute the series a committed or rolled-back return queued (the durable outbox),
    each once however often it was queued. Runs one at a time: a second caller waits,
    then finds only what was queued since (results are replaced whole in any case)."""
    with advisory_lock(QUEUED_RECOMPUTE_LOCK, wait=True):
        _close_interrupted_runs(RecomputeRun.Kind.QUEUED)
        pending = list(
            RecomputeRequest.objects.filter(processed_at__isnull=True)
            .order_by("created_at", "id")
            .values_list("id", "indicator_id", "area_id", "breakdown")[:limit]
        )
        if not pending:
            return None
        run = recompute(
            kind=RecomputeRun.Kind.QUEUED, series={tuple(p[1:]) for p in pending}
        )
        RecomputeRequest.objects.filter(pk__in=[p[0] for p in pending]).update(
            processed_at=timezone.now()
        )
        return run


def _close_interrupted_runs(kind: str) -> None:
    """Runs of `kind` still marked running while this process holds their lock were
    left by a worker that died (its lock went with its connection): say so, so no page
    shows them running for ever. SQLite has no such locks, nor workers to lose."""
    if connection.vendor != "postgresql":
        return
    RecomputeRun.objects.filter(kind=kind, status=RecomputeRun.Status.RUNNING).update(
        status=RecomputeRun.Status.FAILED,
        finished_at=timezone.now(),
        detail=INTERRUPTED,
    )


def recompute_everything() -> RecomputeRun | None:
    """The nightly full recompute; returns None when another one is already running."""
    with advisory_lock(FULL_RECOMPUTE_LOCK) as acquired:
        if not acquired:
            logger.info("A full recompute is already running; not starting another.")
            return None
        _close_interrupted_runs(RecomputeRun.Kind.FULL)
        return recompute(kind=RecomputeRun.Kind.FULL)
