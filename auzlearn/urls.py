from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("scim.urls")),
    path("", include("sso.urls")),
    path("", include("sso.settings_urls")),
    path("", include("scim.settings_urls")),
    path("", include("accounts.urls")),
]
