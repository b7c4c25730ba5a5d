from django.urls import path

from scorecard import workflow_views as views

app_name = "workflow"

urlpatterns = [
    path("", views.cycle_list, name="cycle_list"),
    path("my-updates/", views.my_updates, name="my_updates"),
    path("cycles/<int:cycle_id>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<int:cycle_id>/publish/", views.cycle_publish, name="cycle_publish"),
    path(
        "cycles/<int:cycle_id>/commentary/<int:strategy_id>/<int:indicator_id>/",
        views.commentary,
        name="commentary",
    ),
    path(
        "cycles/<int:cycle_id>/commentary/<int:strategy_id>/<int:indicator_id>/review/",
        views.commentary_review,
        name="commentary_review",
    ),
    path(
        "stocktakes/<int:stocktake_id>/",
        views.stocktake_detail,
        name="stocktake_detail",
    ),
]
