"""The product's URLs, unchanged, plus the floor route (bench.views)."""

from django.urls import path

from auzlearn.urls import urlpatterns as product_urlpatterns
from bench import views

FLOOR_PREFIX = "/bench/floor/"

urlpatterns = [
    path("bench/floor/<int:organisation_pk>/", views.floor, name="bench-floor"),
    *product_urlpatterns,
]
