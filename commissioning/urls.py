from django.contrib import admin
from django.urls import include, path

from commissioning import health
from strategies import views as strategy_views

admin.site.site_header = "Integrated Commissioning Scorecard"
admin.site.site_title = "Scorecard admin"

urlpatterns = [
    path("", strategy_views.home, name="home"),
    # Probes (answered by HealthCheckMiddleware first; routed here too for reverse()).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The scorecard pages: system scorecard, strategy overview, exception report.
    path("scorecard/", include("scorecard.urls")),
    # One indicator: SPC chart, data, flags, revisions.
    path("indicators/", include("indicators.page_urls")),
    # Search across indicators, actions and commentary.
    path("search/", include("strategies.urls")),
    # Action plans and progress.
    path("actions/", include("actions.urls")),
    # Reporting cycles, exception commentary, "My updates", publishing stocktakes.
    path("workflow/", include("scorecard.workflow_urls")),
    path("returns/", include("indicators.urls")),
    # Board packs: the quarterly stocktake as HTML, PDF, Excel and CSV.
    path("packs/", include("scorecard.packs.urls")),
    path("api/", include("commissioning.api.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
