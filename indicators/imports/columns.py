"""Which row is the header, which format the sheet is in and which column holds what.

Three formats:
- long: one value per row (indicator code, area code, period, value, and optionally
  numerator, denominator, lower and upper confidence limits, note, breakdown);
- wide: one row per indicator (and area), one column per period, as in Excel trackers;
  with no Area column, the sheet's name is read as the area;
- fingertips: an OHID Fingertips data download, recognised by its own headings.

The header is the row, among the first rows of the sheet, that reads best as one of these;
a heading merged across several columns above it (e.g. "2017/18" over Q1..Q4) is joined to
the headings below it ("2017/18 Q1").

Pure: imports nothing from Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indicators.imports import problems as P
from indicators.periods import PeriodLabelError, PeriodSpec, parse_period_value

LONG = "long"
WIDE = "wide"
FINGERTIPS = "fingertips"
FORMATS = (LONG, WIDE, FINGERTIPS)

# Field -> the headings it is known by (normalised: lower case, words only), best first.
LONG_HEADINGS: dict[str, tuple[str, ...]] = {
    "indicator": (
        "indicator code",
        "indicator key",
        "indicator",
        "indicator id",
        "indicator ref",
        "measure code",
        "kpi code",
        "code",
        "key",
    ),
    "area": (
        "area code",
        "area",
        "org code",
        "organisation code",
        "organization code",
        "geography code",
        "ons code",
        "ods code",
    ),
    "period": (
        "period label",
        "period",
        "time period",
        "reporting period",
        "month",
        "quarter",
        "year",
        "date",
    ),
    "value": ("value", "actual", "result", "figure"),
    "numerator": ("numerator", "count"),
    "denominator": ("denominator", "population"),
    "lower_ci": (
        "lower ci",
        "lower ci 95 0 limit",
        "lower ci 95 limit",
        "lower 95 ci",
        "lower 95 limit",
        "lower confidence limit",
        "lower confidence interval",
        "confidence interval lower",
        "lower limit",
        "lcl",
        "lci",
        "lower",
    ),
    "upper_ci": (
        "upper ci",
        "upper ci 95 0 limit",
        "upper ci 95 limit",
        "upper 95 ci",
        "upper 95 limit",
        "upper confidence limit",
        "upper confidence interval",
        "confidence interval upper",
        "upper limit",
        "ucl",
        "uci",
        "upper",
    ),
    "note": ("note", "notes", "comment", "comments", "value note"),
    "breakdown": ("breakdown", "subgroup"),
}
LONG_REQUIRED = ("indicator", "area", "period", "value")
WIDE_HEADINGS = {
    k: LONG_HEADINGS[k] for k in ("indicator", "area", "note", "breakdown")
}
FINGERTIPS_HEADINGS: dict[str, tuple[str, ...]] = {
    "indicator": ("indicator id",),
    "indicator_name": ("indicator name",),
    "area": ("area code",),
    "area_name": ("area name",),
    "area_type": ("area type",),
    "sex": ("sex",),
    "age": ("age",),
    "category_type": ("category type",),
    "category": ("category",),
    "period": ("time period",),
    "value": ("value",),
    "lower_ci": ("lower ci 95 0 limit", "lower ci 95 limit"),
    "upper_ci": ("upper ci 95 0 limit", "upper ci 95 limit"),
    "numerator": ("count",),
    "denominator": ("denominator",),
    "note": ("value note",),
}
FINGERTIPS_REQUIRED = ("indicator", "area", "period", "value")
FINGERTIPS_SIGNATURE = ("indicator id", "area code", "time period")
# How a missing required column is named to the analyst.
FIELD_NAMES = {
    "indicator": "Indicator",
    "area": "Area",
    "period": "Period",
    "value": "Value",
}
FINGERTIPS_FIELD_NAMES = {
    "indicator": "Indicator ID",
    "area": "Area Code",
    "period": "Time period",
    "value": "Value",
}

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(heading: object) -> str:
    if heading is None:
        return ""
    return _NON_WORD.sub(" ", str(heading).lower()).strip()


def heading_text(cell: object) -> str:
    if cell is None:
        return ""
    return P.display(cell).strip()


@dataclass
class PeriodColumn:
    index: int
    heading: str  # as the analyst sees it
    spec: PeriodSpec  # as read without knowing the indicator
    raw: object  # the cell itself (a date, a number, text)


@dataclass
class Layout:
    format: str
    header_index: int  # 0-based index of the header row in the sheet
    headings: list[str]
    fields: dict[str, int] = field(default_factory=dict)
    period_columns: list[PeriodColumn] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[P.Problem] = field(default_factory=list)
    score: int = 0

    @property
    def header_row(self) -> int:
        return self.header_index + 1

    def heading(self, name: str) -> str:
        index = self.fields.get(name)
        if index is None:
            return FIELD_NAMES.get(name, name)
        return self.headings[index] or FIELD_NAMES.get(name, name)


def _map_fields(
    headings: list[str], known: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Field -> column index, by the best-ranked heading; and clashes of equal rank."""
    best: dict[str, tuple[int, int]] = {}
    clashes: dict[str, list[int]] = {}
    for index, heading in enumerate(headings):
        norm = normalise(heading)
        if not norm:
            continue
        for name, options in known.items():
            if norm in options:
                rank = options.index(norm)
                if name not in best or rank < best[name][0]:
                    best[name] = (rank, index)
                    clashes.pop(name, None)
                elif rank == best[name][0]:
                    clashes.setdefault(name, [best[name][1]]).append(index)
                break
    return {name: index for name, (_, index) in best.items()}, clashes


