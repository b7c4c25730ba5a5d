"""Read a workbook's values against the reference data and find every problem at once.

`parse_workbook` turns the sheets of a return into one frame of candidate values, one row
per (indicator, area, period, breakdown), with their numbers in the stored convention
(percentages 0-100), and a list of every problem found, each where the analyst will find it.
Columns are checked whole (vectorised), chunk by chunk, so a million rows are cheap; only
distinct codes and labels, and the cells that are wrong, are looked at one by one.

Pure: imports nothing from Django.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from indicators.imports import columns as C
from indicators.imports import problems as P
from indicators.imports.numbers import parse_numbers, uses_decimal_comma
from indicators.imports.readers import Sheet, Workbook
from indicators.imports.reference import (
    MEASURE_NAMES,
    NON_NEGATIVE_MEASURES,
    NUMERATOR_CHECK_EXEMPT,
    PERCENTAGE,
    PERIOD_NAMES,
    IndicatorRef,
    Reference,
    guess_measure_type,
    token,
)
from indicators.periods import PeriodLabelError, PeriodSpec, parse_period_value

NOTE_LIMIT = 500
BREAKDOWN_LIMIT = 200
SKIPPED_KEPT = 2000  # skipped rows listed (all are counted)
NUMBER_FIELDS = ("value", "numerator", "denominator", "lower_ci", "upper_ci")
KEY = ["ind", "area", "period", "breakdown"]
FINGERTIPS_EXTRAS = ("indicator_name", "area_name", "area_type", "sex", "age")
FINGERTIPS_CATEGORY = ("category_type", "category")

Progress = Callable[[str, int, int], None]


@dataclass
class Options:
    format: str = "auto"
    sheet: str = ""
    create_missing_indicators: bool = False


@dataclass
class SheetReport:
    name: str
    format: str
    header_row: int
    values: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SkippedRow:
    sheet: str
    row: int
    reason: str


@dataclass
class NewArea:
    id: int  # negative until created
    code: str
    name: str
    kind: str
    area_type: str


@dataclass
class NewIndicator:
    id: int  # negative until created
    fingertips_id: int
    name: str
    measure_type: str
    period_type: str | None


@dataclass
class ParseResult:
    format: str = ""
    sheets: list[SheetReport] = field(default_factory=list)
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    number_style: str = ""
    percentage_convention: str = ""
    problems: list[P.Problem] = field(default_factory=list)
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    periods: list[PeriodSpec] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    skipped_count: int = 0
    skipped_reasons: Counter = field(default_factory=Counter)
    new_areas: list[NewArea] = field(default_factory=list)
    new_indicators: list[NewIndicator] = field(default_factory=list)
    indicators: dict[int, IndicatorRef] = field(default_factory=dict)
    area_labels: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


# Fingertips area types and ONS code prefixes -> Area.Kind
_AREA_KIND_BY_PREFIX = {
    "E92": "country",
    "E12": "region",
    "E40": "region",
    "E10": "county",
    "E06": "unitary",
    "E08": "unitary",
    "E09": "unitary",
    "W06": "unitary",
    "E07": "district",
    "E38": "ccg",
    "E54": "ccg",
}


def area_kind(code: str, area_type: str) -> str:
    kind = _AREA_KIND_BY_PREFIX.get(code[:3].upper())
    if kind:
        return kind
    text = area_type.lower()
    for word, kind in (
        ("england", "country"),
        ("region", "region"),
        ("county", "county"),
        ("district", "district"),
        ("ccg", "ccg"),
        ("sub-icb", "ccg"),
        ("trust", "trust"),
    ):
        if word in text:
            return kind
    return "other"


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return P.display(value, limit=10_000).strip()


class _Run:
    """The state of one parse: reference data, what is found, what is to be created."""

    def __init__(self, book: Workbook, reference: Reference, options: Options):
        self.book = book
        self.ref = reference
        self.options = options
        self.indicators: dict[int, IndicatorRef] = dict(reference.indicators)
        self.problems: list[tuple[tuple, P.Problem]] = []
        self.specs: list[PeriodSpec] = []
        self.spec_index: dict[PeriodSpec, int] = {}
        self.new_areas: dict[str, NewArea] = {}
        self.new_indicators: dict[int, NewIndicator] = {}
        self.pct_stats: dict[int, np.ndarray] = {}
        self.percent_signs = False
        self.frames: list[pd.DataFrame] = []
        self.decimal_comma = False

    # problems -------------------------------------------------------------------
    def add(self, sheet_no: int, column_no: int, item: P.Problem) -> None:
        self.problems.append(((sheet_no, item.row or 0, column_no), item))

    def spec_id(self, spec: PeriodSpec) -> int:
        index = self.spec_index.get(spec)
        if index is None:
            index = len(self.specs)
            self.specs.append(spec)
            self.spec_index[spec] = index
        return index


def sample_indicator_tokens(
    book: Workbook, options: Options
) -> tuple[set[str], set[int]]:
    """Indicator codes and Fingertips ids in the first rows of each sheet: enough to tell
    which system a file is for when the command line is not told."""
    tokens: set[str] = set()
    fingertips: set[int] = set()
    for sheet in book.sheets:
        layout = C.detect_layout(
            sheet.head, requested=options.format, merged_spans=sheet.merged_spans
        )
        if layout is None or "indicator" not in layout.fields:
            continue
        column = layout.fields["indicator"]
        for chunk in sheet.chunks(layout.header_index, len(layout.headings)):
            for cell in chunk[column].head(5000).tolist():
                text = _text(cell)
                if not text:
                    continue
                if layout.format == C.FINGERTIPS:
                    try:
                        fingertips.add(int(float(text)))
                    except ValueError:
                        continue
                else:
                    tokens.add(token(text))
            break
    return tokens, fingertips


def parse_workbook(
    book: Workbook,
    reference: Reference,
    options: Options,
    progress: Progress | None = None,
) -> ParseResult:
    run = _Run(book, reference, options)
    result = ParseResult(encoding=book.encoding, delimiter=book.delimiter)
    total = sum(s.estimated_rows for s in book.sheets) or 1
    done = 0
    layouts: list[tuple[int, Sheet, C.Layout]] = []
    for sheet_no, sheet in enumerate(book.sheets):
        layout = C.detect_layout(
            sheet.head,
            requested=options.format,
            merged_spans=sheet.merged_spans,
            sheet=sheet.name,
        )
        if layout is None:
            if book.kind == "csv" or options.sheet:
                where = f" in sheet '{sheet.name}'" if sheet.name else ""
                run.add(
                    sheet_no,
                    0,
                    P.problem(P.HEADER_NOT_FOUND, sheet=sheet.name, where=where),
                )
            else:
                result.skipped_sheets.append((sheet.name, "no recognised header row"))
            continue
        layouts.append((sheet_no, sheet, layout))
        for item in layout.problems:
            run.add(sheet_no, 0, item)
    if book.kind == "xlsx" and not layouts and not run.problems:
        run.add(
            0,
            0,
            P.problem(P.HEADER_NOT_FOUND, where=" in any sheet of the workbook"),
        )
    formats = {layout.format for _, _, layout in layouts}
    result.format = "/".join(sorted(formats))
    for sheet_no, sheet, layout in layouts:
        report = SheetReport(
            name=sheet.name,
            format=layout.format,
            header_row=layout.header_row,
            ignored_columns=layout.ignored,
        )
        result.sheets.append(report)
        if any(item.code == P.COLUMN_MISSING for item in layout.problems):
            continue  # nothing below a header missing a required column can be read
        area_override = None
        if layout.format == C.WIDE and "area" not in layout.fields:
            area_override = _sheet_area(run, sheet_no, sheet, layout)
            if area_override is None:
                continue
        width = len(layout.headings)
        first = True
        for chunk in sheet.chunks(layout.header_index, width):
            if (
                first
                and not sheet.excel
                and book.kind == "csv"
                and book.delimiter != "comma"
            ):
                run.decimal_comma = _decimal_comma(chunk, layout)
            first = False
            raw = _raw_frame(run, sheet_no, sheet, layout, chunk, width, area_override)
            if len(raw):
                checked = _check(run, sheet_no, sheet, layout, raw)
                report.values += int((~checked["bad"]).sum()) if len(checked) else 0
                run.frames.append(checked)
            done += len(chunk)
            if progress:
                progress("Checking values", min(done, total), total)
        if sheet.formulas_without_value:
            _formula_problems(run, sheet_no, sheet, layout)
    return _finish(run, result, progress)


def _decimal_comma(chunk: pd.DataFrame, layout: C.Layout) -> bool:
    samples: list[str] = []
    for name in NUMBER_FIELDS:
        if name in layout.fields:
            samples.extend(
                str(v) for v in chunk[layout.fields[name]].head(2000).tolist()
            )
    for column in layout.period_columns:
        samples.extend(str(v) for v in chunk[column.index].head(2000).tolist())
    return uses_decimal_comma(samples)


def _sheet_area(run: _Run, sheet_no: int, sheet: Sheet, layout: C.Layout) -> int | None:
    """A wide sheet with no Area column is one area's tracker, named by the sheet."""
    name = sheet.name.strip()
    area_id = run.ref.areas_by_code.get(name.upper())
    if area_id is None:
        matches = run.ref.areas_by_name.get(token(name), []) if name else []
        area_id = matches[0] if len(matches) == 1 else None
    if area_id is None:
        run.add(
            sheet_no,
            0,
            P.problem(
                P.COLUMN_MISSING, row=layout.header_row, column="Area", sheet=sheet.name
            ),
        )
    return area_id


