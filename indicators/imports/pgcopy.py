"""PostgreSQL binary COPY, built from numpy columns without a Python object per row.

COPY's binary format sends each field as a 4-byte length and its bytes (length -1 for
NULL), so numbers travel as the exact doubles the parser produced (no float -> text ->
float round trip) and the server does no text parsing. Rows whose fields have the same
shape (which numbers are NULL, how long each text is) have the same layout: each such
group is one numpy structured array, filled column by column and sent as its bytes. The
groups are few (a load's rows have a handful of NULL patterns and, usually, empty notes),
so the cost is a few array copies per column however many rows there are.

Row order within a group is kept; groups are sent one after another.

Pure: imports nothing from Django (`copy_columns` takes a psycopg cursor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
BLOCK_ROWS = 200_000

INT8, FLOAT8, BOOL, TEXT, TIMESTAMPTZ = "int8", "float8", "bool", "text", "timestamptz"
_FIXED = {INT8: ">i8", FLOAT8: ">f8", BOOL: "u1", TIMESTAMPTZ: ">i8"}


@dataclass
class Column:
    """One column to send. `values`: int64 (int8; never NULL), float64 (float8; NaN is
    NULL), bool, int64 microseconds since 2000-01-01 UTC (timestamptz), or, for text,
    anything `pd.factorize` takes (None and NaN are NULL). A scalar is the same value for
    every row."""

    name: str
    kind: str
    values: object


def timestamp(moment: dt.datetime) -> int:
    """A timezone-aware moment as PostgreSQL's binary timestamptz (microseconds)."""
    return (moment - PG_EPOCH) // dt.timedelta(microseconds=1)


class _Text:
    """A text column as codes into its distinct values, each encoded once."""

    def __init__(self, values, n: int, encoding: str):
        if np.ndim(values) == 0:
            codes = np.zeros(n, dtype=np.int64)
            uniques: list = [values]
        else:
            codes, found = pd.factorize(np.asarray(values, dtype=object))
            uniques = list(found)
        encoded = [None if _is_null(u) else str(u).encode(encoding) for u in uniques]
        # Code -1 (NULL from factorize) maps to the extra last entry.
        self.lengths = np.array(
            [-1 if e is None else len(e) for e in encoded] + [-1], dtype=np.int64
        )[codes]
        width = max([len(e) for e in encoded if e is not None] + [1])
        self.bytes = np.array([e or b"" for e in encoded] + [b""], dtype=f"S{width}")[
            codes
        ]


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def encode(columns: list[Column], n: int, encoding: str = "utf-8") -> bytes:
    """The rows as a whole binary COPY stream (header, rows, trailer)."""
    parts = [HEADER]
    for start in range(0, n, BLOCK_ROWS):
        parts.extend(
            _encode_block(columns, start, min(n, start + BLOCK_ROWS), encoding)
        )
    parts.append(TRAILER)
    return b"".join(parts)


def _slice(values, start: int, stop: int):
    return values[start:stop] if np.ndim(values) else values


def _encode_block(
    columns: list[Column], start: int, stop: int, encoding: str
) -> list[bytes]:
    n = stop - start
    shapes: list[np.ndarray] = []  # per column: payload length per row, -1 for NULL
    payloads: list[object] = []
    for column in columns:
        values = _slice(column.values, start, stop)
        if column.kind == TEXT:
            text = _Text(values, n, encoding)
            shapes.append(text.lengths)
            payloads.append(text.bytes)
            continue
        if column.kind == FLOAT8:
            array = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
            shapes.append(np.where(np.isnan(array), -1, 8))
        else:
            array = np.broadcast_to(np.asarray(values), (n,))
            shapes.append(np.full(n, 1 if column.kind == BOOL else 8))
        payloads.append(array)
    # Group the rows by layout: one key per distinct combination of field lengths
    # (a NULL number is one bit; a text's length is factorised; the rest are fixed).
    key = np.zeros(n, dtype=np.int64)
    for column, lengths in zip(columns, shapes, strict=True):
        if column.kind == FLOAT8:
            key = key * 2 + (lengths < 0)
        elif column.kind == TEXT:
            codes, uniques = pd.factorize(lengths)
            if len(uniques) > 1:
                key = pd.factorize(key * len(uniques) + codes)[0]
        if key.max(initial=0) > 1 << 40:
            key = pd.factorize(key)[0]
    groups, _ = pd.factorize(key)
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    blocks = []
    for rows in np.split(order, bounds):
        if not len(rows):
            continue
        first = int(rows[0])
        fields: list[tuple[str, str]] = [("count", ">i2")]
        for i, (column, lengths) in enumerate(zip(columns, shapes, strict=True)):
            fields.append((f"l{i}", ">i4"))
            size = int(lengths[first])
            if size < 0 or (column.kind == TEXT and size == 0):
                continue
            fields.append(
                (f"v{i}", f"S{size}" if column.kind == TEXT else _FIXED[column.kind])
            )
        block = np.empty(len(rows), dtype=np.dtype(fields))
        block["count"] = len(columns)
        for i, (column, lengths) in enumerate(zip(columns, shapes, strict=True)):
            size = int(lengths[first])
            block[f"l{i}"] = size
            if size < 0 or (column.kind == TEXT and size == 0):
                continue
            block[f"v{i}"] = payloads[i][rows]
        blocks.append(block.tobytes())
    return blocks


def copy_columns(
    cursor,
    table: str,
    columns: list[Column],
    n: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """COPY n rows into `table` (binary format) through a psycopg 3 cursor;
    `progress(rows sent)` after each block."""
    if not n:
        return
    names = ", ".join(c.name for c in columns)
    encoding = cursor.connection.info.encoding or "utf-8"
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(HEADER)
        for start in range(0, n, BLOCK_ROWS):
            stop = min(n, start + BLOCK_ROWS)
            for block in _encode_block(columns, start, stop, encoding):
                copy.write(block)
            if progress:
                progress(stop)
        copy.write(TRAILER)


def read_int8(data: bytes) -> np.ndarray:
    """The values of a binary COPY TO of one non-NULL bigint column."""
    body = np.frombuffer(
        data,
        dtype=np.dtype([("count", ">i2"), ("length", ">i4"), ("value", ">i8")]),
        offset=len(HEADER),
        count=(len(data) - len(HEADER) - len(TRAILER)) // 14,
    )
    return body["value"].astype(np.int64)
