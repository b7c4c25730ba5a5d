"""The binary COPY encoder, read back by an independent decoder of the format."""

import datetime as dt
import struct

import numpy as np

from indicators.imports import pgcopy


def decode(data: bytes, kinds: list[str]) -> list[tuple]:
    assert data.startswith(pgcopy.HEADER)
    assert data.endswith(pgcopy.TRAILER)
    pos, rows = len(pgcopy.HEADER), []
    while data[pos : pos + 2] != pgcopy.TRAILER:
        (count,) = struct.unpack_from(">h", data, pos)
        assert count == len(kinds)
        pos += 2
        row = []
        for kind in kinds:
            (length,) = struct.unpack_from(">i", data, pos)
            pos += 4
            if length < 0:
                row.append(None)
                continue
            raw = data[pos : pos + length]
            pos += length
            row.append(
                {
                    pgcopy.INT8: lambda b: struct.unpack(">q", b)[0],
                    pgcopy.TIMESTAMPTZ: lambda b: struct.unpack(">q", b)[0],
                    pgcopy.FLOAT8: lambda b: struct.unpack(">d", b)[0],
                    pgcopy.BOOL: lambda b: b == b"\x01",
                    pgcopy.TEXT: lambda b: b.decode(),
                }[kind](raw)
            )
        rows.append(tuple(row))
    assert pos + 2 == len(data)
    return rows


def test_rows_round_trip_with_nulls_texts_and_constants():
    n = 6
    moment = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    columns = [
        pgcopy.Column("id", pgcopy.INT8, np.array([1, 2, 3, 4, 5, 2**40])),
        pgcopy.Column(
            "value", pgcopy.FLOAT8, np.array([1.5, np.nan, -0.1, 0.1 + 0.2, np.nan, 7])
        ),
        pgcopy.Column(
            "note",
            pgcopy.TEXT,
            np.array(["", "Café £5", "tab\there", None, "a\\b", ""], dtype=object),
        ),
        pgcopy.Column("current", pgcopy.BOOL, True),
        pgcopy.Column("at", pgcopy.TIMESTAMPTZ, pgcopy.timestamp(moment)),
        pgcopy.Column("reason", pgcopy.TEXT, "commit"),
    ]

    rows = decode(pgcopy.encode(columns, n), [c.kind for c in columns])

    micros = 768_294_489_123_456  # 2024-05-06 07:08:09.123456 after 2000-01-01
    assert sorted(rows) == sorted(
        [
            (1, 1.5, "", True, micros, "commit"),
            (2, None, "Café £5", True, micros, "commit"),
            (3, -0.1, "tab\there", True, micros, "commit"),
            (4, 0.1 + 0.2, None, True, micros, "commit"),
            (5, None, "a\\b", True, micros, "commit"),
            (2**40, 7.0, "", True, micros, "commit"),
        ]
    )


def test_rows_of_one_layout_keep_their_order_across_blocks(monkeypatch):
    monkeypatch.setattr(pgcopy, "BLOCK_ROWS", 3)
    ids = np.arange(10, dtype=np.int64)
    columns = [pgcopy.Column("id", pgcopy.INT8, ids)]

    rows = decode(pgcopy.encode(columns, 10), [pgcopy.INT8])

    assert [r[0] for r in rows] == list(range(10))


def test_read_int8_reads_a_binary_copy_of_one_column():
    data = pgcopy.encode([pgcopy.Column("id", pgcopy.INT8, np.array([7, 2**33]))], 2)

    assert pgcopy.read_int8(data).tolist() == [7, 2**33]
