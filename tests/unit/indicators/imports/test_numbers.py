import math

import numpy as np
import pandas as pd
import pytest

from indicators.imports.numbers import (
    parse_number_text,
    parse_numbers,
    uses_decimal_comma,
)


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        ("12", 12.0, "number"),
        ("1,388.0", 1388.0, "number"),
        ("12,345,678", 12345678.0, "number"),
        ("85.70%", 85.7, "percent"),
        ("85.7 %", 85.7, "percent"),
        ("0.857", 0.857, "number"),
        ("-3.5", -3.5, "number"),
        ("+3", 3.0, "number"),
        ("£1,200", 1200.0, "number"),
        ("1e3", 1000.0, "number"),
        ("\u00a012\u00a0", 12.0, "number"),
    ],
)
def test_numbers_as_analysts_write_them(text, number, kind):
    assert parse_number_text(text) == (number, kind)


@pytest.mark.parametrize(
    "text", ["N/A", "n/a", "*", "-", "", " ", "..", ":", "x", "#N/A"]
)
def test_missing_markers(text):
    value, kind = parse_number_text(text)

    assert math.isnan(value)
    assert kind == "missing"


@pytest.mark.parametrize(
    "text",
    ["12,3", "1,38", "abc", "inf", "nan", "1.2.3", "12 34", "%", "#DIV/0!", "(12)"],
)
def test_not_numbers(text):
    assert parse_number_text(text)[1] == "bad"


def test_decimal_comma_style():
    assert parse_number_text("12,3", decimal_comma=True) == (12.3, "number")
    assert parse_number_text("1.388,5", decimal_comma=True) == (1388.5, "number")
    assert parse_number_text("1.5", decimal_comma=True)[1] == "bad"


def test_decimal_comma_is_detected_only_when_unambiguous():
    assert uses_decimal_comma(["12,3", "4"]) is True
    assert uses_decimal_comma(["1,388", "4"]) is False
    assert uses_decimal_comma(["12,3", "4.5"]) is False


def test_parse_numbers_reads_a_whole_column():
    column = pd.Series(["12", "1,388.0", "85.7%", "N/A", "oops", ""], dtype=object)

    parsed = parse_numbers(column)

    assert parsed.values[:3].tolist() == [12.0, 1388.0, 85.7]
    assert parsed.missing.tolist() == [False, False, False, True, False, True]
    assert parsed.bad.tolist() == [False, False, False, False, True, False]
    assert parsed.percent.tolist() == [False, False, True, False, False, False]


def test_parse_numbers_excel_cells():
    column = pd.Series([12, 3.5, None, True, "7"], dtype=object)

    parsed = parse_numbers(column, excel=True)

    assert parsed.values[:2].tolist() == [12.0, 3.5]
    assert parsed.missing.tolist() == [False, False, True, False, False]
    assert parsed.bad.tolist() == [False, False, False, True, False]
    assert parsed.values[4] == 7.0
    assert np.isnan(parsed.values[3])
