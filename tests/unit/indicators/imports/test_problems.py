import csv
import io

from indicators.imports import problems as P


def test_every_code_has_a_message_and_a_description():
    assert set(P.MESSAGES) == set(P.DESCRIPTIONS)


def test_problem_reads_where_it_is():
    item = P.problem(P.NOT_A_NUMBER, row=14, column="Value", value="12,3")

    assert str(item) == "Row 14, column Value: '12,3' is not a number."
    assert item.cli_line() == "14, Value, not_a_number, '12,3' is not a number."


def test_problem_in_a_sheet_and_file_level_problem():
    in_sheet = P.problem(
        P.NOT_A_NUMBER, row=3, column="Aug-17", value="x", sheet="Hospital"
    )
    file_level = P.problem(P.FILE_EMPTY)

    assert (
        str(in_sheet) == "Sheet 'Hospital', Row 3, column Aug-17: 'x' is not a number."
    )
    assert (
        in_sheet.cli_line() == "Hospital!3, Aug-17, not_a_number, 'x' is not a number."
    )
    assert file_level.cli_line() == "-, -, file_empty, The file is empty."


def test_problem_report_is_safe_from_formula_injection():
    items = [
        P.problem(
            P.NOT_A_NUMBER, row=2, column="=Value", value='=HYPERLINK("http://x")'
        ),
        P.problem(P.NOT_A_NUMBER, row=3, column="Value", value="+1+1"),
        P.problem(P.NOT_A_NUMBER, row=4, column="Value", value="-2-2"),
        P.problem(P.NOT_A_NUMBER, row=5, column="Value", value="@SUM(A1)"),
        P.problem(P.NOT_A_NUMBER, row=6, column="Value", value="fine"),
    ]

    rows = list(csv.reader(io.StringIO(P.problems_csv(items))))

    assert rows[0] == ["Sheet", "Row", "Column", "Value", "Code", "Message"]
    assert [r[3] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2-2",
        "'@SUM(A1)",
        "fine",
    ]
    assert rows[1][2] == "'=Value"
    assert all(not r[5].startswith(("=", "+", "-", "@")) for r in rows[1:])


def test_long_values_are_shortened_in_messages():
    item = P.problem(P.NOT_A_NUMBER, row=2, column="Value", value="9" * 500)

    assert len(item.value) == 120
    assert item.value.endswith("…")
