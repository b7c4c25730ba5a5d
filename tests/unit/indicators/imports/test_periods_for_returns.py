from datetime import date, datetime

import pytest

from indicators.periods import PeriodLabelError, parse_period, parse_period_value


def test_dashed_financial_year_reads_as_pooled_years_unless_financial_is_expected():
    assert parse_period("2017-18").kind == "multi_year"
    assert parse_period("2017-18", prefer="financial_year").label == "2017/18"
    assert parse_period("2017-2018", prefer="financial_year").label == "2017/18"
    assert parse_period("2015-17", prefer="financial_year").kind == "multi_year"


def test_pooled_financial_years():
    spec = parse_period("2015/16 - 17/18")

    assert (spec.kind, spec.start, spec.end) == (
        "multi_year",
        date(2015, 4, 1),
        date(2018, 3, 31),
    )


@pytest.mark.parametrize(
    ("value", "prefer", "label"),
    [
        (datetime(2017, 9, 1), None, "Sep-17"),  # noqa: DTZ001
        (date(2017, 9, 30), "quarter", "2017/18 Q2"),
        (date(2018, 2, 1), "financial_year", "2017/18"),
        (date(2018, 2, 1), "calendar_year", "2018"),
        ("01/04/2017", None, "Apr-17"),
        ("2017-04-01", "month", "Apr-17"),
        (42979, None, "Sep-17"),  # Excel's serial number for 1 September 2017
        (2017, None, "2017"),
        (2017.0, None, "2017"),
    ],
)
def test_parse_period_value_reads_excel_cells(value, prefer, label):
    assert parse_period_value(value, prefer=prefer).label == label


@pytest.mark.parametrize("value", [True, 2017.5, "31/02/2017", date(2017, 1, 1)])
def test_parse_period_value_rejects(value):
    with pytest.raises(PeriodLabelError):
        parse_period_value(
            value, prefer="multi_year" if isinstance(value, date) else None
        )
