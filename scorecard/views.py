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
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe

from scorecard.cache import cached, page_version
from scorecard.selectors import pages


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


# The pages' own content is cached as rendered (scorecard.cache: under the version that a
# recomputation, a return, commentary or an edited strategy or system bumps), so a cached
# page costs the access check, a few cache reads and the base template (the signed-in user, the navigation, the CSRF
# token: never cached). The content goes in as UTF-8 bytes, spliced into the rendered base
# at this marker: a strategy's table is half a megabyte, and encoding it on every request
# cost more than the rest of the page.
CONTENT_MARKER = "<!-- scorecard:content -->"


def _fragments(request, parts: tuple, build, version: str) -> dict:
    """The page's fragments (`content` as UTF-8 bytes, small HTML strings and flags),
    cached by `parts`, the path and the query string. Only what every user allowed to see
    the page sees goes in (no user, no CSRF token): callers check access first, on every
    request."""
    query = hashlib.sha256(
        urlencode(sorted(request.GET.lists()), doseq=True).encode()
    ).hexdigest()
    return cached((*parts, request.path, query), build, version=version)


def _page(request, template: str, context: dict, fragments: dict) -> HttpResponse:
    """The full page: `template` (extending base.html, showing `fragments.content` and
    `fragments.breadcrumbs`) around the cached content."""
    shown = {
        # Rendered by our own autoescaping templates (cached as strings).
        "breadcrumbs": mark_safe(fragments.get("breadcrumbs", "")),  # noqa: S308
        "content": mark_safe(CONTENT_MARKER),  # noqa: S308
    }
    html = render_to_string(
        template,
        {**context, "fragments": shown, "demo_data": fragments["demo_data"]},
        request=request,
    )
    head, marker, tail = html.partition(CONTENT_MARKER)
    if not marker:  # pragma: no cover - every page template shows the content
        raise ValueError(f"{template} does not show fragments.content")
    return HttpResponse(b"".join((head.encode(), fragments["content"], tail.encode())))


def _breadcrumbs(system, strategy, page: str) -> str:
    return render_to_string(
        "scorecard/_breadcrumbs.html",
        {"system": system, "strategy": strategy, "page": page},
    )


@login_required
def system_scorecard(request, system_slug: str | None = None):
    systems = pages.visible_systems(request.user)
    if system_slug is None:
        if not systems:
            return render(request, "scorecard/no_system.html", status=200)
        return redirect("system_scorecard", system_slug=systems[0].slug)
    system = next((s for s in systems if s.slug == system_slug), None)
    if system is None:
        raise Http404("No such commissioning system")

    def build() -> dict:
        scorecard = pages.system_scorecard(system)
        content = render_to_string(
            "scorecard/_system_content.html",
            {"system": system, "scorecard": scorecard},
            request=request,
        )
        return {"content": content.encode(), "demo_data": scorecard.has_synthetic}

    fragments = _fragments(request, ("system-page", system.pk), build, page_version())
    return _page(
        request,
        "scorecard/system.html",
        {"system": system, "systems": systems},
        fragments,
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
    version = page_version()
    strategy = pages.visible_strategy(
        request.user, system_slug, strategy_slug, version=version
    )
    system = strategy.system
    # An htmx request (the filter form) gets the table alone.
    partial = request.headers.get("HX-Request") == "true"

    def build() -> dict:
        body, demo_data = _overview_body(request, strategy, partial)
        if partial:
            return {"content": body.encode(), "demo_data": demo_data}
        content = render_to_string(
            "scorecard/_strategy_content.html",
            {"system": system, "strategy": strategy, "body": mark_safe(body)},  # noqa: S308
        )
        return {
            "breadcrumbs": _breadcrumbs(system, strategy, "strategy"),
            "content": content.encode(),
            "demo_data": demo_data,
        }

    fragments = _fragments(
        request, ("overview-page", strategy.pk, partial), build, version
    )
    if partial:
        response = HttpResponse(fragments["content"])
    else:
        response = _page(
            request,
            "scorecard/strategy.html",
            {"system": system, "strategy": strategy},
            fragments,
        )
    # The table alone and the whole page share the URL: a browser must not swap them.
    patch_vary_headers(response, ["HX-Request"])
    return response


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
    version = page_version()
    strategy = pages.visible_strategy(
        request.user, system_slug, strategy_slug, version=version
    )
    system = strategy.system

    def build() -> dict:
        report = pages.exception_report(strategy)
        pattern = indicator_url_pattern()
        content = render_to_string(
            "scorecard/_exceptions_content.html",
            {
                "system": system,
                "strategy": strategy,
                "report": report,
                "indicator_urls": {
                    e.indicator.pk: pattern.format(e.indicator.pk)
                    for e in report.entries
                },
            },
            request=request,
        )
        return {
            "breadcrumbs": _breadcrumbs(system, strategy, "exceptions"),
            "content": content.encode(),
            "demo_data": report.has_synthetic,
        }

    fragments = _fragments(request, ("exceptions-page", strategy.pk), build, version)
    return _page(
        request,
        "scorecard/exceptions.html",
        {"system": system, "strategy": strategy},
        fragments,
    )