def _raw_frame(
    run: _Run,
    sheet_no: int,
    sheet: Sheet,
    layout: C.Layout,
    chunk: pd.DataFrame,
    width: int,
    area_override: int | None,
) -> pd.DataFrame:
    """The chunk as named fields, one candidate value per row (wide sheets melted), with
    the heading each value and period came from."""
    if not sheet.excel:
        cell_columns = [c for c in chunk.columns if c != "row"]
        extra = chunk[[c for c in cell_columns if c >= width]]
        wide_rows = extra.to_numpy().astype(bool).any(axis=1)
        if wide_rows.any():
            for i in np.flatnonzero(wide_rows):
                cells = chunk[cell_columns].iloc[i].tolist()
                while cells and cells[-1] == "":
                    cells.pop()
                row = int(chunk["row"].iat[i])
                run.add(
                    sheet_no,
                    width,
                    P.problem(
                        P.ROW_TOO_MANY_CELLS,
                        row=row,
                        column=column_name(width),
                        value=len(cells),
                        limit=width,
                        sheet=sheet.name,
                    ),
                )
            chunk = chunk.loc[~wide_rows]
    if layout.format != C.WIDE:
        raw = pd.DataFrame({"row": chunk["row"].to_numpy()})
        for name, index in layout.fields.items():
            raw[name] = chunk[index].to_numpy()
        raw["value_heading"] = layout.heading("value")
        raw["value_col"] = layout.fields.get("value", 0)
        raw["period_heading"] = layout.heading("period")
        raw["period_col"] = layout.fields.get("period", 0)
        # Rows with nothing in any field the format reads are not rows of data.
        fields = [name for name in layout.fields]
        blank = np.ones(len(raw), dtype=bool)
        for name in fields:
            blank &= _blank(raw[name], sheet.excel)
        return raw.loc[~blank].reset_index(drop=True) if blank.any() else raw
    pieces = []
    for column in layout.period_columns:
        cells = chunk[column.index]
        keep = ~_blank(cells, sheet.excel)
        if not keep.any():
            continue
        piece = pd.DataFrame(
            {
                "row": chunk["row"].to_numpy()[keep],
                "indicator": chunk[layout.fields["indicator"]].to_numpy()[keep],
                "value": cells.to_numpy()[keep],
            }
        )
        if area_override is None:
            piece["area"] = chunk[layout.fields["area"]].to_numpy()[keep]
        if "breakdown" in layout.fields:
            piece["breakdown"] = chunk[layout.fields["breakdown"]].to_numpy()[keep]
        piece["period"] = [column.raw] * len(piece)
        piece["value_heading"] = column.heading
        piece["value_col"] = column.index
        piece["period_heading"] = column.heading
        piece["period_col"] = column.index
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame()
    raw = pd.concat(pieces, ignore_index=True)
    if area_override is not None:
        raw["area_id_fixed"] = area_override
    return raw


