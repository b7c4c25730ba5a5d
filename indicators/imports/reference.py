"""What a return is checked against: the system's indicators and the known areas.

Plain data, built by `indicators.selectors.import_reference` from the database, so that the
parsing and checking in `indicators.imports.parsing` stay pure and testable without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PERCENTAGE = "percentage"
NON_NEGATIVE_MEASURES = frozenset({"count", "rate", "rate_per_1000", "rate_per_100000"})
# A numerator above its denominator is a mistake except where the measure is a ratio of
# two unrelated quantities (e.g. observed / expected).
NUMERATOR_CHECK_EXEMPT = frozenset({"ratio"})
MEASURE_NAMES = {
    "percentage": "percentage",
    "count": "count",
    "rate_per_1000": "rate per 1,000",
    "rate_per_100000": "rate per 100,000",
    "score": "score",
    "ratio": "ratio",
    "rate": "rate",
    "currency": "sum of money",
    "other": "measure",
}
PERIOD_NAMES = {
    "month": "month",
    "quarter": "financial quarter",
    "financial_year": "financial year",
    "calendar_year": "calendar year",
    "multi_year": "pooled years",
}
BREAKDOWN_DIMENSIONS = ("sex", "age", "category")


def token(text: object) -> str:
    """An indicator code or key as compared: case and spacing do not matter."""
    return " ".join(str(text).split()).lower()


@dataclass(frozen=True)
class IndicatorRef:
    id: int
    key: str
    title: str
    measure_type: str
    period_type: str | None
    fingertips_id: int | None = None
    breakdowns: frozenset[str] = frozenset()
    # Whether the indicator's current values include any above 1 (None: it has none);
    # settles whether a file's 0.857 means 85.7% or 0.857%.
    values_above_one: bool | None = None

    @property
    def label(self) -> str:
        return self.title or self.key


@dataclass(frozen=True)
class AreaRef:
    id: int
    code: str
    name: str


@dataclass
class Reference:
    system_id: int
    system_name: str
    indicators: dict[int, IndicatorRef] = field(default_factory=dict)
    areas: dict[int, AreaRef] = field(default_factory=dict)
    tokens: dict[str, list[int]] = field(default_factory=dict)
    fingertips: dict[int, int] = field(default_factory=dict)
    areas_by_code: dict[str, int] = field(default_factory=dict)
    areas_by_name: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        system_id: int,
        system_name: str,
        indicators: list[IndicatorRef],
        areas: list[AreaRef],
        codes: dict[int, str] | None = None,
    ) -> Reference:
        """`codes` are the indicators' codes ("PHOF 2.14"); keys are always accepted."""
        ref = cls(system_id=system_id, system_name=system_name)
        for indicator in indicators:
            ref.indicators[indicator.id] = indicator
            ref.tokens.setdefault(token(indicator.key), []).append(indicator.id)
            if indicator.fingertips_id is not None:
                ref.fingertips[indicator.fingertips_id] = indicator.id
        for indicator_id, code in (codes or {}).items():
            if code and token(code) != token(ref.indicators[indicator_id].key):
                ids = ref.tokens.setdefault(token(code), [])
                if indicator_id not in ids:
                    ids.append(indicator_id)
        for area in areas:
            ref.areas[area.id] = area
            ref.areas_by_code[area.code.strip().upper()] = area.id
            ref.areas_by_name.setdefault(token(area.name), []).append(area.id)
        return ref


_PER_100K = re.compile(r"per\s*100[,\s]?000")
_PER_1K = re.compile(r"per\s*1[,\s]?000\b")


def guess_measure_type(name: str) -> str:
    """The measure type of a national indicator brought in from Fingertips, from its name
    (editable afterwards in the admin)."""
    text = name.lower()
    if _PER_100K.search(text):
        return "rate_per_100000"
    if _PER_1K.search(text):
        return "rate_per_1000"
    if "%" in text or any(
        w in text for w in ("percentage", "proportion", "prevalence", "percent")
    ):
        return "percentage"
    if "rate" in text:
        return "rate"
    if text.startswith(("number", "count")):
        return "count"
    return "other"
