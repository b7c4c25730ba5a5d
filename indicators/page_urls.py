from django.urls import path

from indicators import page_views, plotly_static

# Mounted at /indicators/ without a namespace: other pages link with
# {% url "indicator_detail" indicator.pk %}?area=<code>.
urlpatterns = [
    path("<int:indicator_id>/", page_views.indicator_detail, name="indicator_detail"),
    # plotly.js from the Python package (no CDN), versioned so browsers cache it.
    path(
        "assets/plotly-<str:version>.min.js", plotly_static.plotly_js, name="plotly_js"
    ),
]
