"""The scorecard pages: the system scorecard, a strategy's performance overview and its
exception report. Thin: access and input here, reading in scorecard.selectors.pages."""

from __future__ import annotations

import hashlib
from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from scorecard.cache import cached
from scorecard.selectors import pages
from strategies.permissions import can_manage_returns


def indicator_url(indicator_id: int) -> str:
    """The indicator page (built beside these pages); the plain path if not wired yet."""
    return indicator_url_pattern().format(indicator_id)


def indicator_url_pattern() -> str:
    """The indicator page's URL with "{}" for the id: reversed once, not once a row."""
    placeholder = 987654321
    try:
        url = reverse("indicator_detail", args=[placeholder])
    except NoReverseMatch:
        url = f"/indicators/{placeholder}/"
    return url.replace(str(placeholder), "{}")


def _nav_context(request, system, strategy=None) -> dict:
    return {
        "system": system,
        "strategy": strategy,
        "systems": pages.visible_systems(request.user),
        "can_manage_returns": can_manage_returns(request.user, system),
    }


@login_required
def system_scorecard(request, system_slug: str | None = None):
    if system_slug is None:
        systems = pages.visible_systems(request.user)
        if not systems:
            return render(request, "scorecard/no_system.html", status=200)
        return redirect("system_scorecard", system_slug=systems[0].slug)
    system = pages.system_for(request.user, system_slug)
    scorecard = pages.system_scorecard(system)
    return render(
        request,
        "scorecard/system.html",
        {
            **_nav_context(request, system),
            "scorecard": scorecard,
            "demo_data": scorecard.has_synthetic,
        },
    )


def _as_at(request) -> tuple[date | None, str]:
    """?as_at=YYYY-MM-DD: a past date (today or later means now)."""
    raw = request.GET.get("as_at", "").strip()
    if not raw:
        return None, ""
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None, "The date must look like 2017-10-31: showing the scorecard now."
    if value >= timezone.localdate():
        return None, ""
    if value.year < 1990:
        return None, "The date is too early: showing the scorecard now."
    return value, ""


@login_required
def strategy_overview(request, system_slug: str, strategy_slug: str):
    system = pages.system_for(request.user, system_slug)
    strategy = pages.strategy_for(system, strategy_slug)
    partial = request.headers.get("HX-Request") == "true"
    # The rendered body (filter form and table) is cached per query string: the rows
    # cost far more to render than to read. Nothing user-specific is in it.
    query = hashlib.sha256(
        urlencode(sorted(request.GET.lists()), doseq=True).encode()
    ).hexdigest()
    body, demo_data = cached(
        ("overview-body", strategy.pk, partial, query),
        lambda: _overview_body(request, strategy, partial),
    )
    if partial:
        return HttpResponse(body)
    return render(
        request,
        "scorecard/strategy.html",
        {
            **_nav_context(request, system, strategy),
            # Rendered by our own autoescaping templates (cached as a string).
            "body": mark_safe(body),  # noqa: S308
            "demo_data": demo_data,
        },
    )


def _overview_body(request, strategy, partial: bool) -> tuple[str, bool]:
    as_at, as_at_problem = _as_at(request)
    overview = pages.strategy_overview(strategy, as_at=as_at)
    item_ids = {item.pk for item in overview.items}
    filters = pages.parse_filters(request.GET, overview.levels, item_ids)
    groups = pages.filtered_groups(overview, filters)
    pattern = indicator_url_pattern()
    context = {
        "system": strategy.system,
        "strategy": strategy,
        "overview": overview,
        "groups": groups,
        "shown": sum(len(g.rows) for g in groups),
        "filters": filters,
        "problems": [*filters.problems, *([as_at_problem] if as_at_problem else [])],
        "level_filters": pages.level_filters(overview, filters.levels),
        "status_options": pages.STATUS_FILTERS,
        "rag_options": pages.RAG_FILTERS,
        "framework_options": _frameworks(overview),
        "sort_options": pages.SORTS,
        "as_at": as_at,
        "as_at_text": request.GET.get("as_at", "") if as_at else "",
        "indicator_urls": {
            r.indicator.pk: pattern.format(r.indicator.pk) for r in overview.rows
        },
    }
    template = (
        "scorecard/_overview_table.html" if partial else "scorecard/_strategy_body.html"
    )
    body = render_to_string(template, context, request=request)
    return body, overview.has_synthetic


def _frameworks(overview) -> list[tuple[str, str]]:
    found = {r.indicator.source_framework for r in overview.rows}
    from indicators.models import Indicator

    return [(v, label) for v, label in Indicator.SourceFramework.choices if v in found]


@login_required
def exception_report(request, system_slug: str, strategy_slug: str):
    system = pages.system_for(request.user, system_slug)
    strategy = pages.strategy_for(system, strategy_slug)
    report = pages.exception_report(strategy)
    if report is None:  # pragma: no cover - selectors always return a report
        raise Http404
    return render(
        request,
        "scorecard/exceptions.html",
        {
            **_nav_context(request, system, strategy),
            "report": report,
            "demo_data": report.has_synthetic,
            "indicator_urls": {
                e.indicator.pk: indicator_url_pattern().format(e.indicator.pk)
                for e in report.entries
            },
        },
    )
