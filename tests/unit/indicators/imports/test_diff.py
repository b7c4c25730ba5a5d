from datetime import date

import numpy as np
import pandas as pd

from indicators.imports.diff import (
    NEW,
    REVISED,
    UNCHANGED,
    compare,
    empty_current,
    fingerprint,
)
from indicators.periods import PeriodSpec

PERIODS = [PeriodSpec("month", date(2017, 8, 1), date(2017, 8, 31), "Aug-17")]


def candidates(values):
    return pd.DataFrame(
        {
            "sheet": 0,
            "row": range(2, 2 + len(values)),
            "ind": [1] * len(values),
            "area": list(range(1, len(values) + 1)),
            "period": 0,
            "breakdown": "",
            "value": values,
            "numerator": np.nan,
            "denominator": np.nan,
            "lower_ci": np.nan,
            "upper_ci": np.nan,
            "note": "",
        }
    )


def current(rows):
    frame = empty_current()
    for old_id, area, value in rows:
        frame.loc[len(frame)] = [
            old_id,
            1,
            area,
            10,
            "",
            value,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            "",
            99,
        ]
    return frame.astype(
        {
            "old_id": np.int64,
            "ind": np.int64,
            "area": np.int64,
            "period_id": np.int64,
            "old_return": np.int64,
        }
    )


def test_compare_counts_new_revised_unchanged():
    result = compare(
        candidates([1.0, 2.0, 3.0]), np.array([10]), current([(7, 2, 2.0), (8, 3, 3.5)])
    )

    assert (result.new, result.revised, result.unchanged) == (1, 1, 1)
    assert result.frame["status"].tolist() == [NEW, UNCHANGED, REVISED]
    assert result.frame["old_id"].tolist() == [0, 7, 8]


def test_missing_value_equals_missing_value():
    result = compare(candidates([np.nan]), np.array([10]), current([(7, 1, np.nan)]))

    assert result.unchanged == 1


def test_new_period_makes_every_value_new():
    result = compare(candidates([1.0]), np.array([-1]), current([(7, 1, 1.0)]))

    assert result.new == 1


def test_fingerprint_is_stable_and_changes_with_the_data():
    one = compare(candidates([1.0, 2.0]), np.array([10]), current([]))
    same = compare(candidates([1.0, 2.0]), np.array([10]), current([]))
    other = compare(candidates([1.0, 2.0]), np.array([10]), current([(5, 1, 0.5)]))

    first = fingerprint(one, PERIODS, system_id=1, extra=[])
    assert first == fingerprint(same, PERIODS, system_id=1, extra=[])
    assert first != fingerprint(other, PERIODS, system_id=1, extra=[])
    assert first != fingerprint(one, PERIODS, system_id=2, extra=[])
