from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from scorecard.seed.demo import demo_data_present
from strategies import search as site_search
from strategies.permissions import systems_visible_to
from strategies.selectors import system_summaries


@login_required
def home(request):
    return render(
        request,
        "strategies/home.html",
        {
            "summaries": system_summaries(systems_visible_to(request.user)),
            "demo_data": demo_data_present(),
        },
    )


@login_required
@require_GET
def search(request):
    results = site_search.search(request.user, request.GET.get("q"))
    return render(request, "strategies/search.html", {"results": results})
