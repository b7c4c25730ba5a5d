"""A pack built from the seed data holds what the scorecard pages show: every strategy,
every exception heading with its reasons, every action with its latest progress."""

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from actions.models import Action
from scorecard.models import PublishedOverviewRow, Stocktake
from scorecard.packs.build import build_pack
from scorecard.packs.formats import render_html, render_pdf, render_xlsx
from scorecard.selectors.pages import exception_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_pack(plymouth):
    return build_pack(plymouth, as_at=None, generated_by="tester")


def test_live_pack_has_every_strategy_exception_and_action(plymouth, live_pack):
    strategies = list(plymouth.strategies.order_by("number"))

    assert [s.name for s in live_pack.strategies] == [s.name for s in strategies]
    for strategy, built in zip(strategies, live_pack.strategies, strict=True):
        report = exception_report(strategy)
        assert [e.heading for e in built.exceptions] == [
            e.heading for e in report.entries
        ]
        for entry, exception in zip(report.entries, built.exceptions, strict=True):
            assert exception.reasons == [f.reason for f in entry.flags]
        titles = list(
            Action.objects.filter(strategy=strategy).values_list("title", flat=True)
        )
        assert sorted(a.title for a in built.actions) == sorted(titles)
    assert live_pack.has_synthetic is True  # the demo history is on show


def test_pdf_of_the_live_pack_names_every_strategy_heading_and_action(live_pack):
    reader = PdfReader(io.BytesIO(render_pdf(render_html(live_pack))))
    text = _letters(" ".join(page.extract_text() for page in reader.pages))

    for strategy in live_pack.strategies:
        assert _letters(f"{strategy.name} - Performance exception report") in text
        for exception in strategy.exceptions:
            assert _letters(exception.heading) in text
        for action in strategy.actions:
            assert _letters(action.title) in text


def _letters(text: str) -> str:
    """Letters and digits only: table cells wrap lines, and a hyphen at a line break
    ("co-|commissioning") comes out of the PDF's text without it."""
    return re.sub(r"[\W_]+", "", text)


def test_xlsx_rows_carry_values_flags_and_reasons(plymouth, live_pack):
    book = load_workbook(io.BytesIO(render_xlsx(live_pack)))
    wellbeing = next(s for s in live_pack.strategies if s.name == "Wellbeing")
    sheet = book["Wellbeing"]
    rows = list(sheet.iter_rows(values_only=True))
    by_indicator = {r[1]: r for r in rows[3:] if r and r[1]}
    expected = [row for group in wellbeing.overview for row in group.rows]

    for row in expected:
        cells = by_indicator[row.indicator]
        # openpyxl reads an empty cell back as None
        assert (cells[8] or "") == row.last_value
        assert (cells[10] or "") == row.rag
        assert (cells[12] or "") == " | ".join(row.reasons)


def test_published_stocktake_pack_shows_the_rows_as_published(plymouth):
    stocktake = Stocktake.objects.get(system=plymouth)

    pack = build_pack(plymouth, stocktake=stocktake, generated_by="tester")

    published = PublishedOverviewRow.objects.filter(stocktake=stocktake)
    rows = [r for s in pack.strategies for g in s.overview for r in g.rows]
    assert len(rows) == published.count()
    rtt = published.get(indicator__key="rtt-18-weeks-incomplete", strategy__number=1)
    shown = next(r for r in rows if r.indicator == rtt.indicator_text)
    assert (shown.first_value, shown.last_value) == (
        rtt.first_value_text,
        rtt.last_value_text,
    )
    headings = [e.heading for s in pack.strategies for e in s.exceptions]
    assert any(h.startswith("Estimated diagnosis rates for dementia") for h in headings)
    assert pack.as_at == stocktake.published


def test_methods_appendix_states_the_making_data_count_run_length(live_pack):
    """DOMAIN.md: a trend or a shift is 7 consecutive points (NHSRplotthedots' default)."""
    html = render_html(live_pack)

    assert "7 or more points in a row above or below the mean" in html
    assert "six or more" not in html
