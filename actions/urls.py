from django.urls import path

from actions import views

app_name = "actions"

urlpatterns = [
    path("activity/<int:action_id>/", views.action_detail, name="action_detail"),
    path("activity/<int:action_id>/edit/", views.action_edit, name="action_edit"),
    path(
        "activity/<int:action_id>/progress/",
        views.progress_create,
        name="progress_create",
    ),
    path(
        "activity/<int:action_id>/milestones/",
        views.milestone_create,
        name="milestone_create",
    ),
    path(
        "milestones/<int:milestone_id>/done/",
        views.milestone_complete,
        name="milestone_complete",
    ),
    path(
        "<slug:system_slug>/<slug:strategy_slug>/",
        views.action_plan,
        name="action_plan",
    ),
    path(
        "<slug:system_slug>/<slug:strategy_slug>/new/",
        views.action_create,
        name="action_create",
    ),
]
