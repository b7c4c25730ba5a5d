import pytest

from indicators.imports import problems as P
from indicators.imports.parsing import area_kind
from tests.unit.indicators.imports.samples import (
    csv_bytes,
    long_csv,
    parse,
    where,
    xlsx_bytes,
)

GOOD = ("pct-monthly", "E06000026", "Aug-17", "85.7")


def test_clean_long_file_has_no_problem_and_one_value_per_row():
    result = parse(long_csv(GOOD, ("count-quarterly", "99P", "2017/18 Q2", "400")))

    assert result.problems == []
    assert result.frame[["row", "ind", "area", "value"]].values.tolist() == [
        [2, 1, 1, 85.7],
        [3, 2, 3, 400.0],
    ]
    assert [p.label for p in result.periods] == ["Aug-17", "2017/18 Q2"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([GOOD, ("nope", "E06000026", "Aug-17", "1")], (3, "Indicator", P.INDICATOR_UNKNOWN)),
        ([GOOD, ("SHARED 1", "E06000026", "2017/18", "1")], (3, "Indicator", P.INDICATOR_AMBIGUOUS)),
        ([GOOD, ("pct-monthly", "E06000999", "Sep-17", "1")], (3, "Area", P.AREA_UNKNOWN)),
        ([GOOD, ("pct-monthly", "Devon", "Sep-17", "1")], (3, "Area", P.AREA_AMBIGUOUS)),
        ([GOOD, ("pct-monthly", "E06000026", "Smarch-17", "1")], (3, "Period", P.PERIOD_INVALID)),
        ([GOOD, ("pct-monthly", "E06000026", "2017/18", "1")], (3, "Period", P.PERIOD_WRONG_TYPE)),
        ([GOOD, ("pct-monthly", "E06000026", "Sep-17", "12,3")], (3, "Value", P.NOT_A_NUMBER)),
        ([GOOD, ("pct-monthly", "E06000026", "Sep-17", "100.1")], (3, "Value", P.PERCENTAGE_OUT_OF_RANGE)),
        ([GOOD, ("pct-monthly", "E06000026", "Sep-17", "-0.5")], (3, "Value", P.PERCENTAGE_OUT_OF_RANGE)),
        ([GOOD, ("count-quarterly", "E06000026", "2017/18 Q1", "-3")], (3, "Value", P.NEGATIVE_VALUE)),
        ([GOOD, ("rate-yearly", "E06000026", "2017/18", "-3")], (3, "Value", P.NEGATIVE_VALUE)),
        ([GOOD, ("rate-yearly", "E06000026", "2017/18", "30", "", "-1")], (3, "Denominator", P.NEGATIVE_VALUE)),
        ([GOOD, ("rate-yearly", "E06000026", "2017/18", "30", "", "", "31", "40")], (3, "Lower CI", P.CI_LOWER_ABOVE_VALUE)),
        ([GOOD, ("rate-yearly", "E06000026", "2017/18", "30", "", "", "20", "29")], (3, "Upper CI", P.CI_UPPER_BELOW_VALUE)),
        ([GOOD, ("rate-yearly", "E06000026", "2017/18", "N/A", "", "", "40", "20")], (3, "Lower CI", P.CI_REVERSED)),
        ([GOOD, ("rate-yearly", "E06000026", "2017/18", "30", "12", "10")], (3, "Numerator", P.NUMERATOR_ABOVE_DENOMINATOR)),
        ([GOOD, ("count-quarterly", "E06000026", "2017/18 Q1", "12%")], (3, "Value", P.PERCENT_NOT_PERCENTAGE)),
        ([GOOD, ("", "E06000026", "Sep-17", "1")], (3, "Indicator", P.REQUIRED_EMPTY)),
        ([GOOD, ("pct-monthly", "E06000026", "", "1")], (3, "Period", P.REQUIRED_EMPTY)),
        ([GOOD, ("pct-monthly", "E06000026", "Sep-17", "1", "", "", "", "", "x" * 501)], (3, "Note", P.TEXT_TOO_LONG)),
    ],
)  # fmt: skip
def test_each_problem_is_found_at_its_row_and_column(rows, expected):
    result = parse(long_csv(*rows))

    assert where(result) == [expected]


def test_duplicate_row_names_the_first_occurrence():
    result = parse(long_csv(GOOD, ("count-quarterly", "99P", "2017/18 Q2", "1"), GOOD))

    assert where(result) == [(4, "", P.DUPLICATE_ROW)]
    assert "also on row 2" in result.problems[0].message


