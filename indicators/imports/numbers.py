"""Numbers as analysts write them: "1,388.0", "85.70%", "0.857", "N/A", "*", "-".

`parse_numbers` reads a whole column at once: plain numbers go through pandas' C parser,
and only the cells it cannot read (thousands separators, % signs, missing-value markers,
mistakes) are looked at one distinct text at a time, so a million-row column costs little
more than `pd.to_numeric`.

Pure: imports nothing from Django.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# What analysts and publishers write for "no value": kept as a missing value with a note.
MISSING_MARKERS = frozenset(
    {"", "n/a", "na", "#n/a", "*", "-", "–", "—", "..", ":", "x", "null", "none"}  # noqa: RUF001
)

_POINT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_COMMA = re.compile(r"^[+-]?(?:\d{1,3}(?:[.\s]\d{3})+|\d+)?(?:,\d+)?$")
# A decimal comma that cannot be a thousands separator ("12,3", "0,857", "1234,5").
_UNAMBIGUOUS_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(?:\d{1,2}|\d{4,})$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")

NUMBER = "number"
PERCENT = "percent"
MISSING = "missing"
BAD = "bad"


@dataclass(frozen=True)
class ParsedNumbers:
    """A column read as numbers. `values` is NaN where a cell is missing or bad."""

    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray
    percent: np.ndarray


def parse_number_text(text: str, *, decimal_comma: bool = False) -> tuple[float, str]:
    """One cell's text as (number, kind): kind is number, percent, missing or bad."""
    cleaned = text.replace("\u00a0", " ").strip()
    if cleaned.lower() in MISSING_MARKERS:
        return math.nan, MISSING
    kind = NUMBER
    if cleaned.endswith("%"):
        kind = PERCENT
        cleaned = cleaned[:-1].strip()
    if cleaned.startswith(("£", "-£", "+£")):
        cleaned = cleaned.replace("£", "", 1)
    if not cleaned or not any(ch.isdigit() for ch in cleaned):
        return math.nan, BAD
    if decimal_comma:
        if not _COMMA.match(cleaned):
            return math.nan, BAD
        cleaned = cleaned.replace(".", "").replace(" ", "").replace(",", ".")
    else:
        if not _POINT.match(cleaned):
            return math.nan, BAD
        cleaned = cleaned.replace(",", "")
    try:
        number = float(cleaned)
    except ValueError:
        return math.nan, BAD
    if not math.isfinite(number):
        return math.nan, BAD
    return number, kind


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def parse_numbers(
    column: pd.Series, *, decimal_comma: bool = False, excel: bool = False
) -> ParsedNumbers:
    """Read a column of cells (text from a CSV, or Excel values when `excel`) as numbers."""
    n = len(column)
    values = np.full(n, np.nan)
    missing = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    percent = np.zeros(n, dtype=bool)
    if n == 0:
        return ParsedNumbers(values, missing, bad, percent)
    if decimal_comma:
        # "1.388" is a thousand and more here; pandas would read it as one point something.
        fast = np.full(n, np.nan)
    else:
        fast = pd.to_numeric(column, errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    ok = np.isfinite(fast)
    if excel:
        # Excel booleans are not numbers; pandas would read True as 1.
        is_bool = column.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(
            dtype=bool
        )
        ok &= ~is_bool
    values[ok] = fast[ok]
    rest = np.flatnonzero(~ok)
    if len(rest):
        cells = column.iloc[rest]
        if excel:
            out_values, out_kind = _parse_cells(cells.tolist(), decimal_comma)
        else:
            # CSV cells are all text: each distinct text ("", "N/A", "1,388") is read
            # once.
            codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
            unique_values, unique_kind = _parse_cells(
                [*uniques.tolist(), None], decimal_comma
            )
            out_values, out_kind = unique_values[codes], unique_kind[codes]
        values[rest] = out_values
        missing[rest] = out_kind == MISSING
        bad[rest] = out_kind == BAD
        percent[rest] = out_kind == PERCENT
    return ParsedNumbers(values, missing, bad, percent)


def _parse_cells(cells: list, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cells one by one (a cache keeps repeated ones cheap): values and kinds."""
    cache: dict[object, tuple[float, str]] = {}
    out_values = np.empty(len(cells))
    out_kind = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        key = cell if not isinstance(cell, float) else ("f", cell)
        try:
            result = cache[key]
        except (KeyError, TypeError):
            result = _parse_cell(cell, decimal_comma)
            with contextlib.suppress(TypeError):
                cache[key] = result
        out_values[i], out_kind[i] = result
    return out_values, out_kind


def _parse_cell(cell: object, decimal_comma: bool) -> tuple[float, str]:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return math.nan, MISSING
    if _is_number(cell):
        number = float(cell)  # type: ignore[arg-type]
        return (number, NUMBER) if math.isfinite(number) else (math.nan, BAD)
    if not isinstance(cell, str):
        return math.nan, BAD
    return parse_number_text(cell, decimal_comma=decimal_comma)


def uses_decimal_comma(samples: list[str]) -> bool:
    """Whether number cells use a decimal comma ("12,3"): some cell can only be read that
    way and none has a decimal point."""
    saw_comma = False
    for text in samples:
        cleaned = text.strip().rstrip("%").strip()
        if _DECIMAL_POINT.match(cleaned):
            return False
        if _UNAMBIGUOUS_DECIMAL_COMMA.match(cleaned):
            saw_comma = True
    return saw_comma
