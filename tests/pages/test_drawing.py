"""The server-side drawing: sparklines say their figures in words, status icons carry a
word, and data-supplied text is escaped."""

from types import SimpleNamespace

from scorecard.templatetags.scorecard_tags import (
    format_number,
    rag_badge,
    sparkline_svg,
    variation_icon,
)


def test_a_sparkline_has_its_first_and_last_values_in_words():
    svg = sparkline_svg(
        [["Apr-17", 61.25], ["May-17", 59.0], ["Jun-17", 64.5]],
        decimals=1,
        measure_type="percentage",
    )

    assert svg.startswith('<svg class="app-sparkline"')
    assert 'role="img"' in svg
    assert "3 values from Apr-17 (61.2%) to Jun-17 (64.5%)" in svg
    assert "lowest 59.0%, highest 64.5%" in svg
    assert svg.count("<title>") == 1


def test_a_sparkline_of_one_value_says_so_instead_of_drawing():
    assert "too few values" in sparkline_svg([["2016/17", 3.8]])
    assert "too few values" in sparkline_svg([["a", None], ["b", None]])


def test_labels_are_escaped_in_the_sparkline():
    svg = sparkline_svg([["<b>x</b>", 1.0], ["y", 2.0]])

    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg


def test_numbers_are_printed_as_the_stocktake_prints_them():
    assert format_number(1388.04, 1) == "1,388.0"
    assert format_number(85.7, 2, "percentage") == "85.70%"
    assert format_number(None) == ""


def test_status_is_never_colour_alone():
    red = str(rag_badge("Red", "Red: 62.1% against a 65% target"))
    assert "<span>Red</span>" in red
    assert "<svg" in red
    result = SimpleNamespace(
        variation="special_cause_concern",
        spc={"variation_icon": "special_cause_concern_high"},
        spc_reason="Above the upper process limit <script>",
    )
    icon = str(variation_icon(result))
    assert "<span>Special cause concern</span>" in icon
    assert ">H</text>" in icon
    assert "<script>" not in icon