def column_name(index: int) -> str:
    from indicators.imports.readers import column_letter

    return f"{column_letter(index)} (no heading)"


def _blank(series: pd.Series, excel: bool) -> np.ndarray:
    values = series.to_numpy()
    if not excel:
        # CSV cells are all text: empty text is falsy, and truthiness is cheap.
        return ~values.astype(bool)
    if values.dtype == object:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        blank_unique = np.array([_text(u) == "" for u in uniques], dtype=bool)
        out = np.ones(len(series), dtype=bool)
        has = codes >= 0
        if len(uniques):
            out[has] = blank_unique[codes[has]]
        return out
    return pd.isna(series).to_numpy()


def _factorize(series: pd.Series) -> tuple[np.ndarray, list[object]]:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, list(uniques)


def _check(
    run: _Run, sheet_no: int, sheet: Sheet, layout: C.Layout, raw: pd.DataFrame
) -> pd.DataFrame:
    """Resolve codes and check every value of a chunk; returns the rows whose indicator,
    area and period are known (with `bad` set where a value has a problem)."""
    n = len(raw)
    name = sheet.name
    rows = raw["row"].to_numpy()
    bad = np.zeros(n, dtype=bool)
    fingertips = layout.format == C.FINGERTIPS
    col_no = {f: i for f, i in layout.fields.items()}

    def heading(field_name: str) -> str:
        return layout.heading(field_name)

    def report(mask_indexes, code, column_of, value_of, col_index_of, **fields):
        for i in mask_indexes:
            run.add(
                sheet_no,
                col_index_of(i),
                P.problem(
                    code,
                    row=int(rows[i]),
                    column=column_of(i),
                    value=value_of(i),
                    sheet=name,
                    **{k: (v(i) if callable(v) else v) for k, v in fields.items()},
                ),
            )

    # Indicator ---------------------------------------------------------------------
    ind = np.zeros(n, dtype=np.int64)
    codes, uniques = _factorize(raw["indicator"])
    resolved = np.zeros(len(uniques), dtype=np.int64)
    failure: dict[int, tuple[str, dict]] = {}
    names = raw.get("indicator_name", None)
    for u, cell in enumerate(uniques):
        text = _text(cell)
        if not text:
            failure[u] = (P.REQUIRED_EMPTY, {})
            continue
        if fingertips:
            try:
                fid = int(float(text))
            except ValueError:
                fid = None
            found = run.ref.fingertips.get(fid) if fid is not None else None
            if found is None and fid is not None and fid in run.new_indicators:
                found = run.new_indicators[fid].id
            if (
                found is None
                and fid is not None
                and run.options.create_missing_indicators
            ):
                first = int(np.flatnonzero(codes == u)[0])
                title = _text(names.iat[first]) if names is not None else ""
                found = _new_indicator(run, fid, title or f"Fingertips indicator {fid}")
            if found is None:
                failure[u] = (P.INDICATOR_UNKNOWN, {"system": run.ref.system_name})
                continue
            resolved[u] = found
            continue
        ids = run.ref.tokens.get(token(text), [])
        if not ids and text.isdigit():
            fid_match = run.ref.fingertips.get(int(text))
            ids = [fid_match] if fid_match else []
        if len(ids) == 1:
            resolved[u] = ids[0]
        elif not ids:
            failure[u] = (P.INDICATOR_UNKNOWN, {"system": run.ref.system_name})
        else:
            failure[u] = (
                P.INDICATOR_AMBIGUOUS,
                {
                    "system": run.ref.system_name,
                    "matches": ", ".join(run.indicators[i].key for i in ids),
                },
            )
    has = codes >= 0
    ind[has] = resolved[codes[has]]
    blank_ind = ~has
    if blank_ind.any():
        failure[-1] = (P.REQUIRED_EMPTY, {})
    _report_failures(
        run, sheet_no, name, rows, codes, failure, raw["indicator"],
        heading("indicator"), col_no.get("indicator", 0),
    )  # fmt: skip

    # Area ----------------------------------------------------------------------------
    area = np.zeros(n, dtype=np.int64)
    if "area_id_fixed" in raw:
        area[:] = raw["area_id_fixed"].to_numpy()
    else:
        codes, uniques = _factorize(raw["area"])
        resolved = np.zeros(len(uniques), dtype=np.int64)
        failure = {}
        for u, cell in enumerate(uniques):
            text = _text(cell)
            if not text:
                failure[u] = (P.REQUIRED_EMPTY, {})
                continue
            found = run.ref.areas_by_code.get(text.upper())
            if found is None:
                matches = run.ref.areas_by_name.get(token(text), [])
                if len(matches) == 1:
                    found = matches[0]
                elif len(matches) > 1:
                    failure[u] = (
                        P.AREA_AMBIGUOUS,
                        {"matches": ", ".join(run.ref.areas[m].code for m in matches)},
                    )
                    continue
            if found is None and fingertips:
                first = int(np.flatnonzero(codes == u)[0])
                found = _new_area(run, raw, first, text)
            if found is None:
                failure[u] = (P.AREA_UNKNOWN, {})
                continue
            resolved[u] = found
        has = codes >= 0
        area[has] = resolved[codes[has]]
        if (~has).any():
            failure[-1] = (P.REQUIRED_EMPTY, {})
        _report_failures(
            run, sheet_no, name, rows, codes, failure, raw["area"],
            heading("area"), col_no.get("area", 0),
        )  # fmt: skip

    # Period ----------------------------------------------------------------------------
    period = np.full(n, -1, dtype=np.int64)
    p_codes, p_uniques = _factorize(raw["period"])
    type_names = [None, *sorted({r.period_type or "" for r in run.indicators.values()})]
    type_code = {t: i for i, t in enumerate(type_names)}
    ptype = pd.Series(ind).map(
        {i: type_code[r.period_type or ""] for i, r in run.indicators.items()}
    )
    ptype = ptype.fillna(0).to_numpy(dtype=np.int64)
    combo = np.where(p_codes >= 0, p_codes * len(type_names) + ptype, -1)
    unique_combos, inverse = np.unique(combo, return_inverse=True)
    parsed = np.full(len(unique_combos), -1, dtype=np.int64)
    wrong = np.zeros(len(unique_combos), dtype=bool)
    period_failure: dict[int, tuple[str, dict]] = {}
    for k, value in enumerate(unique_combos):
        if value < 0:
            period_failure[k] = (P.REQUIRED_EMPTY, {})
            continue
        cell = p_uniques[value // len(type_names)]
        expected = type_names[value % len(type_names)] or None
        if isinstance(cell, str) and not cell.strip():
            period_failure[k] = (P.REQUIRED_EMPTY, {})
            continue
        try:
            spec = parse_period_value(cell, prefer=expected)
        except PeriodLabelError as exc:
            period_failure[k] = (P.PERIOD_INVALID, {"reason": str(exc)})
            continue
        parsed[k] = run.spec_id(spec)
        if expected and spec.kind != expected:
            wrong[k] = True
    period = parsed[inverse]
    period_wrong = wrong[inverse]
    for k, (code, fields) in period_failure.items():
        for i in np.flatnonzero(inverse == k):
            if code == P.REQUIRED_EMPTY and layout.format == C.WIDE:
                continue
            run.add(
                sheet_no,
                int(raw["period_col"].iat[i]),
                P.problem(
                    code,
                    row=int(rows[i]),
                    column=str(raw["period_heading"].iat[i]),
                    value=raw["period"].iat[i],
                    sheet=name,
                    **fields,
                ),
            )
    for i in np.flatnonzero(period_wrong & (ind != 0)):
        indicator = run.indicators[int(ind[i])]
        spec = run.specs[int(period[i])]
        run.add(
            sheet_no,
            int(raw["period_col"].iat[i]),
            P.problem(
                P.PERIOD_WRONG_TYPE,
                row=int(rows[i]),
                column=str(raw["period_heading"].iat[i]),
                value=raw["period"].iat[i],
                sheet=name,
                kind=PERIOD_NAMES[spec.kind],
                indicator=indicator.label,
                expected=PERIOD_NAMES.get(
                    indicator.period_type or "", "another period"
                ),
            ),
        )
    period = np.where(period_wrong, -1, period)

    # Numbers ----------------------------------------------------------------------------
    def per_indicator(test) -> np.ndarray:
        ids = [i for i, r in run.indicators.items() if test(r.measure_type)]
        return np.isin(ind, np.array(ids, dtype=np.int64))

    def measure_name(i: int) -> str:
        if not ind[i]:
            return "value"
        return MEASURE_NAMES.get(run.indicators[int(ind[i])].measure_type, "measure")

    is_pct = per_indicator(lambda m: m == PERCENTAGE)
    numbers: dict[str, np.ndarray] = {}
    flags: dict[str, np.ndarray] = {}
    value_missing = np.zeros(n, dtype=bool)
    for field_name in NUMBER_FIELDS:
        if field_name not in raw:
            numbers[field_name] = np.full(n, np.nan)
            flags[field_name] = np.zeros(n, dtype=bool)
            continue
        parsed_numbers = parse_numbers(
            raw[field_name], decimal_comma=run.decimal_comma, excel=sheet.excel
        )
        numbers[field_name] = parsed_numbers.values
        flags[field_name] = parsed_numbers.percent
        if field_name == "value":
            value_missing = parsed_numbers.missing
        column_of, col_index_of = _where(raw, layout, field_name)
        bad_cells = np.flatnonzero(parsed_numbers.bad)
        report(
            bad_cells, P.NOT_A_NUMBER, column_of,
            lambda i, f=field_name: raw[f].iat[i], col_index_of,
        )  # fmt: skip
        bad[bad_cells] = True
        if parsed_numbers.percent.any():
            run.percent_signs = True
            if field_name in ("numerator", "denominator"):
                wrong_pct = np.flatnonzero(parsed_numbers.percent)
            else:
                wrong_pct = np.flatnonzero(
                    parsed_numbers.percent & ~is_pct & (ind != 0)
                )
            report(
                wrong_pct, P.PERCENT_NOT_PERCENTAGE, column_of,
                lambda i, f=field_name: raw[f].iat[i], col_index_of,
                indicator=lambda i: run.indicators[int(ind[i])].label if ind[i] else "it",
                measure=measure_name,
            )  # fmt: skip
            bad[wrong_pct] = True

    value = numbers["value"]
    lower, upper = numbers["lower_ci"], numbers["upper_ci"]
    num, den = numbers["numerator"], numbers["denominator"]
    value_col, value_idx = _where(raw, layout, "value")

    def raw_of(field_name):
        return lambda i: raw[field_name].iat[i]

    def shown(array):
        return lambda i: P.display(float(array[i]))

    with np.errstate(invalid="ignore"):
        out_of_range = np.flatnonzero(is_pct & ((value < 0) | (value > 100)))
        report(
            out_of_range,
            P.PERCENTAGE_OUT_OF_RANGE,
            value_col,
            raw_of("value"),
            value_idx,
        )
        bad[out_of_range] = True
        non_negative = per_indicator(lambda m: m in NON_NEGATIVE_MEASURES)
        negative = np.flatnonzero(non_negative & (value < 0))
        report(
            negative, P.NEGATIVE_VALUE, value_col, raw_of("value"), value_idx,
            what=measure_name,
        )  # fmt: skip
        bad[negative] = True
        for field_name, array in (("numerator", num), ("denominator", den)):
            negative = np.flatnonzero(array < 0)
            column_of, col_index_of = _where(raw, layout, field_name)
            report(
                negative, P.NEGATIVE_VALUE, column_of, raw_of(field_name), col_index_of,
                what=field_name,
            )  # fmt: skip
            bad[negative] = True
        lower_col, lower_idx = _where(raw, layout, "lower_ci")
        upper_col, upper_idx = _where(raw, layout, "upper_ci")
        lower_v = _comparable(lower, flags["lower_ci"], flags["value"])
        upper_v = _comparable(upper, flags["upper_ci"], flags["value"])
        above = np.flatnonzero(lower_v > value)
        report(
            above, P.CI_LOWER_ABOVE_VALUE, lower_col, raw_of("lower_ci"), lower_idx,
            other=raw_of("value"),
        )  # fmt: skip
        below = np.flatnonzero(upper_v < value)
        report(
            below, P.CI_UPPER_BELOW_VALUE, upper_col, raw_of("upper_ci"), upper_idx,
            other=raw_of("value"),
        )  # fmt: skip
        reversed_ci = np.flatnonzero(np.isnan(value) & (lower_v > upper_v))
        report(
            reversed_ci, P.CI_REVERSED, lower_col, raw_of("lower_ci"), lower_idx,
            other=raw_of("upper_ci"),
        )  # fmt: skip
        bad[above] = bad[below] = True
        bad[reversed_ci] = True
        checked = ~per_indicator(lambda m: m in NUMERATOR_CHECK_EXEMPT)
        over = np.flatnonzero(checked & (num > den))
        num_col, num_idx = _where(raw, layout, "numerator")
        report(
            over, P.NUMERATOR_ABOVE_DENOMINATOR, num_col, raw_of("numerator"), num_idx,
            other=raw_of("denominator"),
        )  # fmt: skip
        bad[over] = True

    # Text ------------------------------------------------------------------------------
    note = _texts(raw, "note")
    breakdown = _texts(raw, "breakdown")
    for field_name, texts, limit in (
        ("note", note, NOTE_LIMIT),
        ("breakdown", breakdown, BREAKDOWN_LIMIT),
    ):
        lengths = _lengths(texts)
        too_long = np.flatnonzero(lengths > limit)
        column_of, col_index_of = _where(raw, layout, field_name)
        report(
            too_long, P.TEXT_TOO_LONG, column_of, lambda i, t=texts: len(t.iat[i]),
            col_index_of, limit=limit,
        )  # fmt: skip
        bad[too_long] = True
    if value_missing.any():
        note = note.copy()
        for i in np.flatnonzero(value_missing & (note.to_numpy() == "")):
            marker = _text(raw["value"].iat[i])
            note.iat[i] = (
                f"Not available in the source ('{marker}')"
                if marker
                else "No value in the source"
            )

    # Percentage convention evidence (bare numbers of percentage indicators) ---------------
    bare = is_pct & np.isfinite(value) & ~flags["value"] & (ind != 0)
    if bare.any():
        frame = pd.DataFrame(
            {
                "ind": ind[bare],
                "out": (value[bare] > 1) | (value[bare] < 0),
                "frac": value[bare] != np.round(value[bare]),
            }
        )
        grouped = frame.groupby("ind").agg(
            n=("out", "size"), out=("out", "sum"), frac=("frac", "sum")
        )
        for indicator_id, row in zip(grouped.index, grouped.to_numpy(), strict=True):
            run.pct_stats[int(indicator_id)] = run.pct_stats.get(
                int(indicator_id), np.zeros(3, dtype=np.int64)
            ) + row.astype(np.int64)

    keep = (ind != 0) & (area != 0) & (period >= 0)
    out = pd.DataFrame(
        {
            "sheet": np.full(int(keep.sum()), sheet_no, dtype=np.int32),
            "row": rows[keep],
            "ind": ind[keep],
            "area": area[keep],
            "period": period[keep],
            "breakdown": breakdown.to_numpy()[keep],
            "value": value[keep],
            "numerator": num[keep],
            "denominator": den[keep],
            "lower_ci": lower[keep],
            "upper_ci": upper[keep],
            "note": note.to_numpy()[keep],
            "value_pct": flags["value"][keep],
            "lower_pct": flags["lower_ci"][keep],
            "upper_pct": flags["upper_ci"][keep],
            "bad": bad[keep],
        }
    )
    if fingertips:
        for extra in (*FINGERTIPS_EXTRAS, *FINGERTIPS_CATEGORY):
            out[extra] = _texts(raw, extra).to_numpy()[keep]
    return out


def _comparable(
    limits: np.ndarray, limit_pct: np.ndarray, value_pct: np.ndarray
) -> np.ndarray:
    """Confidence limits in the value's units: a "90%" limit beside a bare 0.857 value is
    compared as 0.9."""
    mixed = limit_pct & ~value_pct
    if not mixed.any():
        return limits
    out = limits.copy()
    out[mixed] = limits[mixed] / 100
    return out


def _where(raw: pd.DataFrame, layout: C.Layout, field_name: str):
    """How to name a field's column for a row: its heading, and its position."""
    if field_name == "value" and layout.format == C.WIDE:
        return (
            lambda i: str(raw["value_heading"].iat[i]),
            lambda i: int(raw["value_col"].iat[i]),
        )
    heading = layout.heading(field_name)
    index = layout.fields.get(field_name, 0)
    return (lambda i: heading), (lambda i: index)


def _texts(raw: pd.DataFrame, field_name: str) -> pd.Series:
    if field_name not in raw:
        return pd.Series([""] * len(raw), dtype=object)
    series = raw[field_name]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    cleaned = np.array([_text(u) for u in uniques] + [""], dtype=object)
    return pd.Series(cleaned[codes], dtype=object)


def _lengths(texts: pd.Series) -> np.ndarray:
    """The length of each text, each distinct text measured once."""
    codes, uniques = pd.factorize(texts.to_numpy(dtype=object))
    return np.array([len(u) for u in uniques] + [0], dtype=np.int64)[codes]


def _report_failures(
    run: _Run,
    sheet_no: int,
    sheet_name: str,
    rows: np.ndarray,
    codes: np.ndarray,
    failure: dict[int, tuple[str, dict]],
    cells: pd.Series,
    column: str,
    column_no: int,
) -> None:
    if not failure:
        return
    failing = np.isin(codes, list(failure))
    for i in np.flatnonzero(failing):
        code, fields = failure[int(codes[i])]
        run.add(
            sheet_no,
            column_no,
            P.problem(
                code,
                row=int(rows[i]),
                column=column,
                value=cells.iat[i],
                sheet=sheet_name,
                **fields,
            ),
        )


def _new_indicator(run: _Run, fingertips_id: int, name: str) -> int:
    new_id = -(len(run.new_indicators) + 1)
    created = NewIndicator(
        id=new_id,
        fingertips_id=fingertips_id,
        name=name[:500],
        measure_type=guess_measure_type(name),
        period_type=None,
    )
    run.new_indicators[fingertips_id] = created
    run.indicators[new_id] = IndicatorRef(
        id=new_id,
        key=f"fingertips-{fingertips_id}",
        title=created.name,
        measure_type=created.measure_type,
        period_type=None,
        fingertips_id=fingertips_id,
    )
    return new_id


def _new_area(run: _Run, raw: pd.DataFrame, first: int, code: str) -> int:
    key = code.upper()
    if key in run.new_areas:
        return run.new_areas[key].id
    name = _text(raw["area_name"].iat[first]) if "area_name" in raw else ""
    area_type = _text(raw["area_type"].iat[first]) if "area_type" in raw else ""
    created = NewArea(
        id=-(len(run.new_areas) + 1),
        code=code.strip()[:20],
        name=(name or code)[:200],
        kind=area_kind(code, area_type),
        area_type=area_type,
    )
    run.new_areas[key] = created
    return created.id


def _formula_problems(run: _Run, sheet_no: int, sheet: Sheet, layout: C.Layout) -> None:
    used = {index: heading for heading, index in (
        (layout.headings[i], i) for i in layout.fields.values()
    )}  # fmt: skip
    for column in layout.period_columns:
        used[column.index] = column.heading
    for row, column in sorted(sheet.formulas_without_value):
        if row > layout.header_row and column in used:
            run.add(
                sheet_no,
                column,
                P.problem(
                    P.FORMULA_WITHOUT_VALUE,
                    row=row,
                    column=used[column],
                    sheet=sheet.name,
                ),
            )


# --- whole-file steps ------------------------------------------------------------------


def _finish(run: _Run, result: ParseResult, progress: Progress | None) -> ParseResult:
    if progress:
        progress("Comparing rows across the file", 0, 1)
    frame = (
        pd.concat(run.frames, ignore_index=True)
        if run.frames
        else pd.DataFrame(columns=["sheet", "row", *KEY, *NUMBER_FIELDS, "note", "bad"])
    )
    sheet_names = [s.name for s in run.book.sheets]
    skipped: list[SkippedRow] = []
    skipped_count = 0
    reasons: Counter = Counter()
    drop_problem_rows: set[tuple[int, int]] = set()

    def skip(mask: np.ndarray, reason_of) -> None:
        nonlocal skipped_count
        for i in np.flatnonzero(mask):
            reason = reason_of(i)
            reasons[reason.split(":")[0]] += 1
            skipped_count += 1
            sheet_no, row = int(frame["sheet"].iat[i]), int(frame["row"].iat[i])
            drop_problem_rows.add((sheet_no, row))
            if len(skipped) < SKIPPED_KEPT:
                skipped.append(SkippedRow(sheet_names[sheet_no], row, reason))

    if "sex" in frame.columns and len(frame):
        labels, skip_mask, reason_text = _fingertips_breakdowns(run, frame)
        frame["breakdown"] = labels
        skip(skip_mask, lambda i: reason_text[i])
        frame = frame.loc[~skip_mask].reset_index(drop=True)
        # Set the period type of indicators brought in from Fingertips.
        for created in run.new_indicators.values():
            kinds = frame.loc[frame["ind"] == created.id, "period"]
            if len(kinds):
                common = Counter(run.specs[int(p)].kind for p in kinds).most_common(1)
                created.period_type = common[0][0]
    # The same value listed twice under different area types in a Fingertips download
    # is one value: skipped, not a duplicate.
    if len(frame):
        dup = frame.duplicated(subset=KEY, keep="first").to_numpy()
        if dup.any():
            firsts = frame.groupby(KEY, sort=False)["row"].transform("first").to_numpy()
            first_sheet = frame.groupby(KEY, sort=False)["sheet"].transform("first")
            if "sex" in frame.columns:
                same = _same_values(frame)
                identical = dup & same
                skip(
                    identical,
                    lambda i: f"Repeated: the same value as row {firsts[i]}",
                )
                dup &= ~identical
                keep = ~identical
            else:
                keep = np.ones(len(frame), dtype=bool)
            for i in np.flatnonzero(dup):
                indicator = run.indicators[int(frame["ind"].iat[i])]
                spec = run.specs[int(frame["period"].iat[i])]
                breakdown = frame["breakdown"].iat[i]
                other_sheet = int(first_sheet.iat[i])
                other = str(firsts[i])
                if other_sheet != int(frame["sheet"].iat[i]):
                    other = f"{other} of sheet '{sheet_names[other_sheet]}'"
                run.add(
                    int(frame["sheet"].iat[i]),
                    0,
                    P.problem(
                        P.DUPLICATE_ROW,
                        row=int(frame["row"].iat[i]),
                        column="",
                        sheet=sheet_names[int(frame["sheet"].iat[i])],
                        indicator=indicator.key,
                        area=_area_label(run, int(frame["area"].iat[i])),
                        period=spec.label,
                        breakdown=f" ({breakdown})" if breakdown else "",
                        other=other,
                    ),
                )
            frame = frame.loc[keep].reset_index(drop=True)
    problems = [
        (key, item)
        for key, item in run.problems
        if (key[0], item.row or -1) not in drop_problem_rows or item.row is None
    ]
    problems.sort(key=lambda pair: pair[0])
    result.problems = [item for _, item in problems]
    result.skipped, result.skipped_count, result.skipped_reasons = (
        skipped,
        skipped_count,
        reasons,
    )
    result.percentage_convention = _apply_percentage_convention(run, frame)
    result.number_style = (
        "Numbers use a decimal comma (12,3 means 12.3)."
        if run.decimal_comma
        else "Numbers use a decimal point (1,388.0 means 1388)."
    )
    if len(frame) and frame["bad"].to_numpy().any():
        frame = frame.loc[~frame["bad"].to_numpy()].reset_index(drop=True)
    keep_columns = ["sheet", "row", *KEY, *NUMBER_FIELDS, "note"]
    result.frame = (
        frame[keep_columns] if len(frame) else frame.reindex(columns=keep_columns)
    )
    result.periods = run.specs
    result.new_areas = list(run.new_areas.values())
    result.new_indicators = list(run.new_indicators.values())
    result.indicators = run.indicators
    result.area_labels = {a.id: a.code for a in run.ref.areas.values()} | {
        a.id: a.code for a in run.new_areas.values()
    }
    if not result.problems and not len(result.frame) and not result.skipped_count:
        result.problems = [P.problem(P.NO_VALUES)]
    return result


def _area_label(run: _Run, area_id: int) -> str:
    if area_id > 0:
        return run.ref.areas[area_id].code
    for area in run.new_areas.values():
        if area.id == area_id:
            return area.code
    return str(area_id)


def _same_values(frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's numbers equal those of the first row with its key."""
    same = np.ones(len(frame), dtype=bool)
    grouped = frame.groupby(KEY, sort=False)
    for name in NUMBER_FIELDS:
        first = grouped[name].transform("first").to_numpy()
        values = frame[name].to_numpy()
        same &= (values == first) | (np.isnan(values) & np.isnan(first))
    return same


def _fingertips_breakdowns(run: _Run, frame: pd.DataFrame):
    """Each Fingertips row's breakdown: "" for the indicator's headline rows (Persons, or
    its one sex; its usual age; no category), a label for the breakdowns the indicator
    keeps, and skipped otherwise."""
    n = len(frame)
    sex = frame["sex"].to_numpy(dtype=object)
    age = frame["age"].to_numpy(dtype=object)
    category_type = frame["category_type"].to_numpy(dtype=object)
    category = frame["category"].to_numpy(dtype=object)
    ind = frame["ind"].to_numpy()
    no_category = category_type == ""
    headline_sex: dict[int, str] = {}
    headline_age: dict[int, str] = {}
    plain = frame.loc[no_category, ["ind", "sex", "age"]]
    for indicator_id, group in plain.groupby("ind", sort=False):
        sexes = Counter(group["sex"])
        headline_sex[indicator_id] = (
            "Persons" if "Persons" in sexes else sexes.most_common(1)[0][0]
        )
        ages = Counter(group.loc[group["sex"] == headline_sex[indicator_id], "age"])
        headline_age[indicator_id] = ages.most_common(1)[0][0] if ages else ""
    hs = pd.Series(ind).map(headline_sex).fillna("").to_numpy(dtype=object)
    ha = pd.Series(ind).map(headline_age).fillna("").to_numpy(dtype=object)
    sex_differs = sex != hs
    age_differs = age != ha
    labels = np.full(n, "", dtype=object)
    skip = np.zeros(n, dtype=bool)
    reasons = np.full(n, "", dtype=object)
    for i in np.flatnonzero(sex_differs | age_differs | ~no_category):
        dims, parts = set(), []
        if sex_differs[i]:
            dims.add("sex")
            parts.append(sex[i])
        if age_differs[i]:
            dims.add("age")
            parts.append(age[i])
        if not no_category[i]:
            dims.add("category")
            parts.append(f"{category_type[i]}: {category[i]}")
        label = ", ".join(p for p in parts if p)
        indicator = run.indicators[int(ind[i])]
        if dims <= set(indicator.breakdowns):
            labels[i] = label[:BREAKDOWN_LIMIT]
        else:
            skip[i] = True
            reasons[i] = f"Breakdown not used by {indicator.key}: {label}"
    return labels, skip, reasons


def _apply_percentage_convention(run: _Run, frame: pd.DataFrame) -> str:
    """Decide, per percentage indicator, whether bare numbers are fractions (0.857) or
    already 0-100 (85.7), convert fractions, and say what was found."""
    fractions = []
    for indicator_id, (count, out, frac) in sorted(run.pct_stats.items()):
        indicator = run.indicators[indicator_id]
        if count and not out and frac and indicator.values_above_one is not False:
            fractions.append(indicator_id)
    sentences = []
    if run.percent_signs:
        sentences.append(
            "Percentages are written with % signs (85.70% is stored as 85.7)."
        )
    if fractions:
        names = ", ".join(run.indicators[i].key for i in fractions)
        sentences.append(
            "Percentages are written as fractions (0.857 is stored as 85.7) for: "
            f"{names}."
        )
        if len(frame):
            rows = frame["ind"].isin(fractions).to_numpy()
            for name, flag in (
                ("value", "value_pct"),
                ("lower_ci", "lower_pct"),
                ("upper_ci", "upper_pct"),
            ):
                scale = rows & ~frame[flag].to_numpy()
                values = frame[name].to_numpy().copy()
                values[scale] = np.round(values[scale] * 100, 10)
                frame[name] = values
    zero_to_hundred = [i for i in run.pct_stats if i not in fractions]
    if zero_to_hundred:
        sentences.append("Percentages are on a 0-100 scale (85.7 means 85.7%).")
    return " ".join(sentences)
