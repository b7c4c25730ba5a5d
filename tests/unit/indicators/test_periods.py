from datetime import date
from pathlib import Path

import pytest
import yaml

from indicators.periods import PeriodLabelError, parse_period, parse_timeframe

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.mark.parametrize(
    ("label", "kind", "start", "end", "canonical"),
    [
        ("2017/18", "financial_year", date(2017, 4, 1), date(2018, 3, 31), "2017/18"),
        ("2016/17", "financial_year", date(2016, 4, 1), date(2017, 3, 31), "2016/17"),
        ("2017/18 Q2", "quarter", date(2017, 7, 1), date(2017, 9, 30), "2017/18 Q2"),
        ("2017/18 - Q2", "quarter", date(2017, 7, 1), date(2017, 9, 30), "2017/18 Q2"),
        ("2017/18 Q4", "quarter", date(2018, 1, 1), date(2018, 3, 31), "2017/18 Q4"),
        ("Q1 2018/19", "quarter", date(2018, 4, 1), date(2018, 6, 30), "2018/19 Q1"),
        ("Aug-17", "month", date(2017, 8, 1), date(2017, 8, 31), "Aug-17"),
        ("Sep-17", "month", date(2017, 9, 1), date(2017, 9, 30), "Sep-17"),
        ("Mar-18", "month", date(2018, 3, 1), date(2018, 3, 31), "Mar-18"),
        ("Apr-19", "month", date(2019, 4, 1), date(2019, 4, 30), "Apr-19"),
        ("Feb-16", "month", date(2016, 2, 1), date(2016, 2, 29), "Feb-16"),
        ("Sep'18", "month", date(2018, 9, 1), date(2018, 9, 30), "Sep-18"),
        ("March 18", "month", date(2018, 3, 1), date(2018, 3, 31), "Mar-18"),
        ("2017", "calendar_year", date(2017, 1, 1), date(2017, 12, 31), "2017"),
        ("2015 - 17", "multi_year", date(2015, 1, 1), date(2017, 12, 31), "2015-17"),
        ("2014-2016", "multi_year", date(2014, 1, 1), date(2016, 12, 31), "2014-16"),
    ],
)
def test_parse_period_reads_every_seed_form(label, kind, start, end, canonical):
    spec = parse_period(label)

    assert (spec.kind, spec.start, spec.end, spec.label) == (
        kind,
        start,
        end,
        canonical,
    )


@pytest.mark.parametrize(
    "label", ["", "Q2", "2017/19", "Foo-17", "2017 - 15", "next year"]
)
def test_parse_period_rejects_what_is_not_a_period(label):
    with pytest.raises(PeriodLabelError):
        parse_period(label)


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("Apr-19", None, date(2019, 4, 30)),
        ("Oct-18", None, date(2018, 10, 31)),
        ("March 18", None, date(2018, 3, 31)),
        ("2017/18", None, date(2018, 3, 31)),
        ("2018", None, date(2018, 12, 31)),
        ("Jan-18 to Jul-18", date(2018, 1, 1), date(2018, 7, 31)),
        ("Autumn 2018", None, date(2018, 11, 30)),
        ("Ongoing- March 19", None, date(2019, 3, 31)),
        ("1st April 2019", None, date(2019, 4, 1)),
        ("ongoing", None, None),
        ("Implementation in line with complex needs tender", None, None),
    ],
)
def test_parse_timeframe_gives_due_date_as_written(text, start, due):
    timeframe = parse_timeframe(text)

    assert (timeframe.start, timeframe.due) == (start, due)


def _labels_in_fixtures():
    labels = set()
    for path in FIXTURES.glob("*/stocktake-*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for block in doc["overview"]:
            for group in block["groups"]:
                labels |= {str(row["most_recent_period"]) for row in group["rows"]}
    for path in FIXTURES.glob("*/indicators.yaml"):
        for entry in yaml.safe_load(path.read_text())["indicators"]:
            for target in entry.get("targets") or []:
                labels |= {str(target[k]) for k in ("due", "from") if target.get(k)}
    return sorted(labels)


def test_every_period_label_in_the_seed_data_parses():
    labels = _labels_in_fixtures()

    assert {"Aug-17", "2017/18 Q2", "2017/18 - Q2", "2016/17", "Sep-17"} <= set(labels)
    for label in labels:
        spec = parse_period(label)
        assert spec.start <= spec.end, label
