from django.urls import path

from indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.return_list, name="return_list"),
    path("upload/", views.upload, name="upload"),
    path("uploads/<int:job_id>/", views.job_detail, name="job_detail"),
    path("uploads/<int:job_id>/progress.json", views.job_progress, name="job_progress"),
    path("uploads/<int:job_id>/commit/", views.job_commit, name="job_commit"),
    path("uploads/<int:job_id>/discard/", views.job_discard, name="job_discard"),
    path("uploads/<int:job_id>/recheck/", views.job_recheck, name="job_recheck"),
    path(
        "uploads/<int:job_id>/problems.csv",
        views.job_problems_csv,
        name="job_problems_csv",
    ),
    path("uploads/<int:job_id>/file/", views.job_file, name="job_file"),
    path("<int:return_id>/", views.return_detail, name="return_detail"),
    path("<int:return_id>/rollback/", views.return_rollback, name="return_rollback"),
    path("<int:return_id>/file/", views.return_file, name="return_file"),
    path(
        "series/<int:indicator_id>/<int:area_id>/",
        views.series_history,
        name="series_history",
    ),
]
