"""The indicator page: thin, a permission check (404 across systems), the page selector,
the chart built from its data, a template.

The page's content does not depend on who reads it (anyone who may see the indicator sees
the same page), so it is rendered once and cached (`scorecard.cache.cached`: under the
version a recomputation, a return or commentary bumps) together with the breadcrumbs,
keyed by the indicator, the series asked for and `page_selectors.page_stamp` (one query
that changes with anything else the page shows: targets, actions and their progress,
placements, rebases, flags, values, the definition). A cached page costs the access
check, the stamp, one cache read and the base template (the user, the navigation, the
CSRF token: never cached). Building it afresh (the selector's dozen queries, the Plotly
figure, the tables) costs several times that."""

from __future__ import annotations

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from indicators import charts, page_selectors, plotly_static
from scorecard.cache import cached

# Longer than any ONS/ODS code or breakdown label; longer input is not a series.
MAX_PARAMETER_LENGTH = 200


def _parameter(request, name: str) -> str | None:
    value = request.GET.get(name)
    if value is None or len(value) > MAX_PARAMETER_LENGTH:
        return None
    return value.strip()


def _fragments(indicator, area_code: str | None, breakdown: str | None) -> dict:
    """The page's content and breadcrumbs as HTML (rendered by our own autoescaping
    templates), and what the base template and the title need."""
    page = page_selectors.indicator_page(
        indicator, area_code=area_code, breakdown=breakdown
    )
    figure = (
        charts.figure_payload(charts.spc_figure(page.chart)) if page.chart else None
    )
    context = {
        "page": page,
        "indicator": indicator,
        "figure": figure,
        "area_not_found": bool(
            area_code
            and page.chosen
            and page.chosen.area.code.lower() != area_code.lower()
        ),
        "requested_area": area_code,
        "demo_data": page.shows_synthetic,
        "plotly_version": plotly_static.PLOTLY_VERSION,
        "history": page_selectors.definition_history(indicator),
    }
    strategy = page.placements[0].assignment.strategy if page.placements else None
    return {
        "content": render_to_string("indicators/_indicator_content.html", context),
        "breadcrumbs": render_to_string(
            "scorecard/_breadcrumbs.html",
            {"system": indicator.system, "strategy": strategy, "page": "indicator"},
        ),
        "area_name": page.chosen.area.name if page.chosen else "",
        "demo_data": page.shows_synthetic,
    }


@login_required
@require_GET
def indicator_detail(request, indicator_id: int):
    indicator = page_selectors.indicator_for(request.user, indicator_id)
    # ?area=<code>[&breakdown=...] from links; ?series=<code>|<breakdown> from the
    # switcher, which lists breakdowns too.
    area_code = _parameter(request, "area")
    breakdown = _parameter(request, "breakdown")
    series = _parameter(request, "series")
    if series and "|" in series:
        area_code, breakdown = series.split("|", 1)
    asked = hashlib.sha256(json.dumps([area_code, breakdown]).encode()).hexdigest()
    fragments = cached(
        (
            "indicator",
            indicator.pk,
            page_selectors.page_stamp(indicator),
            asked[:24],
            # The content names the chart's script by its hashed static name: a
            # release that changes it must not serve pages pointing at the old one.
            static("js/indicator_chart.js"),
        ),
        lambda: _fragments(indicator, area_code, breakdown),
    )
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "indicator": indicator,
            "fragments": {
                **fragments,
                # Rendered by our own autoescaping templates (cached as strings).
                "content": mark_safe(fragments["content"]),  # noqa: S308
                "breadcrumbs": mark_safe(fragments["breadcrumbs"]),  # noqa: S308
            },
            "demo_data": fragments["demo_data"],
        },
    )
