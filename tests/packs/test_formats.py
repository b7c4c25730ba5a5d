"""The board pack's four formats from one pack document: what a board reads must be in
every one of them, and nothing a user typed may run as a spreadsheet formula."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from scorecard.packs.document import (
    OverviewGroup,
    OverviewRow,
    Pack,
    PackAction,
    PackException,
    PackStrategy,
    ProvenanceRow,
)
from scorecard.packs.formats import (
    neutralise,
    render_csv,
    render_html,
    render_pdf,
    render_xlsx,
    sparkline_svg,
)

HOSTILE = '=HYPERLINK("http://example.invalid","click")'


def _row(name, **extra):
    values = {
        "indicator": name,
        "code": "PHOF 2.12",
        "measure": "Percentage",
        "period": "Aug-17",
        "england_value": "10.6%",
        "england_comparison": "Worse",
        "first_value": "85.7%",
        "sparkline": [85.7, 85.1, None, 84.0, 83.8],
        "last_value": "83.8%",
        "trend": "Special cause concern",
        "rag": "Red",
        "reasons": ["Red: 83.8% against a target of 92.0%, higher is better"],
        "on_exception_report": True,
    }
    values.update(extra)
    return OverviewRow(**values)


@pytest.fixture
def pack():
    strategies = [
        PackStrategy(
            name=name,
            label="Strategy",
            vision=f"The vision of {name}",
            spend="GBP 205.48m (2015/16)",
            aims=[f"{name} aim one", f"{name} aim two"],
            overview=[
                OverviewGroup(
                    f"{name} aim one",
                    [_row(f"{name} indicator"), _row(HOSTILE, code="+SUM(A1)")],
                )
            ],
            exceptions=[
                PackException(
                    heading=f"{name} indicator - Decreasing trend",
                    reasons=["Special cause concern: 7 points below the mean"],
                    commentary_html="<p>The story <strong>so far</strong>.</p>",
                    commentary_note="Approved on 3 Oct 2017",
                )
            ],
            actions=[
                PackAction(
                    title=f"{name} activity",
                    timeframe="Apr-19",
                    status="On track",
                    rag="Green",
                    progress_html="<ul><li>Done a thing</li><li>-1 left</li></ul>",
                    progress_note="3 Oct 2017",
                    overdue=True,
                )
            ],
        )
        for name in ("Wellbeing", "Community")
    ]
    return Pack(
        system="Plymouth",
        title="Integrated Commissioning System Action Plans 2017-2019",
        subtitle="Mid Year Stocktake October 2017",
        as_at=date(2017, 10, 31),
        basis="Live data as at 31 October 2017",
        generated_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        generated_by="demo",
        introduction=["This report presents a stocktake of progress."],
        system_aims=["To improve health & wellbeing outcomes"],
        strategies=strategies,
        methods=[("Special cause concern", "A pattern unlikely to be chance.")],
        provenance=[ProvenanceRow("Seed data", "23 Nov 2026", "loader", 26)],
        has_synthetic=True,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 1752", "'+44 1752"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("83.8%", "83.8%"),
        (83.8, 83.8),
        (None, None),
    ],
)
def test_formula_text_is_neutralised(text, expected):
    assert neutralise(text) == expected


def test_sparkline_is_vector_with_a_gap_where_a_value_is_missing():
    svg = str(sparkline_svg([1, 2, None, 3, 4]))

    assert svg.startswith("<svg")
    assert svg.count("<polyline") == 2
    assert sparkline_svg([5]) == ""


def test_html_has_every_strategy_heading_action_and_escapes_user_text(pack):
    html = render_html(pack)

    for name in ("Wellbeing", "Community"):
        assert f"{name} - Performance overview" in html
        assert f"{name} indicator - Decreasing trend" in html
        assert f"{name} activity" in html
    assert "<strong>so far</strong>" in html  # sanitised rich text kept
    assert "HYPERLINK(&quot;http://example.invalid&quot;" in html  # escaped
    assert "Demo data." in html
    assert "<script" not in html


def test_pdf_text_holds_every_strategy_exception_heading_and_action(pack):
    pdf = render_pdf(render_html(pack))
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())

    assert pdf.startswith(b"%PDF-")
    for name in ("Wellbeing", "Community"):
        assert f"{name} - Performance overview" in flat
        assert f"{name} indicator - Decreasing trend" in flat
        assert f"{name} activity" in flat
    assert f"Page 1 of {len(reader.pages)}" not in flat  # the cover has no number
    assert f"Page 2 of {len(reader.pages)}" in flat
    assert "Wellbeing" in _titles(reader.outline)  # bookmarks from the headings
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged


def test_xlsx_has_a_sheet_per_strategy_with_neutralised_cells(pack):
    book = load_workbook(io.BytesIO(render_xlsx(pack)))

    assert book.sheetnames == ["Contents", "Wellbeing", "Community"]
    sheet = book["Wellbeing"]
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    header = rows[2]
    assert header[:3] == ["Aim", "Indicator", "Code"]
    data = rows[3:5]
    assert data[0][1] == "Wellbeing indicator"
    assert data[1][1] == "'" + HOSTILE
    assert data[1][2] == "'+SUM(A1)"
    texts = [c for r in rows for c in r if isinstance(c, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    assert "Done a thing\n'-1 left" not in texts  # neutralised as a whole cell only
    assert any(t.startswith("Done a thing") for t in texts)


def test_csv_has_every_overview_row_neutralised(pack):
    rows = list(csv.reader(io.StringIO(render_csv(pack))))

    assert rows[0][:3] == ["Section", "Aim", "Indicator"]
    assert len(rows) == 1 + 4
    assert rows[2][2] == "'" + HOSTILE
    assert {r[0] for r in rows[1:]} == {"Wellbeing", "Community"}


def _titles(outline) -> list[str]:
    found = []
    for item in outline:
        if isinstance(item, list):
            found.extend(_titles(item))
        else:
            found.append(item.title)
    return found
