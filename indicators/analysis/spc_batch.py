"""Making Data Count XmR charts for many series at once, vectorised with NumPy.

`spc_batch` computes, for every series of a batch, exactly what `spc.spc` computes for
it alone: the same floats bit for bit (mean, mR-bar, limits, 2-sigma lines), the same
point types, rules and sides, and through `SpcBatch.result` the same `SpcResult`: the
variation, its icon, the assurance and both one-line reasons, written by the very
functions `spc.spc` uses (`spc_text.variation_reason`, `spc_text.assurance_with_reason`).
The property tests in tests/unit/indicators/test_spc_batch.py hold it to that.

What it covers: a series of one group (no rebase point) whose limits come from all its
points (no fixed limits), with or without moving-range screening, any improvement
direction: the scorecard's usual case. A series with rebase points or fixed limits goes
through `spc.spc` (the caller's choice); a series below `MINIMUM_POINTS` or with a
missing value is left uncomputed here and `SpcBatch.result` hands it to `spc.spc`, which
says "not enough data" or raises exactly as it would alone.

How the floats stay identical: series are processed in blocks of equal length (ragged
groups, no padding), so every mean is NumPy's own reduction over a contiguous row of
the same length as `spc.spc`'s 1-D array, summed in the same (pairwise) order; the
screened mR-bar likewise averages the kept moving ranges compacted into rows of equal
count. Padding with zeros or NaN would change the summation order, and a mean one unit
in the last place away can move a point that sits exactly on the mean off it.

Pure: numpy only, no Django.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from indicators.analysis.common import check_labels, frozen_inputs, point_label
from indicators.analysis.spc import (
    METHOD,
    MINIMUM_POINTS,
    PROCESS_LIMIT_FACTOR,
    SCREENING_FACTOR,
    TRIAL_LIMITS_BELOW,
    TWO_SIGMA_FACTOR,
    SpcGroup,
    SpcPoint,
    SpcResult,
    XmrLimits,
    _icon,
    spc,
)
from indicators.analysis.spc_rules import (
    COMMON_CAUSE,
    CONCERN,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    RULES_IN_PRIORITY_ORDER,
    RUN_LENGTH,
)
from indicators.analysis.spc_text import assurance_with_reason, variation_reason

# Codes of the per-point arrays; index into these tuples for the names spc.py uses.
POINT_TYPES = (COMMON_CAUSE, IMPROVEMENT, CONCERN, NEUTRAL_HIGH, NEUTRAL_LOW)
RULES = (None, *RULES_IN_PRIORITY_ORDER)  # 0: no rule; 1..4 in priority order
SIDES = {1: "high", -1: "low"}


def ragged(series: Iterable[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Series of any lengths as one flat array of values and the offsets of each
    series in it (series i is values[offsets[i]:offsets[i + 1]])."""
    arrays = [np.asarray(s, dtype=float).ravel() for s in series]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    values = np.concatenate(arrays) if arrays else np.empty(0)
    return values, offsets


