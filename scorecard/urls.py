from django.urls import path

from scorecard import views

urlpatterns = [
    path("", views.system_scorecard, name="scorecard"),
    path("<slug:system_slug>/", views.system_scorecard, name="system_scorecard"),
    path(
        "<slug:system_slug>/<slug:strategy_slug>/",
        views.strategy_overview,
        name="strategy_overview",
    ),
    path(
        "<slug:system_slug>/<slug:strategy_slug>/exceptions/",
        views.exception_report,
        name="exception_report",
    ),
]