def test_the_same_cell_named_two_ways_is_a_duplicate():
    result = parse(long_csv(GOOD, ("PCT 1", "Plymouth", "August 2017", "85.7")))

    assert where(result) == [(3, "", P.DUPLICATE_ROW)]


def test_missing_required_columns_are_each_reported_on_the_header_row():
    result = parse(
        csv_bytes([["Indicator", "Period", "Amount"], ["pct-monthly", "Aug-17", "1"]])
    )

    assert where(result) == [
        (1, "Area", P.COLUMN_MISSING),
        (1, "Value", P.COLUMN_MISSING),
    ]


def test_two_value_columns_are_a_problem():
    data = csv_bytes(
        [
            ["Indicator", "Area", "Period", "Value", "Value"],
            ["pct-monthly", "99P", "Aug-17", "1", "2"],
        ]
    )

    result = parse(data)

    assert (1, "Value", P.COLUMN_DUPLICATED) in where(result)


def test_header_not_found():
    result = parse(csv_bytes([["a", "b"], ["1", "2"]]))

    assert where(result) == [(None, "", P.HEADER_NOT_FOUND)]


def test_header_only_file_has_no_values():
    result = parse(csv_bytes([["Indicator", "Area", "Period", "Value"]]))

    assert where(result) == [(None, "", P.NO_VALUES)]


def test_every_problem_is_reported_at_once_in_file_order():
    result = parse(
        long_csv(
            ("nope", "E06000026", "Aug-17", "1"),
            GOOD,
            ("pct-monthly", "XX", "Sep-17", "abc"),
        )
    )

    assert where(result) == [
        (2, "Indicator", P.INDICATOR_UNKNOWN),
        (4, "Area", P.AREA_UNKNOWN),
        (4, "Value", P.NOT_A_NUMBER),
    ]


def test_a_row_wider_than_the_header_is_reported():
    data = csv_bytes(
        [
            ["Indicator", "Area", "Period", "Value"],
            ["pct-monthly", "99P", "Aug-17", "1", "388.0"],
        ]
    )

    result = parse(data)

    assert where(result) == [(2, "E (no heading)", P.ROW_TOO_MANY_CELLS)]


def test_a_first_row_two_cells_wider_than_the_header_is_reported_not_misread():
    data = csv_bytes(
        [
            ["Indicator", "Area", "Period", "Value"],
            ["pct-monthly", "99P", "Aug-17", "1", "388.0", "x"],
            ["pct-monthly", "99P", "Sep-17", "2"],
        ]
    )

    result = parse(data)

    assert where(result) == [(2, "E (no heading)", P.ROW_TOO_MANY_CELLS)]
    assert result.problems[0].value == "6"
    assert result.frame["value"].tolist() == [2.0]


def test_a_very_wide_row_in_a_later_chunk_is_reported_and_no_row_read_twice(
    monkeypatch,
):
    from indicators.imports import readers

    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    months = ["Apr-17", "May-17", "Jun-17", "Jul-17", "Aug-17", "Sep-17", "Oct-17"]
    rows = [["pct-monthly", "99P", month, str(i)] for i, month in enumerate(months)]
    rows[3] = rows[3] + ["x"] * 20  # row 5 of the file: wider than any padding
    rows[5] = rows[5] + ["y"]  # row 7: one cell too many

    result = parse(csv_bytes([["Indicator", "Area", "Period", "Value"], *rows]))

    assert where(result) == [
        (5, "E (no heading)", P.ROW_TOO_MANY_CELLS),
        (7, "E (no heading)", P.ROW_TOO_MANY_CELLS),
    ]
    assert result.frame["row"].tolist() == [2, 3, 4, 6, 8]
    assert result.frame["value"].tolist() == [0.0, 1.0, 2.0, 4.0, 6.0]


def test_messages_read_as_the_analyst_wrote_the_cell():
    result = parse(long_csv(GOOD, ("pct-monthly", "E06000026", "Sep-17", "12,3")))

    assert str(result.problems[0]) == "Row 3, column Value: '12,3' is not a number."


def test_missing_markers_become_missing_values_with_a_note():
    result = parse(
        long_csv(
            ("count-quarterly", "99P", "2017/18 Q1", "N/A"),
            ("count-quarterly", "99P", "2017/18 Q2", "*", "", "", "", "", "Suppressed"),
            ("count-quarterly", "99P", "2017/18 Q3", "-"),
            ("count-quarterly", "99P", "2017/18 Q4", ""),
        )
    )

    assert result.problems == []
    assert result.frame["value"].isna().all()
    assert result.frame["note"].tolist() == [
        "Not available in the source ('N/A')",
        "Suppressed",
        "Not available in the source ('-')",
        "No value in the source",
    ]


