"""Drawing for the scorecard pages, server-side: sparklines and status icons as inline SVG,
always with words beside them (status is never colour alone) and a text alternative."""

from __future__ import annotations

import functools
import html
from urllib.parse import quote

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from indicators.analysis.spc_rules import (
    ASSURANCE_WORDS,
    COMMON_CAUSE,
    CONCERN,
    CONSISTENTLY_FAILS,
    CONSISTENTLY_PASSES,
    HIT_AND_MISS,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    POINT_TYPE_WORDS,
)
from scorecard import sparklines

register = template.Library()

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 32, 3


def _escape(value) -> str:
    """HTML-escape a value: the standard library's escape, which Django's wraps in a
    lazy-string check that costs more than the escaping across hundreds of rows."""
    return html.escape(str(value), quote=True)


def format_number(value, decimals: int = 1, measure_type: str = "") -> str:
    """A value as the stocktake prints it: fixed decimals, thousands separated, % for a
    percentage."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return f"{text}%" if measure_type == "percentage" else text


@register.simple_tag
def value_of(value, indicator):
    """{% value_of result.latest_value row.indicator %} -> "60.3%"."""
    if value is None:
        return mark_safe('<span class="app-muted">no value</span>')
    return format_number(value, indicator.decimal_places, indicator.measure_type)


def sparkline_svg(points, *, decimals: int = 1, measure_type: str = "") -> str:
    """An inline SVG line of `points` ([[label, value], ...]), its first and last values
    said in words (the SVG's title and label): never image-only."""
    values = [(label, value) for label, value in points or [] if value is not None]
    if len(values) < 2:
        return '<span class="app-muted">too few values to draw</span>'
    numbers = [v for _, v in values]
    first_label, first_value = values[0]
    last_label, last_value = values[-1]
    text = (
        f"{len(values)} values from {first_label} "
        f"({format_number(first_value, decimals, measure_type)}) to {last_label} "
        f"({format_number(last_value, decimals, measure_type)}); lowest "
        f"{format_number(min(numbers), decimals, measure_type)}, highest "
        f"{format_number(max(numbers), decimals, measure_type)}"
    )
    return sparklines.sparkline_svg(
        [value for _, value in points],
        width=SPARK_WIDTH,
        height=SPARK_HEIGHT,
        pad=SPARK_PAD,
        css_class="app-sparkline",
        stroke="#425563",
        label=text,
    )


@register.simple_tag
def sparkline(result, indicator):
    if result is None:
        return mark_safe('<span class="app-muted">no values</span>')
    svg = sparkline_svg(
        result.sparkline,
        decimals=indicator.decimal_places,
        measure_type=indicator.measure_type,
    )
    return mark_safe(svg)  # noqa: S308 - numbers and escaped labels only


# --- icons ---------------------------------------------------------------------------
# Making Data Count colours: blue improvement, orange concern, grey common cause,
# purple special cause with no judgement. The letter inside says high or low, and the
# label beside says it all in words.

# The words are the one vocabulary (spc_rules); the colours and letters are the icons'.
VARIATION = {
    point_type: (colour, POINT_TYPE_WORDS[point_type])
    for point_type, colour in {
        IMPROVEMENT: "#005eb8",
        CONCERN: "#b35900",
        NEUTRAL_HIGH: "#5a2a82",
        NEUTRAL_LOW: "#5a2a82",
        COMMON_CAUSE: "#4c6272",
    }.items()
}
ASSURANCE = {
    assurance: (colour, letter, ASSURANCE_WORDS[assurance])
    for assurance, (colour, letter) in {
        CONSISTENTLY_PASSES: ("#005eb8", "P"),
        CONSISTENTLY_FAILS: ("#b35900", "F"),
        HIT_AND_MISS: ("#4c6272", "?"),
    }.items()
}


def _circle_icon(colour: str, letter: str) -> str:
    return (
        '<svg class="app-icon" width="24" height="24" viewBox="0 0 24 24" '
        'aria-hidden="true" focusable="false">'
        f'<circle cx="12" cy="12" r="10.5" fill="#fff" stroke="{colour}" '
        'stroke-width="2.5"/>'
        f'<text x="12" y="16.5" text-anchor="middle" font-size="12" font-weight="bold" '
        f'fill="{colour}" font-family="Arial, sans-serif">{escape(letter)}</text>'
        "</svg>"
    )


def _side(result) -> str:
    icon = ((result.spc or {}).get("variation_icon") or "") if result else ""
    if icon.endswith("_high"):
        return "H"
    if icon.endswith("_low"):
        return "L"
    return ""


@register.simple_tag
def variation_icon(result):
    """The Making Data Count variation icon of a series, with its words."""
    if result is None or not result.variation:
        return ""
    variation = result.variation
    colour, label = VARIATION.get(variation, ("#4c6272", variation.replace("_", " ")))
    letter = _side(result) if variation != "common_cause" else "~"
    if variation.startswith("special_cause_neutral"):
        letter = "H" if variation.endswith("high") else "L"
    return format_html(
        '<span class="app-status app-status--{}" title="{}">{}<span>{}</span></span>',
        variation.replace("_", "-"),
        result.spc_reason,
        mark_safe(_circle_icon(colour, letter or "!")),  # noqa: S308 - our SVG
        label,
    )


@register.simple_tag
def assurance_icon(result):
    if result is None or not result.assurance:
        return ""
    colour, letter, label = ASSURANCE.get(
        result.assurance, ("#4c6272", "?", result.assurance.replace("_", " "))
    )
    reason = (result.spc or {}).get("assurance_reason") or ""
    return format_html(
        '<span class="app-status app-status--{}" title="{}">{}<span>{}</span></span>',
        result.assurance.replace("_", "-"),
        reason,
        mark_safe(_circle_icon(colour, letter)),  # noqa: S308 - our SVG
        label,
    )


RAG = {
    "red": ("#d5281b", "M6 6 L18 18 M18 6 L6 18"),  # a cross
    "amber": ("#ffb81c", "M12 5 L12 13 M12 17 L12 18"),  # an exclamation mark
    "green": ("#007f3b", "M5 12 L10 17 L19 7"),  # a tick
}


@register.simple_tag
def rag_badge(rating, reason=""):
    """Red / Amber / Green as a word and an icon of its own shape."""
    key = (rating or "").lower()
    if key not in RAG:
        return mark_safe('<span class="app-muted">no target</span>')
    colour, path = RAG[key]
    stroke = "#212b32" if key == "amber" else "#fff"
    icon = (
        '<svg class="app-icon" width="20" height="20" viewBox="0 0 24 24" '
        'aria-hidden="true" focusable="false">'
        f'<circle cx="12" cy="12" r="11" fill="{colour}"/>'
        f'<path d="{path}" stroke="{stroke}" stroke-width="2.8" fill="none" '
        'stroke-linecap="round"/></svg>'
    )
    return format_html(
        '<span class="app-rag app-rag--{}" title="{}">{}<span>{}</span></span>',
        key,
        reason,
        mark_safe(icon),  # noqa: S308 - our SVG
        rating.capitalize(),
    )


COMPARISON = {
    "better": ("#007f3b", "▲"),
    "best": ("#007f3b", "▲"),
    "similar": ("#4c6272", "●"),
    "worse": ("#d5281b", "▼"),
    "worst": ("#d5281b", "▼"),
    "higher": ("#005eb8", "▲"),
    "lower": ("#005eb8", "▼"),
}


@register.simple_tag
def comparison_badge(result):
    """Compared with England: Better / Similar / Worse as a word with a shape."""
    if result is None or not result.comparison:
        return mark_safe('<span class="app-muted">not compared</span>')
    colour, glyph = COMPARISON.get(result.comparison.lower(), ("#4c6272", "●"))
    return format_html(
        '<span class="app-comparison" title="{}">'
        '<span aria-hidden="true" style="color:{}">{}</span> {}</span>',
        result.comparison_reason,
        colour,
        glyph,
        result.comparison,
    )


@register.simple_tag
def status_word(status):
    from scorecard.selectors.pages import STATUS_FILTERS

    return STATUS_FILTERS.get(status, "Not enough data")


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


# --- front-end packages and navigation -------------------------------------------------


@functools.lru_cache(maxsize=32)
def _npm_asset(path: str) -> bool:
    from django.contrib.staticfiles import finders

    return finders.find(f"npm/{path}") is not None


@register.simple_tag
def vendor_static(path: str) -> str:
    """The URL of a front-end package file: the npm copy (`make assets`) when present,
    else the vendored copy under static/vendor/."""
    from django.templatetags.static import static

    return static(f"npm/{path}" if _npm_asset(path) else f"vendor/{path}")


@register.simple_tag
def vendor_script(path: str):
    """A deferred <script> for an npm package file, or nothing when it is not installed
    (the pages work without it: htmx only enhances plain GET forms)."""
    from django.templatetags.static import static

    if not _npm_asset(path):
        return ""
    return format_html('<script src="{}" defer></script>', static(f"npm/{path}"))


@register.filter
def manages_returns(user) -> bool:
    """Whether to show the Returns link: analysts of some system (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    from strategies.models import SystemRole

    return user.system_roles.filter(role=SystemRole.Role.ANALYST).exists()


VARIATION_KEYS = {
    "improvement": ("#005eb8", "+"),
    "concern": ("#b35900", "!"),
    "common_cause": ("#4c6272", "~"),
    "neutral": ("#5a2a82", "?"),
    "no_data": ("#768692", "-"),
}


@register.simple_tag
def variation_key(key: str):
    """A small icon for a variation group on the system cards (the label says it)."""
    colour, letter = VARIATION_KEYS.get(key, ("#768692", "-"))
    return mark_safe(_circle_icon(colour, letter))  # noqa: S308 - our SVG


# --- one overview row, drawn in Python ------------------------------------------------
# The overview can hold hundreds of rows; Django's template engine costs about 1 ms a
# row for this much markup, plain string building a tenth of that. Everything user- or
# data-supplied goes through escape(); the icons are the functions above.

MUTED = '<span class="app-muted">{}</span>'
UNIT_SHOWN_FOR = {"count", "other", "score", "rate", "currency", "ratio"}


def _reasons(row, result) -> list[str]:
    items = []
    if result is not None:
        count = result.point_count
        method = _escape(result.get_method_display())
        values = f", {count} value{'s' if count != 1 else ''}" if count else ""
        items.append(f"Method: {method}{values}.")
        for text in (
            result.spc_reason,
            (result.spc or {}).get("assurance_reason"),
            result.comparison_reason,
            result.trend_reason,
            result.direction_reason,
            result.rag_reason,
            result.overdue_reason,
        ):
            if text:
                items.append(_escape(text))
    else:
        items.append("No values have been loaded for this indicator yet.")
    for rule in row.rules:
        items.append(
            f"<strong>Exception: {_escape(rule.label)}</strong> "
            f"({_escape(rule.severity)}): {_escape(rule.reason)}"
        )
    published = row.published
    if published is not None:
        text = (
            f"Published in the {published.stocktake.published:%B %Y} stocktake: "
            f"{_escape(published.first_value_text or 'no first value')} to "
            f"{_escape(published.last_value_text or 'no value')}"
        )
        if published.most_recent_period_text:
            text += f" ({_escape(published.most_recent_period_text)})"
        if published.benchmark_england_text:
            text += f", England {_escape(published.benchmark_england_text)}"
        if published.trend_text:
            text += f', trend "{_escape(published.trend_text)}"'
        items.append(text + ".")
    return items


@register.simple_tag
def overview_row(row, indicator_url: str):
    """The two table rows of one indicator: its figures, then "Why" in words."""
    result, indicator = row.result, row.indicator
    decimals, measure = indicator.decimal_places, indicator.measure_type
    area = row.base.area
    href = _escape(indicator_url + (f"?area={quote(area.code)}" if area else ""))
    meta = _escape(indicator.source_framework)
    if indicator.code:
        meta += " " + _escape(indicator.code)
    if area is not None:
        meta += " &middot; " + _escape(area.name)
    tags = ""
    if row.rules:
        n = len(row.rules)
        tags += (
            '<span class="nhsuk-tag nhsuk-tag--orange app-exception-tag" '
            f'data-testid="exception-count">{n} open exception{"s" if n != 1 else ""}'
            "</span>"
        )
    if result is not None and result.has_synthetic:
        tags += (
            '<span class="nhsuk-tag nhsuk-tag--yellow app-demo-tag">Demo data</span>'
        )
    measure_text = _escape(indicator.get_measure_type_display())
    if indicator.unit and measure in UNIT_SHOWN_FOR:
        measure_text += f" ({_escape(indicator.unit)})"

    def number(value) -> str:
        return _escape(format_number(value, decimals, measure))

    if result is not None and result.latest_period is not None:
        period = _escape(result.latest_period.label)
    else:
        period = MUTED.format("none")
    england = ""
    if result is not None and result.england_value is not None:
        england = number(result.england_value) + "<br>"
    england += str(comparison_badge(result))
    if result is not None and result.window_first_value is not None:
        first = (
            number(result.window_first_value)
            + f'<span class="app-period-note">{_escape(result.window_first_label)}</span>'
        )
    else:
        first = MUTED.format("none")
    if result is None or result.latest_value is None:
        last = MUTED.format("no value")
    else:
        last = number(result.latest_value)
    if result is not None and result.variation:
        trend = str(variation_icon(result))
        if result.assurance:
            trend += "<br>" + str(assurance_icon(result))
    elif result is not None and result.trend:
        trend = f'<span class="app-trend-words">{_escape(result.trend)}</span>'
    elif result is not None and result.direction:
        trend = (
            f'<span class="app-trend-words">{_escape(result.direction)} since the '
            "previous value</span>"
        )
    else:
        trend = MUTED.format(_escape(status_word(row.status)))
    rag = (
        str(rag_badge(result.rag, result.rag_reason))
        if result is not None
        else str(rag_badge(""))
    )
    title = _escape(indicator.title)
    title_text = indicator.title
    short = _escape(
        title_text if len(title_text) <= 60 else title_text[:59].rstrip() + "…"
    )
    reasons = "".join(f"<li>{item}</li>" for item in _reasons(row, result))
    html = (
        f'<tr class="nhsuk-table__row app-overview-row" data-indicator-id="{indicator.pk}"'
        f' data-status="{_escape(row.status)}">'
        '<th scope="row" class="nhsuk-table__header app-indicator-cell">'
        f'<a href="{href}">{title}</a>'
        f'<span class="app-indicator-meta">{meta}</span>{tags}</th>'
        f'<td class="nhsuk-table__cell">{measure_text}</td>'
        f'<td class="nhsuk-table__cell" data-field="period">{period}</td>'
        f'<td class="nhsuk-table__cell" data-field="england">{england}</td>'
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric" data-field="first">'
        f"{first}</td>"
        f'<td class="nhsuk-table__cell app-spark-cell">{sparkline(result, indicator)}</td>'
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric" data-field="last">'
        f"{last}</td>"
        f'<td class="nhsuk-table__cell" data-field="trend">{trend}</td>'
        f'<td class="nhsuk-table__cell" data-field="rag">{rag}</td>'
        "</tr>"
        '<tr class="nhsuk-table__row app-reasons-row">'
        '<td class="nhsuk-table__cell" colspan="9">'
        '<details class="nhsuk-details app-reasons">'
        '<summary class="nhsuk-details__summary">'
        f'<span class="nhsuk-details__summary-text">Why: how {short} was judged</span>'
        "</summary>"
        '<div class="nhsuk-details__text">'
        f'<ul class="nhsuk-list nhsuk-list--bullet nhsuk-body-s">{reasons}</ul>'
        "</div></details></td></tr>"
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped
