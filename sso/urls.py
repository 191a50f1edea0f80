from django.urls import path

from sso import views

app_name = "sso"

urlpatterns = [
    path("settings/sso/", views.overview, name="overview"),
]
