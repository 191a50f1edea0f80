"""Settings → Single Sign-on: the overview, a provider's home and its Activity tab, the pages that
show sso and scim together (DESIGN §3). The SAML tab is in ``sso.settings_urls``, the SCIM tab in
``scim.settings_urls``. No URL names an organisation: the views take it from the signed-in
primary admin.
"""

from django.urls import path, register_converter

from console import views
from sso.pages import provider_converter
from sso.providers import PROVIDERS, SCIM_PROVIDERS

register_converter(
    provider_converter(tuple(provider.slug for provider in PROVIDERS)), "console_provider"
)
register_converter(provider_converter(SCIM_PROVIDERS), "console_scim_provider")

app_name = "console"

urlpatterns = [
    path("settings/sso/", views.overview, name="overview"),
    path("settings/sso/<console_provider:provider>/", views.provider_home, name="provider"),
    path("settings/sso/<console_provider:provider>/activity/", views.activity, name="activity"),
    path(
        "settings/sso/<console_scim_provider:provider>/activity/scim.csv",
        views.activity_csv,
        name="activity-csv",
    ),
]
