"""The identity providers an organisation can connect, in the order the settings page shows."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    slug: str
    name: str
    summary: str


PROVIDERS = (
    Provider("okta", "Okta", "SAML sign-in and SCIM provisioning from Okta."),
    Provider("entra", "Microsoft Entra ID", "SAML sign-in and SCIM provisioning from Entra ID."),
    Provider("google", "Google Workspace", "SAML sign-in from Google Workspace."),
    Provider("saml", "Other SAML 2.0", "SAML sign-in from any SAML 2.0 identity provider."),
)
