"""/api/: the versioned REST API (/api/v1/), its schema and documentation, and the page
where users manage their tokens. API answers are gzipped (they carry no CSRF token, so
compression leaks nothing to a BREACH-style attack); the token page is not."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.gzip import gzip_page
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from actions import apis as action_apis
from commissioning.api import health, redoc, tokens
from commissioning.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from indicators import apis as indicator_apis
from scorecard import apis as scorecard_apis
from strategies import apis as strategy_apis

app_name = "api"


def not_found(request, *args, **kwargs):
    body = problem_body(
        "not-found",
        status_code=404,
        detail="There is no API endpoint at this address.",
        instance=request.get_full_path(),
    )
    return JsonResponse(body, status=404, content_type=PROBLEM_MEDIA_TYPE)


def api(view_class):
    return gzip_page(view_class.as_view())


v1 = [
    path("ping/", api(health.PingApi), name="ping"),
    path("systems/", api(strategy_apis.SystemListApi), name="system-list"),
    path(
        "systems/<slug:system>/",
        api(strategy_apis.SystemDetailApi),
        name="system-detail",
    ),
    path(
        "systems/<slug:system>/strategies/",
        api(strategy_apis.StrategyListApi),
        name="strategy-list",
    ),
    path(
        "systems/<slug:system>/strategies/<slug:strategy>/",
        api(strategy_apis.StrategyDetailApi),
        name="strategy-detail",
    ),
    path("indicators/", api(indicator_apis.IndicatorListApi), name="indicator-list"),
    path(
        "indicators/<int:pk>/",
        api(indicator_apis.IndicatorDetailApi),
        name="indicator-detail",
    ),
    path(
        "indicators/<int:pk>/series/",
        api(indicator_apis.IndicatorSeriesApi),
        name="indicator-series",
    ),
    path(
        "scorecard/<slug:system>/<slug:strategy>/",
        api(scorecard_apis.ScorecardApi),
        name="scorecard",
    ),
    path("stocktakes/", api(scorecard_apis.StocktakeListApi), name="stocktake-list"),
    path(
        "stocktakes/<int:pk>/",
        api(scorecard_apis.StocktakeDetailApi),
        name="stocktake-detail",
    ),
    path("exceptions/", api(scorecard_apis.ExceptionListApi), name="exception-list"),
    path(
        "commentary/",
        api(scorecard_apis.CommentaryCollectionApi),
        name="commentary-list",
    ),
    path("actions/", api(action_apis.ActionListApi), name="action-list"),
    path("actions/<int:pk>/", api(action_apis.ActionDetailApi), name="action-detail"),
    path(
        "actions/<int:pk>/progress/",
        api(action_apis.ActionProgressApi),
        name="action-progress",
    ),
    path("returns/", api(indicator_apis.ReturnCollectionApi), name="return-list"),
    path(
        "returns/uploads/",
        api(indicator_apis.ReturnUploadListApi),
        name="upload-list",
    ),
    path(
        "returns/uploads/<int:pk>/",
        api(indicator_apis.ReturnUploadDetailApi),
        name="upload-detail",
    ),
    path(
        "returns/uploads/<int:pk>/commit/",
        api(indicator_apis.ReturnUploadCommitApi),
        name="upload-commit",
    ),
    path(
        "returns/<int:pk>/", api(indicator_apis.ReturnDetailApi), name="return-detail"
    ),
    path(
        "returns/<int:pk>/file/",
        indicator_apis.ReturnFileApi.as_view(),
        name="return-file",
    ),
    path(
        "returns/<int:pk>/rollback/",
        api(indicator_apis.ReturnRollbackApi),
        name="return-rollback",
    ),
]

urlpatterns = [
    path("v1/", include(v1)),
    # Anything else under /api/v1/ is a problem too, never an HTML page.
    re_path(r"^v1/", not_found),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script,
    # so the content security policy stays 'self'.
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"
    ),
    path(
        "redoc/",
        redoc.LocalRedocView.as_view(url_name="api:schema"),
        name="redoc",
    ),
    path("redoc/redoc-<str:version>.js", redoc.redoc_js, name="redoc-js"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
]
