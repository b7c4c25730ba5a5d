"""The indicator page: thin, a permission check (404 across systems), the page selector,
the chart built from its data, a template."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from indicators import charts, page_selectors, plotly_static

# Longer than any ONS/ODS code or breakdown label; longer input is not a series.
MAX_PARAMETER_LENGTH = 200


def _parameter(request, name: str) -> str | None:
    value = request.GET.get(name)
    if value is None or len(value) > MAX_PARAMETER_LENGTH:
        return None
    return value.strip()


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
    page = page_selectors.indicator_page(
        indicator, area_code=area_code, breakdown=breakdown
    )
    figure = (
        charts.figure_payload(charts.spc_figure(page.chart)) if page.chart else None
    )
    return render(
        request,
        "indicators/indicator_detail.html",
        {
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
        },
    )
