from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from scorecard.seed.demo import demo_data_present
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