def _period_spec(cell: object) -> PeriodSpec | None:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    try:
        return parse_period_value(cell)
    except PeriodLabelError:
        # "2017-18" reads as pooled calendar years; financial-yearly rows read it again
        # knowing their indicator, so it still counts as a period heading.
        return None


def _candidate(
    cells: list[object], index: int, requested: str, sheet: str
) -> Layout | None:
    headings = [heading_text(c) for c in cells]
    norms = {normalise(h) for h in headings}
    best: Layout | None = None
    formats = FORMATS if requested in ("", "auto") else (requested,)
    if FINGERTIPS in formats and (
        requested == FINGERTIPS or all(s in norms for s in FINGERTIPS_SIGNATURE)
    ):
        fields, clashes = _map_fields(headings, FINGERTIPS_HEADINGS)
        if len(fields) >= 2:
            layout = Layout(
                FINGERTIPS, index, headings, fields, score=100 + len(fields)
            )
            _check_required(layout, FINGERTIPS_REQUIRED, FINGERTIPS_FIELD_NAMES, sheet)
            _check_clashes(layout, clashes, sheet)
            best = layout
    if best is None and LONG in formats:
        fields, clashes = _map_fields(headings, LONG_HEADINGS)
        if len(fields) >= 2 and (
            requested == LONG or "value" in fields or "period" in fields
        ):
            layout = Layout(LONG, index, headings, fields, score=len(fields) * 2)
            _check_required(layout, LONG_REQUIRED, FIELD_NAMES, sheet)
            _check_clashes(layout, clashes, sheet)
            best = layout
    if WIDE in formats:
        fields, clashes = _map_fields(headings, WIDE_HEADINGS)
        periods = []
        for column, cell in enumerate(cells):
            if column in fields.values():
                continue
            spec = _period_spec(cell)
            if spec is not None:
                periods.append(PeriodColumn(column, headings[column], spec, cell))
        if (
            "indicator" in fields
            and periods
            and "period"
            not in {k for k, _ in _map_fields(headings, LONG_HEADINGS)[0].items()}
        ):
            distinct: dict[PeriodSpec, list[PeriodColumn]] = {}
            for column in periods:
                distinct.setdefault(column.spec, []).append(column)
            score = 1 + len(distinct) + len(fields)
            if best is None or score > best.score:
                layout = Layout(WIDE, index, headings, fields, periods, score=score)
                _check_clashes(layout, clashes, sheet)
                for same in distinct.values():
                    if len(same) > 1:
                        layout.problems.append(
                            P.problem(
                                P.COLUMN_DUPLICATED,
                                row=layout.header_row,
                                column=same[-1].heading,
                                value=" and ".join(f"'{c.heading}'" for c in same),
                                sheet=sheet,
                            )
                        )
                best = layout
    return best


def _check_required(
    layout: Layout, required: tuple[str, ...], names: dict[str, str], sheet: str
) -> None:
    for name in required:
        if name not in layout.fields:
            layout.problems.append(
                P.problem(
                    P.COLUMN_MISSING,
                    row=layout.header_row,
                    column=names[name],
                    sheet=sheet,
                )
            )


def _check_clashes(layout: Layout, clashes: dict[str, list[int]], sheet: str) -> None:
    for name, indexes in clashes.items():
        shown = " and ".join(f"'{layout.headings[i]}'" for i in indexes)
        layout.problems.append(
            P.problem(
                P.COLUMN_DUPLICATED,
                row=layout.header_row,
                column=layout.headings[indexes[-1]],
                value=shown,
                sheet=sheet,
            )
        )
        # Neither column is used, so no value is taken from the wrong one.
        layout.fields.pop(name, None)


def _joined_with_group_row(
    row: list[object], above: list[object], spans: list[tuple[int, int]]
) -> list[object]:
    joined = list(row)
    for first, last in spans:
        group = heading_text(above[first]) if first < len(above) else ""
        if not group:
            continue
        for column in range(first, min(last, len(joined) - 1) + 1):
            below = heading_text(joined[column])
            joined[column] = (
                group if not below or below == group else f"{group} {below}"
            )
    return joined


def detect_layout(
    head: list[list[object]],
    *,
    requested: str = "auto",
    merged_spans: dict[int, list[tuple[int, int]]] | None = None,
    sheet: str = "",
) -> Layout | None:
    """The best header among the first rows, or None when no row reads as one."""
    merged_spans = merged_spans or {}
    best: Layout | None = None
    for index, row in enumerate(head):
        if not any(heading_text(c) for c in row):
            continue
        options = [row]
        if index > 0 and merged_spans.get(index - 1):
            options.append(
                _joined_with_group_row(row, head[index - 1], merged_spans[index - 1])
            )
        for cells in options:
            layout = _candidate(list(cells), index, requested, sheet)
            if layout is not None and (best is None or layout.score > best.score):
                best = layout
    if best is not None:
        used = set(best.fields.values()) | {c.index for c in best.period_columns}
        best.ignored = [h for i, h in enumerate(best.headings) if h and i not in used]
    return best
