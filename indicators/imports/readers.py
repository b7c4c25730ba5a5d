"""Read an uploaded file into sheets of cells, whatever the analyst's software wrote.

CSV: UTF-8 with or without a byte-order mark, UTF-16 (Excel's "Unicode text") or
Windows-1252; comma, semicolon, tab or pipe separated. The data rows are read in chunks by
pandas' C parser, as text, so a million rows need neither much time nor much memory.
Excel (.xlsx): every sheet, formulas as their saved results, merged cells filled with their
value (headers and data alike), percent-formatted cells as "85.7%", dates as dates.

Row numbers are as the analyst sees them: the first line or row of the file is row 1.

Pure: imports nothing from Django.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from indicators.imports import problems as P

HEAD_ROWS = 30  # a header is looked for in the first rows of a sheet
PAD_COLUMNS = 16  # cells past the header's width are read and reported, not lost
CHUNK_ROWS = 100_000
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class ReadError(Exception):
    def __init__(self, problem: P.Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Sheet:
    """One table of cells. `head` holds the first rows (merged cells filled) where a header
    is looked for; `chunks(header_index, width)` yields the rows below it as DataFrames
    with columns 0..width (at least one past the header's width: a CSV's chunks have
    more when its rows are wider; a sheet's have width+PAD_COLUMNS) and `row` (the row
    number as the analyst sees it)."""

    name: str
    head: list[list[object]]
    width: int
    excel: bool
    estimated_rows: int
    chunker: Callable[[int, int], Iterator[pd.DataFrame]]
    # Row index (0-based) -> spans (first column, last column) of cells merged across
    # columns in that row: a group heading above the real headings.
    merged_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    # (row number, column index) of formulas whose result was never saved.
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)

    def chunks(self, header_index: int, width: int) -> Iterator[pd.DataFrame]:
        return self.chunker(header_index, width)


@dataclass
class Workbook:
    kind: str  # "csv" or "xlsx"
    sheets: list[Sheet]
    encoding: str = ""
    delimiter: str = ""
    all_sheet_names: list[str] = field(default_factory=list)


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def read_workbook(
    data: bytes, *, file_name: str = "", sheet: str = "", max_bytes: int
) -> Workbook:
    """The file's sheets; raise ReadError with a file-level problem when it cannot be read."""
    if len(data) > max_bytes:
        raise ReadError(
            P.problem(
                P.FILE_TOO_LARGE,
                value=human_size(len(data)),
                limit=human_size(max_bytes),
            )
        )
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ReadError(P.problem(P.FILE_EMPTY))
    if data.startswith(XLS_MAGIC):
        raise ReadError(
            P.problem(
                P.FILE_UNREADABLE,
                value="old-style .xls workbooks are not supported; save it as .xlsx or CSV",
            )
        )
    if data.startswith(XLSX_MAGIC):
        _refuse_zip_bomb(data, max_bytes)
        return _read_xlsx(data, sheet)
    return _read_csv(data)


# An .xlsx is a zip: a small file can claim to unpack to gigabytes (a "zip bomb"). The
# sizes its directory declares bound what zipfile will inflate, so they are checked first.
XLSX_MAX_PARTS = 10_000
XLSX_MAX_UNPACKED_FACTOR = 40  # real workbooks unpack to 3-15 times the file
XLSX_MAX_PART_RATIO = 100  # a big part far more compressible than any real sheet
XLSX_RATIO_CHECKED_FROM = 10 * 1024 * 1024


def _refuse_zip_bomb(data: bytes, max_bytes: int) -> None:
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ReadError(
            P.problem(
                P.FILE_UNREADABLE,
                value=f"it is not a readable Excel workbook ({type(exc).__name__})",
            )
        ) from exc
    unpacked = sum(part.file_size for part in parts)
    suspicious = len(parts) > XLSX_MAX_PARTS or unpacked > max(
        max_bytes, len(data) * XLSX_MAX_UNPACKED_FACTOR, 1
    )
    suspicious = suspicious or any(
        part.file_size > XLSX_RATIO_CHECKED_FROM
        and part.file_size > XLSX_MAX_PART_RATIO * max(part.compress_size, 1)
        for part in parts
    )
    if suspicious:
        raise ReadError(
            P.problem(
                P.FILE_UNREADABLE,
                value=(
                    f"the workbook would unpack to {human_size(unpacked)} from "
                    f"{human_size(len(data))}, far more than any real return: "
                    "save it again from Excel, or as CSV"
                ),
            )
        )


# --- CSV ---------------------------------------------------------------------------


