"""Compare a return's values with the current ones: new, revised (old -> new), unchanged.

`compare` works on whole frames (a merge), and `fingerprint` hashes exactly what a preview
shows, so that a commit can prove it applies the same thing.

Pure: imports nothing from Django.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators.periods import PeriodSpec

NEW, REVISED, UNCHANGED = 0, 1, 2
STATUS_NAMES = {NEW: "new", REVISED: "revised", UNCHANGED: "unchanged"}
NUMBERS = ("value", "numerator", "denominator", "lower_ci", "upper_ci")
CURRENT_COLUMNS = [
    "old_id",
    "ind",
    "area",
    "period_id",
    "breakdown",
    *(f"old_{n}" for n in NUMBERS),
    "old_note",
    "old_return",
]


def empty_current() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=float) for name in CURRENT_COLUMNS})
    for name in ("old_id", "ind", "area", "period_id", "old_return"):
        frame[name] = frame[name].astype(np.int64)
    frame["breakdown"] = frame["breakdown"].astype(object)
    frame["old_note"] = frame["old_note"].astype(object)
    return frame


@dataclass
class Comparison:
    frame: pd.DataFrame  # the candidates with period_id, status and old_* columns
    new: int
    revised: int
    unchanged: int


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        close = np.isclose(a, b, rtol=1e-12, atol=0.0)
    return close | (np.isnan(a) & np.isnan(b))


def compare(
    candidates: pd.DataFrame, period_ids: np.ndarray, current: pd.DataFrame
) -> Comparison:
    """`period_ids[i]` is the database id of the i-th parsed period, or -1 when it does
    not exist yet (every value for it is new).

    Each candidate is looked up among the current values by its key (indicator, area,
    period, breakdown), of which the database holds at most one current value: a hash
    lookup on one integer per key, no merge of the two frames."""
    n = len(candidates)
    period_id = (
        period_ids[candidates["period"].to_numpy(dtype=np.int64)]
        if n
        else np.array([], dtype=np.int64)
    )
    position = _positions(
        [
            (candidates["ind"].to_numpy(), current["ind"].to_numpy()),
            (candidates["area"].to_numpy(), current["area"].to_numpy()),
            (period_id, current["period_id"].to_numpy()),
            (
                candidates["breakdown"].to_numpy(dtype=object),
                current["breakdown"].to_numpy(dtype=object),
            ),
        ]
    )
    has_old = position >= 0
    columns: dict[str, np.ndarray] = {
        name: candidates[name].to_numpy() for name in candidates.columns
    }
    columns["period_id"] = period_id
    for name in CURRENT_COLUMNS:
        if name in ("ind", "area", "period_id", "breakdown"):
            continue
        values = current[name].to_numpy()
        if name in ("old_id", "old_return"):
            columns[name] = _take(values.astype(np.int64), position, 0)
        elif name == "old_note":
            columns[name] = _take(values.astype(object), position, np.nan)
        else:
            columns[name] = _take(values.astype(float), position, np.nan)
    same = has_old.copy()
    for name in NUMBERS:
        same &= _same(np.asarray(columns[name], dtype=float), columns[f"old_{name}"])
    old_note = columns["old_note"].copy()
    old_note[~has_old] = ""
    same &= np.asarray(columns["note"], dtype=object) == old_note
    status = np.where(~has_old, NEW, np.where(same, UNCHANGED, REVISED))
    columns["status"] = status.astype(np.int8)
    counts = np.bincount(status, minlength=3) if len(status) else np.zeros(3, dtype=int)
    return Comparison(
        frame=pd.DataFrame(columns, copy=False),
        new=int(counts[NEW]),
        revised=int(counts[REVISED]),
        unchanged=int(counts[UNCHANGED]),
    )


def _positions(keys: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """For each row of the left arrays, the row of the right arrays with the same values
    in every pair of columns (the right side's keys are unique), or -1."""
    n_left = len(keys[0][0])
    left = np.zeros(n_left, dtype=np.int64)
    right = np.zeros(len(keys[0][1]), dtype=np.int64)
    for left_values, right_values in keys:
        both = np.concatenate(
            [np.asarray(left_values), np.asarray(right_values)]
        ).astype(np.asarray(left_values).dtype if len(left_values) else object)
        codes, uniques = pd.factorize(both)
        combined, _ = pd.factorize(
            np.concatenate([left, right]) * max(len(uniques), 1) + codes
        )
        left, right = combined[:n_left], combined[n_left:]
    if not len(right):
        return np.full(n_left, -1, dtype=np.int64)
    return pd.Index(right).get_indexer(left)


def _take(values: np.ndarray, position: np.ndarray, missing) -> np.ndarray:
    if not len(values):
        out = np.empty(len(position), dtype=values.dtype)
        out[:] = missing
        return out
    out = values[np.where(position >= 0, position, 0)]
    out[position < 0] = missing
    return out


def fingerprint(
    comparison: Comparison,
    periods: list[PeriodSpec],
    *,
    system_id: int,
    extra: list[str],
) -> str:
    """A hash of what the preview shows: every value, what it replaces, and what will be
    created. Two previews of the same file against the same data hash alike."""
    digest = hashlib.sha256()
    digest.update(f"system:{system_id}\n".encode())
    for line in extra:
        digest.update(line.encode() + b"\n")
    frame = comparison.frame
    if len(frame):
        spans = np.array(
            [[p.start.toordinal(), p.end.toordinal()] for p in periods], dtype=np.int64
        )
        index = frame["period"].to_numpy(dtype=np.int64)
        hashed = pd.DataFrame(
            {
                "ind": frame["ind"].to_numpy(),
                "area": frame["area"].to_numpy(),
                "start": spans[index, 0],
                "end": spans[index, 1],
                "breakdown": frame["breakdown"].to_numpy(dtype=object),
                **{n: frame[n].to_numpy(dtype=float) for n in NUMBERS},
                "note": frame["note"].to_numpy(dtype=object),
                "status": frame["status"].to_numpy(),
                "old_id": frame["old_id"].to_numpy(),
            }
        )
        digest.update(
            pd.util.hash_pandas_object(hashed, index=False).to_numpy().tobytes()
        )
    return digest.hexdigest()
