from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from auzlearn import health

urlpatterns = [
    # For the load balancer (auzlearn/health.py); no trailing slash, as probes are configured.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("scim.urls")),
    path("", include("sso.urls")),
    path("", include("sso.settings_urls")),
    path("", include("scim.settings_urls")),
    path("", include("console.urls")),
    path("", include("accounts.urls")),
]

# The development identity provider (devidp/), for trying sign-in without Okta: with DEBUG off
# its URLs do not exist at all, not even as routes that refuse.
if settings.DEBUG:
    urlpatterns.append(path("", include("devidp.urls")))

# What fails outside a view's own error handling: SCIM clients get SCIM Error documents (under
# /scim/), people get the site's pages (everywhere else).
handler400 = "scim.handlers.bad_request"
handler403 = "scim.handlers.permission_denied"
handler404 = "scim.handlers.page_not_found"
handler500 = "scim.handlers.server_error"