def test_number_styles_are_read():
    result = parse(
        long_csv(
            ("count-quarterly", "99P", "2017/18 Q1", "1,388.0"),
            ("pct-monthly", "99P", "Aug-17", "85.70%"),
            ("rate-yearly", "99P", "2017/18", " 12.5 "),
            ("count-quarterly", "99P", "2017/18 Q2", "1388"),
        )
    )

    assert result.problems == []
    assert result.frame["value"].tolist() == [1388.0, 85.7, 12.5, 1388.0]
    assert "% signs" in result.percentage_convention


def test_fractions_of_a_percentage_are_stored_0_to_100_and_said_so():
    result = parse(
        long_csv(
            ("fraction-pct", "99P", "2016/17", "0.857", "", "", "0.8", "0.9"),
            ("fraction-pct", "99P", "2017/18", "0.861"),
        )
    )

    assert result.problems == []
    assert result.frame["value"].tolist() == [85.7, 86.1]
    assert result.frame[["lower_ci", "upper_ci"]].values.tolist()[0] == [80.0, 90.0]
    assert "fractions" in result.percentage_convention
    assert "fraction-pct" in result.percentage_convention


def test_small_percentages_stay_when_the_indicator_only_holds_small_ones():
    # tiny-pct's current values are all below 1 (e.g. 0.4%): 0.5 means 0.5%, not 50%.
    result = parse(long_csv(("tiny-pct", "99P", "Aug-17", "0.5")))

    assert result.frame["value"].tolist() == [0.5]
    assert "0-100" in result.percentage_convention


def test_fractions_when_the_indicator_holds_larger_values():
    result = parse(long_csv(("pct-monthly", "99P", "Aug-17", "0.5")))

    assert result.frame["value"].tolist() == [50.0]


def test_semicolon_file_with_decimal_commas():
    data = csv_bytes(
        [
            ["Indicator", "Area", "Period", "Value"],
            ["rate-yearly", "99P", "2017/18", "12,3"],
            ["rate-yearly", "99P", "2016/17", "1.388,5"],
        ],
        delimiter=";",
    )

    result = parse(data)

    assert result.problems == []
    assert result.frame["value"].tolist() == [12.3, 1388.5]
    assert "decimal comma" in result.number_style


def test_financial_year_written_with_a_dash_reads_as_the_financial_year():
    result = parse(long_csv(("rate-yearly", "99P", "2017-18", "10")))

    assert result.problems == []
    assert result.periods[0].label == "2017/18"


def test_header_below_a_title_and_blank_rows_keeps_file_row_numbers():
    data = csv_bytes(
        [
            ["Plymouth returns"],
            [],
            ["Indicator", "Area", "Period", "Value"],
            [],
            ["pct-monthly", "99P", "Aug-17", "abc"],
        ]
    )

    result = parse(data)

    assert where(result) == [(5, "Value", P.NOT_A_NUMBER)]


def test_wide_sheet_reads_one_value_per_period_column():
    data = csv_bytes(
        [
            ["Indicator", "Area", "Title", "2016/17", "2017-18"],
            ["rate-yearly", "99P", "Rate", "10", "11"],
            ["count-quarterly", "99P", "Count", "", ""],
        ]
    )

    result = parse(data)

    assert result.format == "wide"
    assert result.problems == []
    assert result.frame["value"].tolist() == [10.0, 11.0]
    assert result.sheets[0].ignored_columns == ["Title"]


def test_wide_problem_is_at_the_cell_under_the_period_heading():
    data = csv_bytes(
        [
            ["Indicator", "Area", "Aug-17", "Sep-17"],
            ["pct-monthly", "99P", "85", "oops"],
        ]
    )

    result = parse(data)

    assert where(result) == [(2, "Sep-17", P.NOT_A_NUMBER)]


def test_xlsx_merged_heading_dates_percent_format_and_sheet_as_area():
    data = xlsx_bytes(
        {
            "Monthly": [
                ["Indicator", "Area", _date(2017, 8), _date(2017, 9)],
                ["pct-monthly", "99P", 0.857, 0.86],
            ],
            "Plymouth": [["Indicator", "2017/18 Q1"], ["count-quarterly", 12]],
            "Notes": [["Just text"]],
        },
        formats={"Monthly": {"C2": "0.0%", "D2": "0.0%"}},
    )

    result = parse(data)

    assert result.problems == []
    assert result.frame[["ind", "area", "value"]].values.tolist() == [
        [1, 3, 85.7],
        [1, 3, 86.0],
        [2, 1, 12.0],
    ]
    assert result.skipped_sheets == [("Notes", "no recognised header row")]