def from_padded(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D array (series x points), each row's values first and NaN after them, as
    `ragged` gives it. A NaN before a row's last value is a missing value."""
    array = np.asarray(array, dtype=float)
    present = ~np.isnan(array)
    lengths = np.where(
        present.any(axis=1), array.shape[1] - np.argmax(present[:, ::-1], axis=1), 0
    )
    return ragged(row[:n] for row, n in zip(array, lengths, strict=True))


@dataclass(frozen=True, eq=False)
class SpcBatch:
    """The XmR charts of a batch of series. Per series (index i): `computed[i]` says
    whether the batch computed it; its limits; its points' codes in the flat arrays
    (`POINT_TYPES[point_type[j]]`, `RULES[rule[j]]`, side +1/-1/0)."""

    values: np.ndarray
    offsets: np.ndarray
    improvement_direction: np.ndarray
    screen_outliers: np.ndarray
    computed: np.ndarray
    mean: np.ndarray
    mr_bar: np.ndarray
    lower_limit: np.ndarray
    upper_limit: np.ndarray
    lower_two_sigma: np.ndarray
    upper_two_sigma: np.ndarray
    moving_ranges_screened: np.ndarray
    point_type: np.ndarray
    rule: np.ndarray
    side: np.ndarray

    def __len__(self) -> int:
        return self.offsets.size - 1

    def series_values(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def limits(self, i: int) -> XmrLimits:
        s = self._scalars
        return XmrLimits(
            mean=s["mean"][i],
            mr_bar=s["mr_bar"][i],
            lower_limit=s["lower_limit"][i],
            upper_limit=s["upper_limit"][i],
            lower_two_sigma=s["lower_two_sigma"][i],
            upper_two_sigma=s["upper_two_sigma"][i],
            points_used=int(self.offsets[i + 1] - self.offsets[i]),
            moving_ranges_screened=s["moving_ranges_screened"][i],
        )

    def result(
        self,
        i: int,
        *,
        period_labels: Sequence[str] | None = None,
        target: float | None = None,
        unit: str = "",
        decimals: int = 1,
    ) -> SpcResult:
        """Series i's `SpcResult`, equal to `spc.spc(values, ...)` with this batch's
        improvement direction and screening. Its `points` is a lazy sequence: a point
        is built when it is read (`records` and `json` give them all at once)."""
        y = self.series_values(i)
        direction = int(self.improvement_direction[i])
        screen = bool(self.screen_outliers[i])
        if not self.computed[i] or y.size < MINIMUM_POINTS:
            return spc(
                y,
                improvement_direction=direction,
                period_labels=period_labels,
                target=target,
                screen_outliers=screen,
                unit=unit,
                decimals=decimals,
            )
        labels = check_labels(period_labels, y.size)
        limits = self.limits(i)
        group = SpcGroup(0, y.size, limits, is_trial=y.size < TRIAL_LIMITS_BELOW)
        points = BatchPoints(self, i, labels, group)
        last = points[-1]
        assurance, assurance_reason = assurance_with_reason(
            limits, target, direction, unit, decimals
        )
        return SpcResult(
            method=METHOD,
            inputs=frozen_inputs(
                values=tuple(y.tolist()),
                period_labels=labels,
                improvement_direction=direction,
                target=target,
                rebase_at=(),
                fix_after_n_points=None,
                screen_outliers=screen,
            ),
            enough_data=True,
            points=points,  # type: ignore[arg-type]  # a Sequence, read lazily
            groups=(group,),
            variation=last.point_type,
            variation_icon=_icon(last),
            assurance=assurance,
            assurance_reason=assurance_reason,
            reason=variation_reason(y, labels, points, group, unit, decimals),  # type: ignore[arg-type]
        )

    @cached_property
    def _scalars(self) -> dict[str, list]:
        """Per-series numbers as Python lists: reading one is then cheap."""
        names = (
            "mean", "mr_bar", "lower_limit", "upper_limit", "lower_two_sigma",
            "upper_two_sigma", "moving_ranges_screened",
        )  # fmt: skip
        return {name: getattr(self, name).tolist() for name in names}


class BatchPoints(Sequence[SpcPoint]):
    """The points of one series of a batch, built on demand from the batch's arrays."""

    def __init__(
        self,
        batch: SpcBatch,
        index: int,
        labels: tuple[str, ...] | None,
        group: SpcGroup,
    ) -> None:
        self._batch = batch
        self._start = int(batch.offsets[index])
        self._size = int(batch.offsets[index + 1]) - self._start
        self._labels = labels
        self._group = group
        self._last: SpcPoint | None = None  # read several times for the reasons

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, j):  # type: ignore[override]
        if isinstance(j, slice):
            return [self[k] for k in range(*j.indices(self._size))]
        if j < 0:
            j += self._size
        if not 0 <= j < self._size:
            raise IndexError("point index out of range")
        if j == self._size - 1 and self._last is not None:
            return self._last
        b, at, lim = self._batch, self._start + j, self._group.limits
        side = int(b.side[at])
        point = SpcPoint(
            index=j,
            label=point_label(j, self._labels),
            value=float(b.values[at]),
            group=0,
            mean=lim.mean,
            lower_limit=lim.lower_limit,
            upper_limit=lim.upper_limit,
            lower_two_sigma=lim.lower_two_sigma,
            upper_two_sigma=lim.upper_two_sigma,
            point_type=POINT_TYPES[b.point_type[at]],
            rule=RULES[b.rule[at]],
            side=SIDES.get(side),
            is_trial=self._group.is_trial,
        )
        if j == self._size - 1:
            self._last = point
        return point

    def records(self) -> list[dict]:
        """Every point as {"rule", "type", "label", "value"} (jsonb's key order),
        without building points."""
        b, stop = self._batch, self._start + self._size
        labels = self._labels or [point_label(j, None) for j in range(self._size)]
        types = [POINT_TYPES[c] for c in b.point_type[self._start : stop].tolist()]
        rules = [RULES[c] for c in b.rule[self._start : stop].tolist()]
        values = b.values[self._start : stop].tolist()
        return [
            {"rule": rule, "type": kind, "label": label, "value": value}
            for label, value, kind, rule in zip(
                labels, values, types, rules, strict=True
            )
        ]

    def json(self) -> str:
        """Exactly `json.dumps(self.records(), ensure_ascii=False)`, several times
        faster: each point's text is a prefix known from its type and rule, its label
        (few distinct ones, cached) and its value."""
        b, stop = self._batch, self._start + self._size
        labels = self._labels or [point_label(j, None) for j in range(self._size)]
        codes = (
            b.rule[self._start : stop].astype(np.intp) * len(POINT_TYPES)
            + b.point_type[self._start : stop]
        ).tolist()
        values = b.values[self._start : stop].tolist()
        text = _json_string
        return (
            "["
            + ", ".join(
                [
                    _POINT_PREFIXES[code] + text(label) + ', "value": '
                    f"{float.__repr__(value)}}}"
                    for code, label, value in zip(codes, labels, values, strict=True)
                ]
            )
            + "]"
        )


_POINT_PREFIXES = [
    f'{{"rule": {json.dumps(rule)}, "type": {json.dumps(kind)}, "label": '
    for rule in RULES
    for kind in POINT_TYPES
]


@lru_cache(maxsize=4096)
def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def spc_batch(
    values: np.ndarray,
    offsets: np.ndarray,
    *,
    improvement_direction: int | Sequence[int] | np.ndarray = 0,
    screen_outliers: bool | Sequence[bool] | np.ndarray = True,
    minimum_points: int = MINIMUM_POINTS,
) -> SpcBatch:
    """XmR charts of every series in `values[offsets[i]:offsets[i + 1]]` (see `ragged`),
    each with one group and limits from all its points. `improvement_direction` (+1, -1
    or 0) and `screen_outliers` are one value for all or one per series. Series below
    `minimum_points` (at least 3) are left uncomputed; a smaller minimum than spc's
    gives limits and rules for shorter series, but `result` still hands them to `spc`."""
    if minimum_points < 3:
        raise ValueError("The batch needs at least 3 points a series.")
    values = np.ascontiguousarray(values, dtype=float)
    offsets = np.asarray(offsets, dtype=np.int64)
    count = offsets.size - 1
    if offsets.size == 0 or offsets[0] != 0 or offsets[-1] != values.size:
        raise ValueError("offsets must run from 0 to the number of values.")
    lengths = np.diff(offsets)
    if (lengths < 0).any():
        raise ValueError("offsets must not decrease.")
    direction = np.broadcast_to(
        np.asarray(improvement_direction, dtype=np.int8), (count,)
    ).copy()
    if not np.isin(direction, (-1, 0, 1)).all():
        raise ValueError("improvement_direction must be +1, -1 or 0.")
    screen = np.broadcast_to(np.asarray(screen_outliers, dtype=bool), (count,)).copy()

    finite = np.isfinite(values)
    bad_before = np.concatenate(([0], np.cumsum(~finite)))
    computed = (lengths >= minimum_points) & (
        bad_before[offsets[1:]] == bad_before[offsets[:-1]]
    )

    nan = np.full(count, np.nan)
    out = {
        "mean": nan.copy(), "mr_bar": nan.copy(), "lower_limit": nan.copy(),
        "upper_limit": nan.copy(), "lower_two_sigma": nan.copy(),
        "upper_two_sigma": nan.copy(),
        "moving_ranges_screened": np.zeros(count, dtype=np.int64),
        "point_type": np.zeros(values.size, dtype=np.int8),
        "rule": np.zeros(values.size, dtype=np.int8),
        "side": np.zeros(values.size, dtype=np.int8),
    }  # fmt: skip
    for size in np.unique(lengths[computed]):
        rows = np.flatnonzero(computed & (lengths == size))
        at = offsets[rows][:, None] + np.arange(size)
        block = _block(values[at], direction[rows], screen[rows])
        for name in ("point_type", "rule", "side"):
            out[name][at] = block.pop(name)
        for name, column in block.items():
            out[name][rows] = column
    return SpcBatch(
        values=values,
        offsets=offsets,
        improvement_direction=direction,
        screen_outliers=screen,
        computed=computed,
        **out,
    )


def _block(y: np.ndarray, direction: np.ndarray, screen: np.ndarray) -> dict:
    """Every number of `count` series of `size` points each (a C-contiguous 2-D block).

    Each step mirrors spc.xmr_limits and spc._group_points, row by row."""
    count, size = y.shape
    mean = y.mean(axis=1)
    moving_ranges = np.abs(np.diff(y, axis=1))
    mr_bar = moving_ranges.mean(axis=1)
    flat = ~moving_ranges.any(
        axis=1
    )  # as spc.xmr_limits: a flat row's mean is its value
    mean[flat] = y[flat, 0]
    screened = np.zeros(count, dtype=np.int64)
    if screen.any():
        kept = moving_ranges < (SCREENING_FACTOR * mr_bar)[:, None]
        kept_count = kept.sum(axis=1)
        # Nothing is kept only when every moving range is 0: mR-bar stays 0.
        rescreen = screen & (kept_count > 0) & (kept_count < size - 1)
        for m in np.unique(kept_count[rescreen]):
            rows = np.flatnonzero(rescreen & (kept_count == m))
            # A boolean mask reads row by row, and each row keeps m: rows of m values
            # in their original order, averaged as spc.py averages its 1-D `kept`.
            compacted = moving_ranges[rows][kept[rows]].reshape(rows.size, m)
            mr_bar[rows] = compacted.mean(axis=1)
            screened[rows] = size - 1 - m
    lower_limit = mean - PROCESS_LIMIT_FACTOR * mr_bar
    upper_limit = mean + PROCESS_LIMIT_FACTOR * mr_bar
    lower_two_sigma = mean - TWO_SIGMA_FACTOR * mr_bar
    upper_two_sigma = mean + TWO_SIGMA_FACTOR * mr_bar

    outside = (y > upper_limit[:, None]) | (y < lower_limit[:, None])
    beyond = (y > upper_two_sigma[:, None]) | (y < lower_two_sigma[:, None])
    sides = np.sign(y - mean[:, None]).astype(np.int8)
    trend = _trend_directions(y)
    two_in_three = _two_in_three(beyond, sides)
    shift = (sides != 0) & (_run_lengths(sides) >= RUN_LENGTH)

    rule = np.select(
        [outside, trend != 0, two_in_three, shift], [1, 2, 3, 4], 0
    ).astype(np.int8)
    side = np.where(rule == 0, 0, np.where(rule == 2, trend, sides)).astype(np.int8)
    d = direction[:, None]
    point_type = np.where(
        side == 0,
        0,
        np.where(d == 0, np.where(side > 0, 3, 4), np.where(side * d > 0, 1, 2)),
    ).astype(np.int8)
    return {
        "mean": mean,
        "mr_bar": mr_bar,
        "lower_limit": lower_limit,
        "upper_limit": upper_limit,
        "lower_two_sigma": lower_two_sigma,
        "upper_two_sigma": upper_two_sigma,
        "moving_ranges_screened": screened,
        "point_type": point_type,
        "rule": rule,
        "side": side,
    }


def _run_lengths(a: np.ndarray) -> np.ndarray:
    """For each element, the length of the run of equal values in its row that holds
    it (runs never cross rows)."""
    starts = np.ones(a.shape, dtype=bool)
    starts[:, 1:] = a[:, 1:] != a[:, :-1]
    run = np.cumsum(starts.ravel()) - 1
    return np.bincount(run)[run].reshape(a.shape)


def _trend_directions(y: np.ndarray) -> np.ndarray:
    """spc_rules.trend_points per row: +1/-1 for points in a run of RUN_LENGTH points
    each strictly higher (lower) than the one before, else 0. A point that ends one
    trend and starts the next takes the later trend's direction."""
    steps = np.sign(np.diff(y, axis=1)).astype(np.int8)
    in_trend = (steps != 0) & (_run_lengths(steps) >= RUN_LENGTH - 1)
    trend_steps = np.where(in_trend, steps, 0).astype(np.int8)
    directions = np.zeros(y.shape, dtype=np.int8)
    directions[:, 1:] = trend_steps  # a step's end point...
    directions[:, :-1] = np.where(in_trend, trend_steps, directions[:, :-1])  # ...start
    return directions


def _two_in_three(beyond: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """spc_rules.two_in_three_points per row."""
    first, middle, last = sides[:, :-2], sides[:, 1:-1], sides[:, 2:]
    same_side = (first != 0) & (first == middle) & (middle == last)
    near = beyond.astype(np.int8)
    windows = same_side & (near[:, :-2] + near[:, 1:-1] + near[:, 2:] >= 2)
    covered = np.zeros(beyond.shape, dtype=bool)
    covered[:, :-2] |= windows
    covered[:, 1:-1] |= windows
    covered[:, 2:] |= windows
    return beyond & covered
