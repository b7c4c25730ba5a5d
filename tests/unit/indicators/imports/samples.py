"""Builders of small returns and a reference made by hand, for tests without a database
(and, via `csv_bytes`/`xlsx_bytes`, for the integration tests of returns)."""

from __future__ import annotations

import csv
import io

import openpyxl

from indicators.imports.parsing import Options, ParseResult, parse_workbook
from indicators.imports.readers import read_workbook
from indicators.imports.reference import AreaRef, IndicatorRef, Reference

LIMIT = 50 * 1024 * 1024
LONG_HEADER = [
    "Indicator",
    "Area",
    "Period",
    "Value",
    "Numerator",
    "Denominator",
    "Lower CI",
    "Upper CI",
    "Note",
]


def csv_bytes(rows, *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def long_csv(*rows, **kwargs) -> bytes:
    """A long return: each row (indicator, area, period, value, ...) padded to the header."""
    padded = [list(r) + [""] * (len(LONG_HEADER) - len(r)) for r in rows]
    return csv_bytes([LONG_HEADER, *padded], **kwargs)


def xlsx_bytes(sheets: dict[str, list[list[object]]], *, formats=None) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cell_ref, number_format in (formats or {}).get(name, {}).items():
            sheet[cell_ref].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


INDICATORS = [
    IndicatorRef(1, "pct-monthly", "Percent monthly", "percentage", "month", values_above_one=True),
    IndicatorRef(2, "count-quarterly", "Count quarterly", "count", "quarter"),
    IndicatorRef(3, "rate-yearly", "Rate yearly", "rate_per_100000", "financial_year"),
    IndicatorRef(4, "smoking", "Smoking prevalence", "percentage", "calendar_year", fingertips_id=92443),
    IndicatorRef(5, "shared-a", "Shared A", "score", "financial_year"),
    IndicatorRef(6, "shared-b", "Shared B", "score", "financial_year"),
    IndicatorRef(7, "fraction-pct", "Fractions", "percentage", "financial_year"),
    IndicatorRef(8, "ratio-yearly", "Ratio", "ratio", "financial_year"),
    IndicatorRef(
        9, "by-sex", "By sex", "percentage", "calendar_year", fingertips_id=90001,
        breakdowns=frozenset({"sex"}),
    ),
    IndicatorRef(10, "tiny-pct", "Tiny percentages", "percentage", "month", values_above_one=False),
]  # fmt: skip
AREAS = [
    AreaRef(1, "E06000026", "Plymouth"),
    AreaRef(2, "E92000001", "England"),
    AreaRef(3, "99P", "NEW Devon CCG"),
    AreaRef(4, "E10000008", "Devon"),
    AreaRef(5, "X-DEVON", "Devon"),
]
REFERENCE = Reference.build(
    system_id=1,
    system_name="Testshire",
    indicators=INDICATORS,
    areas=AREAS,
    codes={1: "PCT 1", 5: "SHARED 1", 6: "SHARED 1"},
)


def parse(data: bytes, **options) -> ParseResult:
    book = read_workbook(data, sheet=options.get("sheet", ""), max_bytes=LIMIT)
    return parse_workbook(book, REFERENCE, Options(**options))


def where(result: ParseResult) -> list[tuple]:
    """(row, column, code) of each problem, as the analyst would find it."""
    return [(p.row, p.column, p.code) for p in result.problems]
