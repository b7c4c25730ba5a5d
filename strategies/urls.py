from django.urls import path

from strategies import views

# Mounted at /search/ without a namespace: {% url "search" %}?q=...
urlpatterns = [
    path("", views.search, name="search"),
]
