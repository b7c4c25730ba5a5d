from django.urls import path

from scorecard.packs import views

urlpatterns = [
    path("", views.pack_index, name="pack_index"),
    path("<slug:system_slug>/", views.pack_list, name="pack_list"),
    path("pack/<int:pack_id>/", views.pack_detail, name="pack_detail"),
    path("pack/<int:pack_id>/progress.json", views.pack_progress, name="pack_progress"),
    path("pack/<int:pack_id>/<str:fmt>/", views.pack_file, name="pack_file"),
]