def test_xlsx_formula_without_a_saved_result_is_a_problem():
    data = xlsx_bytes(
        {
            "Sheet": [
                ["Indicator", "Area", "Period", "Value"],
                ["pct-monthly", "99P", "Aug-17", "=1+1"],
            ]
        }
    )

    result = parse(data)

    assert ("Sheet", 2, "Value", P.FORMULA_WITHOUT_VALUE) in [
        (p.sheet, p.row, p.column, p.code) for p in result.problems
    ]


def test_xlsx_named_sheet_only():
    data = xlsx_bytes(
        {
            "A": [
                ["Indicator", "Area", "Period", "Value"],
                ["pct-monthly", "99P", "Aug-17", "1"],
            ],
            "B": [["x"]],
        }
    )

    assert parse(data, sheet="a").problems == []


def test_fingertips_rows_for_unused_breakdowns_are_skipped_and_counted():
    header = [
        "Indicator ID",
        "Indicator Name",
        "Area Code",
        "Area Name",
        "Area Type",
        "Sex",
        "Age",
        "Category Type",
        "Category",
        "Time period",
        "Value",
        "Lower CI 95.0 limit",
        "Upper CI 95.0 limit",
        "Count",
        "Denominator",
        "Value note",
    ]
    rows = [
        [92443, "Smoking", "E92000001", "England", "England", "Persons", "18+ yrs", "", "", "2018", "14.4", "14.2", "14.6", "", "", ""],
        [92443, "Smoking", "E06000052", "Cornwall", "Counties & UAs", "Persons", "18+ yrs", "", "", "2018", "13.6", "11.4", "15.8", "", "", ""],
        [92443, "Smoking", "E92000001", "England", "England", "Male", "18+ yrs", "", "", "2018", "16.4", "16.1", "16.7", "", "", ""],
        [92443, "Smoking", "E92000001", "England", "England", "Persons", "18+ yrs", "Deprivation deciles", "Most deprived", "2018", "19.3", "18.5", "20.1", "", "", ""],
        [90001, "By sex", "E92000001", "England", "England", "Female", "18+ yrs", "", "", "2018", "12", "", "", "", "", ""],
        [90001, "By sex", "E92000001", "England", "England", "Persons", "18+ yrs", "", "", "2018", "13", "", "", "", "", ""],
        [90001, "By sex", "E92000001", "England", "England", "Persons", "18+ yrs", "Deprivation deciles", "Most deprived", "2018", "19.3", "18.5", "20.1", "", "", ""],
    ]  # fmt: skip

    result = parse(csv_bytes([header, *rows]))

    assert result.problems == []
    assert result.format == "fingertips"
    assert result.skipped_count == 3
    assert [s.row for s in result.skipped] == [4, 5, 8]
    assert result.frame[["ind", "area", "breakdown"]].values.tolist() == [
        [4, 2, ""],
        [4, -1, ""],
        [9, 2, "Female"],
        [9, 2, ""],
    ]
    assert [(a.code, a.name, a.kind) for a in result.new_areas] == [
        ("E06000052", "Cornwall", "unitary")
    ]


def test_fingertips_unknown_indicator_is_a_problem_unless_created():
    header = [
        "Indicator ID",
        "Indicator Name",
        "Area Code",
        "Area Name",
        "Area Type",
        "Sex",
        "Age",
        "Category Type",
        "Category",
        "Time period",
        "Value",
    ]
    data = csv_bytes(
        [
            header,
            [
                93014,
                "Percentage of physically active adults",
                "E92000001",
                "England",
                "England",
                "Persons",
                "19+ yrs",
                "",
                "",
                "2018",
                "66.3",
            ],
        ]
    )

    assert where(parse(data)) == [(2, "Indicator ID", P.INDICATOR_UNKNOWN)]
    created = parse(data, create_missing_indicators=True)
    assert created.problems == []
    assert [
        (i.fingertips_id, i.measure_type, i.period_type) for i in created.new_indicators
    ] == [(93014, "percentage", "calendar_year")]


@pytest.mark.parametrize(
    ("code", "area_type", "kind"),
    [
        ("E92000001", "England", "country"),
        ("E06000052", "UA", "unitary"),
        ("E07000044", "", "district"),
        ("Q99", "Sub-ICB", "ccg"),
        ("Z1", "", "other"),
    ],
)
def test_area_kind_from_code_or_type(code, area_type, kind):
    assert area_kind(code, area_type) == kind


def _date(year, month):
    from datetime import datetime

    return datetime(year, month, 1)  # noqa: DTZ001 - Excel dates are naive
