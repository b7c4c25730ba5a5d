import codecs

import pytest

from indicators.imports import problems as P
from indicators.imports.readers import (
    ReadError,
    detect_delimiter,
    detect_encoding,
    read_workbook,
)
from tests.unit.indicators.imports.samples import LIMIT, csv_bytes, parse, xlsx_bytes

ROWS = [
    ["Indicator", "Area", "Period", "Value", "Note"],
    ["rate-yearly", "99P", "2017/18", "12.5", "Café £5"],
]


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (csv_bytes(ROWS), "UTF-8"),
        (codecs.BOM_UTF8 + csv_bytes(ROWS), "UTF-8 with byte-order mark"),
        (csv_bytes(ROWS, encoding="cp1252"), "Windows-1252"),
        (csv_bytes(ROWS, encoding="utf-16"), "UTF-16"),
    ],
)
def test_encodings_are_detected_and_text_read_right(data, label):
    result = parse(data)

    assert result.encoding == label
    assert result.problems == []
    assert result.frame["note"].tolist() == ["Café £5"]
    assert result.frame["value"].tolist() == [12.5]


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")],
)
def test_delimiters_are_detected(delimiter, name):
    result = parse(csv_bytes(ROWS, delimiter=delimiter))

    assert result.delimiter == name
    assert result.problems == []


def test_delimiter_ignores_commas_inside_quotes():
    lines = ["Indicator;Area;Note", 'a;b;"one, two, three"', "c;d;e"]

    assert detect_delimiter(lines) == ";"


def test_detect_encoding_falls_back_to_latin1_for_undefined_bytes():
    assert detect_encoding(b"a\x81b") == ("latin-1", "Latin-1")


def test_empty_file():
    with pytest.raises(ReadError) as caught:
        read_workbook(b"  \r\n", max_bytes=LIMIT)

    assert caught.value.problem.code == P.FILE_EMPTY
    assert caught.value.problem.message == P.MESSAGES[P.FILE_EMPTY]


def test_file_over_the_limit():
    with pytest.raises(ReadError) as caught:
        read_workbook(b"x" * 2048, max_bytes=1024)

    assert caught.value.problem.code == P.FILE_TOO_LARGE
    assert (
        caught.value.problem.message
        == "The file is 2 KB; the largest file accepted is 1 KB."
    )


def test_old_excel_and_damaged_workbooks_are_unreadable():
    for data in (b"\xd0\xcf\x11\xe0rest", b"PK\x03\x04not a zip"):
        with pytest.raises(ReadError) as caught:
            read_workbook(data, max_bytes=LIMIT)
        assert caught.value.problem.code == P.FILE_UNREADABLE


def test_binary_file_is_unreadable():
    with pytest.raises(ReadError) as caught:
        read_workbook(b"\x00\x01\x02binary", max_bytes=LIMIT)

    assert caught.value.problem.code == P.FILE_UNREADABLE


def test_missing_sheet_names_the_sheets_there_are():
    data = xlsx_bytes({"Wellbeing": [["x"]], "Notes": [["y"]]})

    with pytest.raises(ReadError) as caught:
        read_workbook(data, sheet="Community", max_bytes=LIMIT)

    assert caught.value.problem.code == P.SHEET_NOT_FOUND
    assert caught.value.problem.message == (
        "The workbook has no sheet called 'Community'. Its sheets are: 'Wellbeing', 'Notes'."
    )


def test_merged_group_heading_is_joined_to_the_headings_below():
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Indicator", "Area", "2017/18", None])
    sheet.append([None, None, "Q1", "Q2"])
    sheet.append(["count-quarterly", "99P", 5, 6])
    sheet.merge_cells("C1:D1")
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:B2")
    buffer = io.BytesIO()
    book.save(buffer)

    result = parse(buffer.getvalue())

    assert result.problems == []
    assert [p.label for p in result.periods] == ["2017/18 Q1", "2017/18 Q2"]
    assert result.sheets[0].header_row == 2


def test_old_mac_line_endings_are_read_as_line_breaks():
    """A bare carriage return ends a line (classic Mac files); the csv module raised on
    it inside a field, which schemathesis found as a 500 on the upload API."""
    data = csv_bytes(ROWS).replace(b"\r\n", b"\r")

    result = parse(data)

    assert result.problems == []
    assert result.frame["value"].tolist() == [12.5]


def test_binary_noise_with_carriage_returns_is_a_problem_not_a_crash():
    data = b"\x02U\x1d\xef\xbf\xbdp\x1e\xef\xbf\xbd\r~ \xef\xbf\xbd\x02*\x05\xcc\x80"

    result = parse(data)

    assert result.problems, "noise must be reported as a problem"
