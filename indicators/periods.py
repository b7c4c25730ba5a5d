"""One parser for every period label the seeds and analysts use, in UK conventions.

Financial years run April to March ("2017/18"); quarters are financial ("2017/18 Q2" is
July-September 2017); months are written "Aug-17", "Sep'18", "March 18"; "2017" is a calendar
year; "2015 - 17" is a pooled run of calendar years (PHOF three-year figures);
"2015/16 - 17/18" a pooled run of financial years (Fingertips).

Returns also carry what analysts type or Excel stores: `parse_period(label, prefer=...)`
reads "2017-18" as the financial year 2017/18 when the indicator is financial-yearly (and as
the pooled calendar years 2017-18 otherwise, as before), and `parse_period_value` reads Excel
dates, "01/04/2017", "2017-04-01" and Excel serial day numbers as the period of the
preferred kind that contains the date (a month when no kind is preferred).

Pure: imports nothing from Django, so it is shared by models, importers and tests.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "winter": (12, 2)}

MONTH = "month"
QUARTER = "quarter"
FINANCIAL_YEAR = "financial_year"
CALENDAR_YEAR = "calendar_year"
MULTI_YEAR = "multi_year"


class PeriodLabelError(ValueError):
    """The label is not a period this parser understands."""


@dataclass(frozen=True)
class PeriodSpec:
    kind: str
    start: date
    end: date
    label: str


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:
        return 2000 + value
    return value


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def month_period(year: int, month: int) -> PeriodSpec:
    label = f"{calendar.month_abbr[month]}-{year % 100:02d}"
    return PeriodSpec(MONTH, date(year, month, 1), _month_end(year, month), label)


def financial_year_period(start_year: int) -> PeriodSpec:
    label = f"{start_year}/{(start_year + 1) % 100:02d}"
    return PeriodSpec(
        FINANCIAL_YEAR, date(start_year, 4, 1), date(start_year + 1, 3, 31), label
    )


def quarter_period(start_year: int, quarter: int) -> PeriodSpec:
    """Financial quarter: Q1 is April-June of `start_year`, Q4 January-March after it."""
    first_month = 4 + 3 * (quarter - 1)
    year = start_year + (first_month - 1) // 12
    first_month = (first_month - 1) % 12 + 1
    label = f"{start_year}/{(start_year + 1) % 100:02d} Q{quarter}"
    return PeriodSpec(
        QUARTER,
        date(year, first_month, 1),
        _month_end(year, first_month + 2),
        label,
    )


def calendar_year_period(year: int) -> PeriodSpec:
    return PeriodSpec(CALENDAR_YEAR, date(year, 1, 1), date(year, 12, 31), str(year))


def multi_year_period(first_year: int, last_year: int) -> PeriodSpec:
    label = f"{first_year}-{last_year % 100:02d}"
    return PeriodSpec(
        MULTI_YEAR, date(first_year, 1, 1), date(last_year, 12, 31), label
    )


_YEAR = r"(\d{4}|\d{2})"
_FY = rf"{_YEAR}\s*/\s*{_YEAR}"
_SEP = r"[\s\-–—'’]*"  # noqa: RUF001 - documents use en dashes and curly quotes
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{_FY}{_SEP}Q([1-4])$", re.I), "fy_quarter"),
    (re.compile(rf"^Q([1-4]){_SEP}{_FY}$", re.I), "quarter_fy"),
    (re.compile(rf"^{_FY}$"), "fy"),
    (re.compile(rf"^([A-Za-z]+)\.?{_SEP}{_YEAR}$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(rf"^(\d{{4}})\s*[-–]\s*{_YEAR}$"), "years"),  # noqa: RUF001
]


def multi_financial_year_period(first_start: int, last_start: int) -> PeriodSpec:
    """Pooled financial years, e.g. 2015/16 - 17/18 (April 2015 to March 2018)."""
    label = (
        f"{first_start}/{(first_start + 1) % 100:02d} - "
        f"{last_start % 100:02d}/{(last_start + 1) % 100:02d}"
    )
    return PeriodSpec(
        MULTI_YEAR, date(first_start, 4, 1), date(last_start + 1, 3, 31), label
    )


def period_containing(day: date, kind: str | None) -> PeriodSpec:
    """The period of `kind` (a month when None) that contains `day`."""
    fy = day.year if day.month >= 4 else day.year - 1
    if kind in (None, MONTH):
        return month_period(day.year, day.month)
    if kind == QUARTER:
        return quarter_period(fy, (day.month - 4) % 12 // 3 + 1)
    if kind == FINANCIAL_YEAR:
        return financial_year_period(fy)
    if kind == CALENDAR_YEAR:
        return calendar_year_period(day.year)
    raise PeriodLabelError(f"a date ({day:%d/%m/%Y}) cannot name a pooled period")


_FY_POOLED = re.compile(
    rf"^{_FY}\s*[-–]\s*{_FY}$"  # noqa: RUF001
)
_FY_DASHED = re.compile(r"^(\d{4})\s*[-–]\s*(\d{2}|\d{4})$")  # noqa: RUF001
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
# Excel counts days from 30 December 1899 (its 1900 leap-year bug included).
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20000, 80000)  # 1954 to 2119: a plausible reporting date


def _date_in(text: str) -> date | None:
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _UK_DATE.match(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise PeriodLabelError(f"'{text}' is not a real date") from exc


def parse_period_value(value, *, prefer: str | None = None) -> PeriodSpec:
    """A period from a cell as a reader hands it over: text, an Excel date or datetime, a
    year as a number, or an Excel serial day number."""
    if isinstance(value, datetime):
        return period_containing(value.date(), prefer)
    if isinstance(value, date):
        return period_containing(value, prefer)
    if isinstance(value, bool):
        raise PeriodLabelError(
            f"'{value}' is not a period label this system understands"
        )
    if isinstance(value, int | float):
        if float(value).is_integer():
            number = int(value)
            low, high = EXCEL_SERIAL_RANGE
            if low <= number <= high:
                return period_containing(EXCEL_EPOCH + timedelta(days=number), prefer)
            return parse_period(str(number), prefer=prefer)
        raise PeriodLabelError(
            f"'{value}' is not a period label this system understands"
        )
    return parse_period(value if isinstance(value, str) else str(value), prefer=prefer)


def _fy_start(first: str, second: str) -> int:
    start, end = _year(first), _year(second)
    if end != start + 1:
        raise PeriodLabelError("a financial year runs into the next year")
    return start


def parse_period(label: str, *, prefer: str | None = None) -> PeriodSpec:
    """Parse one period label; raise PeriodLabelError with a plain message if it is not one.

    `prefer` is the period type the caller expects (an indicator's): it only settles labels
    that read two ways ("2017-18") and says which period a bare date names."""
    text = " ".join(str(label).split())
    if not text:
        raise PeriodLabelError("the period is empty")
    if prefer == FINANCIAL_YEAR:
        match = _FY_DASHED.match(text)
        if match and _year(match.group(2)) == int(match.group(1)) + 1:
            return financial_year_period(int(match.group(1)))
    match = _FY_POOLED.match(text)
    if match:
        first = _fy_start(match.group(1), match.group(2))
        last = _fy_start(
            str(first // 100 * 100 + int(match.group(3)))
            if len(match.group(3)) == 2
            else match.group(3),
            match.group(4),
        )
        if last <= first:
            raise PeriodLabelError(f"'{text}' ends before it starts")
        return multi_financial_year_period(first, last)
    day = _date_in(text)
    if day is not None:
        return period_containing(day, prefer)
    for pattern, form in _PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groups()
        if form == "fy_quarter":
            return quarter_period(_fy_start(groups[0], groups[1]), int(groups[2]))
        if form == "quarter_fy":
            return quarter_period(_fy_start(groups[1], groups[2]), int(groups[0]))
        if form == "fy":
            return financial_year_period(_fy_start(groups[0], groups[1]))
        if form == "month":
            month = MONTHS.get(groups[0].lower())
            if month is None:
                break
            return month_period(_year(groups[1]), month)
        if form == "year":
            return calendar_year_period(int(groups[0]))
        if form == "years":
            first, last = int(groups[0]), int(groups[1])
            if len(groups[1]) == 2:
                last += first // 100 * 100
            if last <= first:
                raise PeriodLabelError(f"'{text}' ends before it starts")
            return multi_year_period(first, last)
    raise PeriodLabelError(f"'{text}' is not a period label this system understands")


@dataclass(frozen=True)
class Timeframe:
    """What an action's timeframe says: an optional start and the date it is due by."""

    start: date | None
    due: date | None


_TIMEFRAME_TOKEN = re.compile(
    r"(?P<day>\b[0-3]?\d)(?:st|nd|rd|th)?\s+"
    rf"(?P<day_month>(?:{'|'.join(sorted(MONTHS, key=len, reverse=True))}))\.?\s+"
    r"(?P<day_year>\d{4})\b"
    rf"|(?P<fyq>{_FY}{_SEP}Q[1-4])"
    rf"|(?P<fy>{_FY})"
    rf"|(?P<season>(?:spring|summer|autumn|winter)){_SEP}(?P<season_year>\d{{4}}|\d{{2}})\b"
    rf"|(?P<month>(?:{'|'.join(sorted(MONTHS, key=len, reverse=True))}))\.?{_SEP}"
    rf"(?P<month_year>\d{{4}}|\d{{2}})\b"
    r"|(?P<years>\b\d{4}\s*[-–]\s*\d{4}\b)"  # noqa: RUF001
    r"|(?P<year>\b\d{4}\b)",
    re.I,
)


def _season_span(name: str, year: int) -> tuple[date, date]:
    first, last = SEASONS[name.lower()]
    end_year = year + 1 if last < first else year
    return date(year, first, 1), _month_end(end_year, last)


def parse_timeframe(text: str) -> Timeframe:
    """Read an action timeframe as written ("Apr-19", "Jan-18 to Jul-18", "2017/18",
    "Autumn 2018", "Ongoing- March 19", "ongoing"). The due date is the end of the latest
    period named; the start is the start of the earliest, when more than one is named.
    Text that names no period (e.g. "ongoing") has neither."""
    spans: list[tuple[date, date]] = []
    for match in _TIMEFRAME_TOKEN.finditer(text or ""):
        token = match.group(0)
        try:
            if match.group("day"):
                exact = date(
                    int(match.group("day_year")),
                    MONTHS[match.group("day_month").lower()],
                    int(match.group("day")),
                )
                spans.append((exact, exact))
                continue
            if match.group("season"):
                spans.append(
                    _season_span(
                        match.group("season"), _year(match.group("season_year"))
                    )
                )
                continue
            if match.group("years"):
                first, last = (int(y) for y in re.findall(r"\d{4}", token))
                spec = (
                    financial_year_period(first)
                    if last == first + 1
                    else multi_year_period(first, last)
                )
            else:
                spec = parse_period(token)
        except (PeriodLabelError, ValueError):
            continue
        spans.append((spec.start, spec.end))
    if not spans:
        return Timeframe(start=None, due=None)
    due = max(end for _, end in spans)
    start = min(start for start, _ in spans) if len(spans) > 1 else None
    return Timeframe(start=start, due=due)
