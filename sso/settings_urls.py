"""Settings → Single Sign-on → <provider>: the SAML tab (DESIGN §3).

Every provider has it (Okta, Entra ID, Google Workspace, other SAML 2.0); the SCIM tab, for Okta
and Entra only, is in ``scim.settings_urls``; the overview, the provider's home and the Activity
tab, which show both, in ``console.urls``. No URL names an organisation: the views take it from
the signed-in primary admin.
"""

from django.urls import path, register_converter

from sso import settings_views as views
from sso.pages import provider_converter
from sso.providers import PROVIDERS

register_converter(
    provider_converter(tuple(provider.slug for provider in PROVIDERS)), "sso_provider"
)

app_name = "sso_settings"

PROVIDER = "settings/sso/<sso_provider:provider>/"

urlpatterns = [
    path(PROVIDER + "saml/", views.saml_tab, name="saml"),
    path(PROVIDER + "saml/metadata/", views.saml_metadata, name="saml-metadata"),
    path(PROVIDER + "saml/switches/", views.saml_switches, name="saml-switches"),
    path(PROVIDER + "saml/test/", views.saml_test, name="saml-test"),
    path(PROVIDER + "saml/domains/", views.saml_domain_add, name="saml-domain-add"),
    path(
        PROVIDER + "saml/domains/<int:domain_id>/verify/",
        views.saml_domain_verify,
        name="saml-domain-verify",
    ),
    path(
        PROVIDER + "saml/domains/<int:domain_id>/remove/",
        views.saml_domain_remove,
        name="saml-domain-remove",
    ),
    path(PROVIDER + "saml/attributes/", views.saml_attribute_map, name="saml-attribute-map"),
    path(
        PROVIDER + "saml/attributes/remove/",
        views.saml_attribute_unmap,
        name="saml-attribute-unmap",
    ),
    # sso.saml_views sends the browser here after a Test sign-in: (provider, attempt id).
    path(PROVIDER + "saml/test/<int:attempt_id>/", views.saml_test_result, name="saml-test-result"),
]
