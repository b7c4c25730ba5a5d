"""The command line: exit status 0 when committed (or valid with --dry-run), 1 with the
problems printed one per line as row, column, code, message."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.imports import problems as P
from indicators.models import Observation, Return

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"

MESSY_PROBLEMS = [
    "3, Indicator, indicator_unknown, 'PHOF 9.99' is not an indicator of Plymouth and the Western Locality.",
    "4, Area, area_unknown, 'E06000999' is not a known area code.",
    "5, Period, period_invalid, '2017/19' is not a period: a financial year runs into the next year.",
    "6, Period, period_wrong_type, '2017/18' is a financial year but Estimated diagnosis rates for Dementia is reported by month.",
    "7, Value, not_a_number, '12,3' is not a number.",
    "8, Value, percentage_out_of_range, '105.2' is outside 0-100 for a percentage.",
    "9, Value, negative_value, '-5' is negative; a count cannot be negative.",
    "10, Lower CI, ci_lower_above_value, The lower confidence limit '16.0' is above the value 15.3.",
    "11, Upper CI, ci_upper_below_value, The upper confidence limit '14.9' is below the value 15.3.",
    "12, Numerator, numerator_above_denominator, The numerator '530' is larger than the denominator 420.",
    "13, -, duplicate_row, dementia-diagnosis-rate, 99P, Sep-17 is also on row 2: a value may appear only once in a file.",
    "14, Area, required_empty, The Area is empty.",
    "15, Value, percent_not_percentage, '12%' has a % sign but Number of children in residential care is a count, not a percentage.",
    "17, J (no heading), row_too_many_cells, This row has 10 cells but the header has 9: a number such as 1,388 may need quotes, or a cell holds a stray separator.",
    "18, Note, text_too_long, The Note is 639 characters long; at most 500 are kept.",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_returns", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_messy_file_exits_1_with_every_problem_one_per_line(plymouth):
    before = Observation.objects.count()

    code, out, err = run(str(EXAMPLES / "messy-long.csv"))

    assert code == 1
    assert out.splitlines() == MESSY_PROBLEMS
    assert err == f"15 problems: {P.HAS_PROBLEMS}"
    assert Observation.objects.count() == before


def test_clean_file_dry_run_exits_0_and_writes_nothing(plymouth):
    before = (Observation.objects.count(), Return.objects.count())

    code, out, _ = run(str(EXAMPLES / "clean-long.csv"), "--dry-run")

    assert code == 0
    assert "8 new, 1 revised, 1 unchanged, 0 skipped" in out
    assert "Revised: iapt-recovery-rate, E06000026, Aug-17: 39.5 -> 41" in out
    assert out.splitlines()[-1] == "Dry run: nothing was written."
    assert (Observation.objects.count(), Return.objects.count()) == before


def test_clean_file_commits_then_changes_nothing(plymouth):
    code, out, _ = run(str(EXAMPLES / "clean-long.csv"), "--system", "plymouth")
    again_code, again, _ = run(str(EXAMPLES / "clean-long.csv"))

    the_return = Return.objects.get(kind="upload", file_name="clean-long.csv")
    assert code == 0
    assert (
        f"Committed return {the_return.pk} to Plymouth and the Western Locality." in out
    )
    assert (
        the_return.new_count,
        the_return.revised_count,
        the_return.unchanged_count,
    ) == (8, 1, 1)
    assert again_code == 0
    assert P.NOTHING_TO_CHANGE in again
    assert Return.objects.filter(kind="upload").count() == 1


def test_wide_workbook_every_sheet(plymouth):
    code, out, _ = run(str(EXAMPLES / "wide-tracker.xlsx"), "--format", "wide")

    assert code == 0
    assert "Sheet 'Children': header on row 2" in out
    assert "Sheet 'Notes' not read: no recognised header row" in out
    assert "8 new, 0 revised, 17 unchanged, 0 skipped" in out
    low_happiness = Observation.objects.get(
        indicator__key="self-reported-wellbeing-low-happiness",
        indicator__system=plymouth,
        period__label="2017/18",
        is_current=True,
    )
    assert low_happiness.value == 9.1  # the formula's saved result


def test_one_sheet_of_a_workbook(plymouth):
    code, out, _ = run(
        str(EXAMPLES / "wide-tracker.xlsx"), "--sheet", "Children", "--dry-run"
    )

    assert code == 0
    assert "4 new, 0 revised, 6 unchanged, 0 skipped" in out


def test_file_level_problems_exit_1(plymouth):
    empty = run(str(EXAMPLES / "empty.csv"))
    columns = run(str(EXAMPLES / "missing-columns.csv"), "--system", "plymouth")

    assert empty[:2] == (1, "-, -, file_empty, The file is empty.\n")
    assert columns[:2] == (
        1,
        "1, Area, column_missing, The required column 'Area' is missing.\n"
        "1, Value, column_missing, The required column 'Value' is missing.\n",
    )


def test_system_must_be_named_when_it_cannot_be_told(plymouth):
    code, out, _ = run(str(EXAMPLES / "fingertips-national-indicators.csv"))

    assert code == 1
    assert out.startswith("-, -, system_required, ")


def test_unknown_system_and_missing_file_exit_1(db, tmp_path):
    assert run(str(tmp_path / "nope.csv"))[0] == 1
    code, _, err = run(str(EXAMPLES / "clean-long.csv"), "--system", "nowhere")
    assert code == 1
    assert "There is no system 'nowhere'" in err


def test_fingertips_with_created_indicators(plymouth):
    code, out, _ = run(
        str(EXAMPLES / "fingertips-national-indicators.csv"),
        "--system",
        "plymouth",
        "--create-missing-indicators",
    )

    assert code == 0
    assert (
        "Indicator to create: Fingertips 93014 Percentage of physically active adults"
        in out
    )
