"""Problems found in a return, with stable codes and the plain messages analysts read.

Every message is a constant here (tests assert on them); `{value}` and the other fields are
filled in from the file. A problem says where it is as the analyst sees their own file: the
sheet, the row number (header row included, counted from 1) and the column's heading.

Pure: imports nothing from Django.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

# File-level problems (no row).
FILE_EMPTY = "file_empty"
FILE_TOO_LARGE = "file_too_large"
FILE_UNREADABLE = "file_unreadable"
SHEET_NOT_FOUND = "sheet_not_found"
HEADER_NOT_FOUND = "header_not_found"
COLUMN_MISSING = "column_missing"
COLUMN_DUPLICATED = "column_duplicated"
NO_VALUES = "no_values"
SYSTEM_REQUIRED = "system_required"
# Cell-level problems.
REQUIRED_EMPTY = "required_empty"
ROW_TOO_MANY_CELLS = "row_too_many_cells"
INDICATOR_UNKNOWN = "indicator_unknown"
INDICATOR_AMBIGUOUS = "indicator_ambiguous"
AREA_UNKNOWN = "area_unknown"
AREA_AMBIGUOUS = "area_ambiguous"
PERIOD_INVALID = "period_invalid"
PERIOD_WRONG_TYPE = "period_wrong_type"
NOT_A_NUMBER = "not_a_number"
PERCENT_NOT_PERCENTAGE = "percent_not_percentage"
PERCENTAGE_OUT_OF_RANGE = "percentage_out_of_range"
NEGATIVE_VALUE = "negative_value"
CI_LOWER_ABOVE_VALUE = "ci_lower_above_value"
CI_UPPER_BELOW_VALUE = "ci_upper_below_value"
CI_REVERSED = "ci_reversed"
NUMERATOR_ABOVE_DENOMINATOR = "numerator_above_denominator"
DUPLICATE_ROW = "duplicate_row"
TEXT_TOO_LONG = "text_too_long"
FORMULA_WITHOUT_VALUE = "formula_without_value"

MESSAGES: dict[str, str] = {
    FILE_EMPTY: "The file is empty.",
    FILE_TOO_LARGE: "The file is {value}; the largest file accepted is {limit}.",
    FILE_UNREADABLE: "The file could not be read as CSV or Excel: {value}.",
    SHEET_NOT_FOUND: "The workbook has no sheet called '{value}'. Its sheets are: {sheets}.",
    HEADER_NOT_FOUND: (
        "No header row was recognised{where}. A long return needs the columns Indicator, "
        "Area, Period and Value; a wide one an Indicator column and one column per period; "
        "a Fingertips download its own headings (Indicator ID, Area Code, Time period, Value)."
    ),
    COLUMN_MISSING: "The required column '{column}' is missing.",
    COLUMN_DUPLICATED: "The columns {value} are both read as '{column}'; keep one of them.",
    NO_VALUES: "The file has a header row but no values below it.",
    SYSTEM_REQUIRED: (
        "Say which commissioning system this return is for ({value}): "
        "use --system with one of {choices}."
    ),
    REQUIRED_EMPTY: "The {column} is empty.",
    ROW_TOO_MANY_CELLS: (
        "This row has {value} cells but the header has {limit}: a number such as 1,388 "
        "may need quotes, or a cell holds a stray separator."
    ),
    INDICATOR_UNKNOWN: "'{value}' is not an indicator of {system}.",
    INDICATOR_AMBIGUOUS: (
        "'{value}' matches several indicators of {system} ({matches}); use the "
        "indicator's key."
    ),
    AREA_UNKNOWN: "'{value}' is not a known area code.",
    AREA_AMBIGUOUS: "'{value}' names more than one area ({matches}); use its code.",
    PERIOD_INVALID: "'{value}' is not a period: {reason}.",
    PERIOD_WRONG_TYPE: (
        "'{value}' is a {kind} but {indicator} is reported by {expected}."
    ),
    NOT_A_NUMBER: "'{value}' is not a number.",
    PERCENT_NOT_PERCENTAGE: (
        "'{value}' has a % sign but {indicator} is a {measure}, not a percentage."
    ),
    PERCENTAGE_OUT_OF_RANGE: "'{value}' is outside 0-100 for a percentage.",
    NEGATIVE_VALUE: "'{value}' is negative; a {what} cannot be negative.",
    CI_LOWER_ABOVE_VALUE: "The lower confidence limit '{value}' is above the value {other}.",
    CI_UPPER_BELOW_VALUE: "The upper confidence limit '{value}' is below the value {other}.",
    CI_REVERSED: "The lower confidence limit '{value}' is above the upper limit {other}.",
    NUMERATOR_ABOVE_DENOMINATOR: (
        "The numerator '{value}' is larger than the denominator {other}."
    ),
    DUPLICATE_ROW: (
        "{indicator}, {area}, {period}{breakdown} is also on row {other}: a value may "
        "appear only once in a file."
    ),
    TEXT_TOO_LONG: "The {column} is {value} characters long; at most {limit} are kept.",
    FORMULA_WITHOUT_VALUE: (
        "The cell holds a formula with no saved result; open the file in Excel, save it "
        "and upload it again."
    ),
}

# One line per code for the documentation and the page's help text.
DESCRIPTIONS: dict[str, str] = {
    FILE_EMPTY: "The file has no content at all.",
    FILE_TOO_LARGE: "The file is larger than the limit (50 MB unless configured).",
    FILE_UNREADABLE: "Not a CSV or an Excel workbook (.xlsx), or a damaged one.",
    SHEET_NOT_FOUND: "The sheet asked for is not in the workbook.",
    HEADER_NOT_FOUND: "No row of the file (or of any sheet) looks like a header.",
    COLUMN_MISSING: "A column the format needs is not there.",
    COLUMN_DUPLICATED: "Two columns mean the same thing.",
    NO_VALUES: "A header but nothing below it.",
    SYSTEM_REQUIRED: "The command line could not tell which system the return is for.",
    REQUIRED_EMPTY: "An indicator, area or period cell is blank.",
    ROW_TOO_MANY_CELLS: "A CSV row has more cells than the header (often an unquoted 1,388).",
    INDICATOR_UNKNOWN: "The indicator code, key or Fingertips id is not one of the system's.",
    INDICATOR_AMBIGUOUS: "A code shared by several indicators; use the indicator key.",
    AREA_UNKNOWN: "The area code (or name) is not known.",
    AREA_AMBIGUOUS: "An area name shared by several areas; use the code.",
    PERIOD_INVALID: "The period cannot be read (e.g. '2017/19', 'Q5').",
    PERIOD_WRONG_TYPE: "A period of another type than the indicator's (a month for a yearly one).",
    NOT_A_NUMBER: "A value, numerator, denominator or limit that is not a number ('12,3').",
    PERCENT_NOT_PERCENTAGE: "A % sign on a value of an indicator that is not a percentage.",
    PERCENTAGE_OUT_OF_RANGE: "A percentage below 0 or above 100.",
    NEGATIVE_VALUE: "A negative count, rate, numerator or denominator.",
    CI_LOWER_ABOVE_VALUE: "The lower confidence limit is above the value.",
    CI_UPPER_BELOW_VALUE: "The value is above the upper confidence limit.",
    CI_REVERSED: "The lower confidence limit is above the upper one (no value given).",
    NUMERATOR_ABOVE_DENOMINATOR: "The numerator is larger than the denominator.",
    DUPLICATE_ROW: "The same indicator, area, period (and breakdown) twice in one file.",
    TEXT_TOO_LONG: "A note longer than 500 characters or a breakdown longer than 200.",
    FORMULA_WITHOUT_VALUE: "An Excel formula whose result was never saved.",
}

# Outcome messages shown on the page and printed by the command.
NOTHING_TO_CHANGE = "Nothing to change: every value in this file is already current. Nothing was written."
PREVIEW_OUT_OF_DATE = (
    "The values in the database changed after this preview was made, so nothing was "
    "committed. Check the file again to see a new preview."
)
HAS_PROBLEMS = (
    "The file has problems, so nothing can be committed. Fix them and upload it again."
)
ALREADY_ROLLED_BACK = "This return has already been rolled back."
NOT_AN_UPLOAD = "Only uploaded returns can be rolled back."
JOB_NOT_READY = "This upload is not ready to commit."
UNEXPECTED_FAILURE = (
    "Something went wrong while processing the file; nothing was written. "
    "Try again, and tell the system administrator if it happens again."
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    row: int | None = None
    column: str = ""
    value: str = ""
    sheet: str = ""

    @property
    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"Sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"Row {self.row}")
        if self.column:
            parts.append(f"column {self.column}" if parts else f"Column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def cli_line(self) -> str:
        """row, column, code, message: one problem per line for the command line."""
        row = "-" if self.row is None else str(self.row)
        if self.sheet:
            row = f"{self.sheet}!{row}"
        return f"{row}, {self.column or '-'}, {self.code}, {self.message}"


def problem(
    code: str,
    *,
    row: int | None = None,
    column: str = "",
    value: object = "",
    sheet: str = "",
    **fields: object,
) -> Problem:
    shown = display(value)
    message = MESSAGES[code].format(value=shown, column=column, **fields)
    return Problem(
        code=code, message=message, row=row, column=column, value=shown, sheet=sheet
    )


def display(value: object, limit: int = 120) -> str:
    """A cell's content as the analyst typed it, shortened for a message."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        if text.endswith(".0"):
            text = text[:-2]
    elif hasattr(value, "isoformat") and not isinstance(value, str):
        text = value.isoformat()  # type: ignore[union-attr]
        if text.endswith("T00:00:00"):
            text = text[: -len("T00:00:00")]
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_cell(text: str) -> str:
    """Defuse a cell a spreadsheet would run as a formula (CSV injection)."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def problems_csv(problems: Iterable[Problem]) -> str:
    """The problem report as CSV, safe to open in Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Sheet", "Row", "Column", "Value", "Code", "Message"])
    for item in problems:
        writer.writerow(
            [
                safe_cell(item.sheet),
                "" if item.row is None else item.row,
                safe_cell(item.column),
                safe_cell(item.value),
                item.code,
                safe_cell(item.message),
            ]
        )
    return out.getvalue()