def detect_encoding(data: bytes) -> tuple[str, str]:
    """(Python codec, what to tell the analyst)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with byte-order mark"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", "UTF-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", "Latin-1"
    return "cp1252", "Windows-1252"


def detect_delimiter(lines: list[str]) -> str:
    """The separator that splits the first lines into the most, and most regular, cells."""
    best, best_score = ",", (0, 0)
    sample = [line for line in lines if line.strip()][:HEAD_ROWS]
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        if not counts:
            continue
        widest = max(counts)
        if widest < 2:
            continue
        regular = max(counts.count(c) for c in set(counts) if c > 1)
        score = (regular, widest)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head_text(data: bytes, encoding: str, limit: int = 256 * 1024) -> str:
    chunk = data[:limit]
    text = chunk.decode(encoding, errors="ignore")
    if len(data) > limit and "\n" in text:
        text = text[: text.rfind("\n")]
    return text


def _read_csv(data: bytes) -> Workbook:
    encoding, encoding_label = detect_encoding(data)
    try:
        head_text = _head_text(data, encoding)
    except LookupError as exc:  # pragma: no cover - codecs are built in
        raise ReadError(P.problem(P.FILE_UNREADABLE, value=str(exc))) from exc
    if "\x00" in head_text:
        raise ReadError(
            P.problem(
                P.FILE_UNREADABLE, value="it is neither text nor an Excel workbook"
            )
        )
    lines = head_text.splitlines()
    delimiter = detect_delimiter(lines)
    try:
        # newline="": the csv module sees a bare carriage return as the line break it is.
        head = [
            list(row)
            for row in csv.reader(
                io.StringIO(head_text, newline=""), delimiter=delimiter
            )
        ]
    except csv.Error as exc:
        raise ReadError(P.problem(P.FILE_UNREADABLE, value=str(exc))) from exc
    head = head[:HEAD_ROWS]
    width = max((len(row) for row in head), default=0)
    estimated = max(1, data.count(b"\n"))

    def chunker(header_index: int, header_width: int) -> Iterator[pd.DataFrame]:
        return _csv_chunks(data, encoding, delimiter, header_index, header_width)

    sheet = Sheet(
        name="",
        head=head,
        width=width,
        excel=False,
        estimated_rows=estimated,
        chunker=chunker,
    )
    return Workbook(
        kind="csv",
        sheets=[sheet],
        encoding=encoding_label,
        delimiter=DELIMITERS[delimiter],
    )


def _csv_chunks(
    data: bytes, encoding: str, delimiter: str, header_index: int, width: int
) -> Iterator[pd.DataFrame]:
    """The rows below the header in chunks, by pandas' C parser. It first reads one cell
    past the header's width (enough to see a stray separator or an unquoted 1,388);
    should a row be wider than that, the rest of the file is read again with
    PAD_COLUMNS cells to spare, and past those by Python's csv module, so every row is
    read once and still reported."""
    first_row = header_index + 2
    done = 0
    for pad in (1, PAD_COLUMNS):
        offset = done
        try:
            for chunk in _c_chunks(
                data, encoding, delimiter, header_index + 1 + offset, width + pad
            ):
                chunk["row"] = chunk.index.to_numpy() + first_row + offset
                done += len(chunk)
                yield chunk
            return
        except (pd.errors.ParserError, _ImplicitIndex):
            continue
    # Rows wider than the header by more than PAD_COLUMNS cells: read the rest the slow
    # way, keeping the first cells past the header so the row is still reported.
    names = list(range(width + PAD_COLUMNS))
    text = data.decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[
        header_index + 1 + done :
    ]
    keep = width + PAD_COLUMNS
    for start in range(0, len(rows), CHUNK_ROWS):
        block = rows[start : start + CHUNK_ROWS]
        frame = pd.DataFrame(
            [
                (row + [""] * keep)[:keep]
                if len(row) <= keep
                else [*row[: keep - 1], ",".join(row[keep - 1 :])]
                for row in block
            ],
            columns=names,
            dtype=object,
        )
        start_row = first_row + done + start
        frame["row"] = range(start_row, start_row + len(block))
        yield frame


class _ImplicitIndex(Exception):
    """pandas took the first column for an index (a first row one cell wider than the
    names given): the chunk is not as the file has it."""


def _c_chunks(
    data: bytes, encoding: str, delimiter: str, skip: int, columns: int
) -> Iterator[pd.DataFrame]:
    reader = pd.read_csv(
        io.BytesIO(data),
        encoding=encoding,
        sep=delimiter,
        header=None,
        names=list(range(columns)),
        skiprows=skip,
        dtype=str,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=False,
        chunksize=CHUNK_ROWS,
        engine="c",
    )
    with reader:
        for chunk in reader:
            if not isinstance(chunk.index, pd.RangeIndex):
                raise _ImplicitIndex
            yield chunk


# --- Excel -------------------------------------------------------------------------

_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)
_SAVED_VALUE = re.compile(rb"<v>[^<]+</v>")


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _sheet_xml(archive: zipfile.ZipFile, worksheet) -> bytes:
    path = getattr(worksheet, "_worksheet_path", "")
    try:
        return archive.read(path) if path else b""
    except KeyError:
        return b""


def _cell_value(cell) -> object:
    value = cell.value
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number_format = getattr(cell, "number_format", "") or ""
        if "%" in number_format:
            scaled = round(float(value) * 100, 10)
            text = repr(scaled)
            return (text[:-2] if text.endswith(".0") else text) + "%"
        return value
    if isinstance(value, str):
        return value
    return value


def _read_xlsx(data: bytes, wanted: str) -> Workbook:
    import openpyxl  # imported here: CSV-only callers never pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ReadError(
            P.problem(
                P.FILE_UNREADABLE,
                value=f"it is not a readable Excel workbook ({type(exc).__name__})",
            )
        ) from exc
    names = list(book.sheetnames)
    chosen = names
    if wanted:
        exact = [n for n in names if n == wanted] or [
            n for n in names if n.strip().lower() == wanted.strip().lower()
        ]
        if not exact:
            raise ReadError(
                P.problem(
                    P.SHEET_NOT_FOUND,
                    value=wanted,
                    sheets=", ".join(f"'{n}'" for n in names),
                )
            )
        chosen = exact[:1]
    sheets = []
    for name in chosen:
        worksheet = book[name]
        if getattr(worksheet, "sheet_state", "visible") != "visible" and not wanted:
            continue
        rows = [
            [_cell_value(cell) for cell in row]
            for row in worksheet.iter_rows()  # empty rows come through as empty
        ]
        xml = _sheet_xml(archive, worksheet)
        merged_spans = _fill_merged(rows, xml)
        formulas = _formulas_without_value(xml)
        width = max((len(r) for r in rows), default=0)
        sheets.append(_excel_sheet(name, rows, width, merged_spans, formulas))
    book.close()
    return Workbook(kind="xlsx", sheets=sheets, all_sheet_names=names)


def _fill_merged(
    rows: list[list[object]], xml: bytes
) -> dict[int, list[tuple[int, int]]]:
    spans: dict[int, list[tuple[int, int]]] = {}
    for match in _MERGE.finditer(xml):
        c1, r1 = column_index(match.group(1).decode()), int(match.group(2)) - 1
        c2, r2 = column_index(match.group(3).decode()), int(match.group(4)) - 1
        if r1 >= len(rows):
            continue
        top_left = rows[r1][c1] if c1 < len(rows[r1]) else None
        for r in range(r1, min(r2, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c2:
                row.extend([None] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                row[c] = top_left
        if c2 > c1:
            for r in range(r1, r2 + 1):
                spans.setdefault(r, []).append((c1, c2))
    return spans


def _formulas_without_value(xml: bytes) -> set[tuple[int, int]]:
    if b"<f" not in xml:
        return set()
    found = set()
    for match in _CELL.finditer(xml):
        body = match.group(3) or b""
        if b"<f" in body and not _SAVED_VALUE.search(body):
            found.add((int(match.group(2)), column_index(match.group(1).decode())))
    return found


def _excel_sheet(
    name: str,
    rows: list[list[object]],
    width: int,
    merged_spans: dict[int, list[tuple[int, int]]],
    formulas: set[tuple[int, int]],
) -> Sheet:
    def chunker(header_index: int, header_width: int) -> Iterator[pd.DataFrame]:
        keep = header_width + PAD_COLUMNS
        body = rows[header_index + 1 :]
        first_row = header_index + 2
        for start in range(0, len(body), CHUNK_ROWS):
            block = body[start : start + CHUNK_ROWS]
            frame = pd.DataFrame(
                [(list(r) + [None] * keep)[:keep] for r in block],
                columns=list(range(keep)),
                dtype=object,
            )
            frame["row"] = range(first_row + start, first_row + start + len(block))
            yield frame

    return Sheet(
        name=name,
        head=[list(r) for r in rows[:HEAD_ROWS]],
        width=width,
        excel=True,
        estimated_rows=max(1, len(rows)),
        chunker=chunker,
        merged_spans=merged_spans,
        formulas_without_value=formulas,
    )
