"""Settings → Single Sign-on → <provider>: the SCIM tab (DESIGN §3). The provider's home, its SAML
tab and the Activity tab are in ``sso.settings_urls``.

Only providers that provision over SCIM match; /settings/sso/google/scim/ is a 404. No URL
names an organisation: the views take it from the signed-in primary admin.
"""

from django.urls import path, register_converter

from scim import settings_views as views
from sso.pages import provider_converter
from sso.providers import SCIM_PROVIDERS

register_converter(provider_converter(SCIM_PROVIDERS), "scim_provider")

app_name = "scim_settings"

PROVIDER = "settings/sso/<scim_provider:provider>/"

urlpatterns = [
    path(PROVIDER + "scim/", views.scim_tab, name="scim"),
    path(PROVIDER + "scim/enabled/", views.scim_enabled, name="scim-enabled"),
    path(PROVIDER + "scim/key/", views.key_generate, name="key-generate"),
    path(PROVIDER + "scim/key/revoke/", views.key_revoke, name="key-revoke"),
    path(PROVIDER + "scim/key/previous/stop/", views.key_stop_previous, name="key-stop-previous"),
    path(PROVIDER + "scim/attributes/", views.attribute_add, name="attribute-add"),
    path(
        PROVIDER + "scim/attributes/<int:attribute_id>/remove/",
        views.attribute_remove,
        name="attribute-remove",
    ),
]
