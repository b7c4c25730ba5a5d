"""A board pack rendered four ways: accessible HTML (the primary format), PDF from the
same HTML with WeasyPrint (tagged, bookmarked, numbered pages, vector sparklines), XLSX
(a sheet per strategy) and CSV. Every spreadsheet cell a user or a return could have
written is neutralised against formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from html import unescape

import nh3
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from scorecard import sparklines
from scorecard.packs.document import Pack, PackStrategy

# Spreadsheet software runs a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

OVERVIEW_COLUMNS = (
    "Section",
    "Aim",
    "Indicator",
    "Code",
    "Measure",
    "Most recent period",
    "England",
    "Compared with England",
    "First value",
    "Last value",
    "Trend",
    "RAG",
    "On exception report",
    "Reasons",
    "Demo data",
)


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers
    and empty cells pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def sparkline_svg(
    values: Iterable[float | None], *, width: int = 120, height: int = 28
) -> SafeString:
    """The pages' sparkline, vector in the PDF. Decorative here: the first and last
    values stand beside it in the table."""
    svg = sparklines.sparkline_svg(
        list(values), width=width, height=height, css_class="pack-sparkline"
    )
    # Only numbers go into the markup: nothing from users.
    return mark_safe(svg)  # noqa: S308


def render_html(pack: Pack) -> str:
    """The pack as one self-contained, accessible HTML document (its CSS inline, no
    script, no external resource), printable and the source of the PDF."""
    strategies = [
        {
            "strategy": strategy,
            "overview": [
                {
                    "group": group,
                    "rows": [
                        {"row": row, "sparkline": sparkline_svg(row.sparkline)}
                        for row in group.rows
                    ],
                }
                for group in strategy.overview
            ],
        }
        for strategy in pack.strategies
    ]
    return render_to_string("packs/pack.html", {"pack": pack, "strategies": strategies})


def render_pdf(html: str) -> bytes:
    """PDF from the HTML: tagged (PDF/UA), bookmarks from the headings, page numbers
    from the print CSS."""
    from weasyprint import HTML  # imported here: it loads Pango, only packs need it

    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


def overview_records(pack: Pack) -> Iterable[tuple[PackStrategy, list[object]]]:
    for strategy in pack.strategies:
        for group in strategy.overview:
            for row in group.rows:
                yield (
                    strategy,
                    [
                        strategy.name,
                        group.heading,
                        row.indicator,
                        row.code,
                        row.measure,
                        row.period,
                        row.england_value,
                        row.england_comparison,
                        row.first_value,
                        row.last_value,
                        row.trend,
                        row.rag,
                        "Yes" if row.on_exception_report else "No",
                        " | ".join(row.reasons),
                        "Yes" if row.synthetic else "No",
                    ],
                )


def render_csv(pack: Pack) -> str:
    """Every overview row of every strategy, one line each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(OVERVIEW_COLUMNS)
    for _, record in overview_records(pack):
        writer.writerow([neutralise(v) for v in record])
    return out.getvalue()


def render_xlsx(pack: Pack) -> bytes:
    """A contents sheet, then one sheet per strategy: the overview rows, the exceptions
    with their reasons and commentary, the actions with their progress."""
    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    _rows(
        contents,
        [
            [pack.title],
            [pack.subtitle],
            [pack.basis],
            [f"Generated {pack.generated_at:%d %b %Y %H:%M} by {pack.generated_by}"],
            [],
            ["Sheet", pack.strategies[0].label if pack.strategies else "Strategy"],
        ],
    )
    contents["A1"].font = Font(bold=True, size=14)
    used_titles: set[str] = {"Contents"}
    by_strategy: dict[str, list[list[object]]] = {}
    for strategy, record in overview_records(pack):
        by_strategy.setdefault(strategy.name, []).append(record[1:])
    for strategy in pack.strategies:
        title = _sheet_title(strategy.name, used_titles)
        contents.append([title, strategy.name])
        sheet = book.create_sheet(title)
        _rows(sheet, [[strategy.name], ["Performance overview"], OVERVIEW_COLUMNS[1:]])
        sheet["A1"].font = Font(bold=True, size=13)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        _rows(sheet, by_strategy.get(strategy.name, []))
        _rows(
            sheet,
            [
                [],
                ["Performance exception report"],
                ["Heading", "Reasons", "Commentary"],
            ],
        )
        for exception in strategy.exceptions:
            _rows(
                sheet,
                [
                    [
                        exception.heading,
                        " | ".join(exception.reasons),
                        _plain(exception.commentary_html),
                    ]
                ],
            )
        _rows(
            sheet,
            [
                [],
                ["Action plan"],
                ["Activity", "Timeframe", "Status", "RAG", "Latest progress"],
            ],
        )
        for action in strategy.actions:
            _rows(
                sheet,
                [
                    [
                        action.title,
                        action.timeframe,
                        action.status,
                        action.rag,
                        _plain(action.progress_html),
                    ]
                ],
            )
        for column in range(1, len(OVERVIEW_COLUMNS)):
            sheet.column_dimensions[get_column_letter(column)].width = 22
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(sheet, rows: Iterable[Iterable[object]]) -> None:
    for row in rows:
        sheet.append([neutralise(v) for v in row])


def _sheet_title(name: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique in the book.
    base = "".join(c for c in name if c not in "[]:*?/\\")[:31] or "Sheet"
    title, n = base, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def _plain(html: str) -> str:
    """Sanitised HTML as plain text for a cell (list items on their own lines)."""
    text = html.replace("</li>", "\n").replace("</p>", "\n").replace("<br>", "\n")
    return unescape(nh3.clean(text, tags=set())).strip()


__all__ = [
    "neutralise",
    "render_csv",
    "render_html",
    "render_pdf",
    "render_xlsx",
    "sparkline_svg",
]
