from django.contrib import admin
from django.urls import include, path

from strategies import views as strategy_views

admin.site.site_header = "Integrated Commissioning Scorecard"
admin.site.site_title = "Scorecard admin"

urlpatterns = [
    path("", strategy_views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("returns/", include("indicators.urls")),
    path("admin/", admin.site.urls),
]
