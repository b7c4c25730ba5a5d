from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from scorecard.cache import cached
from scorecard.seed.demo import demo_data_present
from strategies import search as site_search
from strategies.models import CommissioningSystem
from strategies.permissions import systems_visible_to
from strategies.selectors import system_summaries


@login_required
def home(request):
    # Who sees what: the systems the user holds a role in, asked on every request. The
    # systems' part of the page (the expensive part: every strategy with its counts)
    # is kept rendered in the pages' cache per set of systems, so users who may see
    # the same systems share it and nobody meets another set's. It is rendered without
    # the request: nothing in it depends on the user.
    ids = sorted(
        set(systems_visible_to(request.user).order_by().values_list("pk", flat=True))
    )
    systems = cached(
        ("home-systems", ",".join(str(pk) for pk in ids)),
        lambda: render_to_string(
            "strategies/_home_systems.html",
            {
                "summaries": system_summaries(
                    CommissioningSystem.objects.filter(pk__in=ids)
                )
            },
        ),
    )
    return render(
        request,
        "strategies/home.html",
        {"systems": mark_safe(systems), "demo_data": demo_data_present()},  # noqa: S308 - our own template's output
    )


@login_required
@require_GET
def search(request):
    results = site_search.search(request.user, request.GET.get("q"))
    return render(request, "strategies/search.html", {"results": results})
