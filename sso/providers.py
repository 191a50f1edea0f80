"""The identity providers an organisation can connect, in the order the settings page shows."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    slug: str
    name: str
    summary: str
    scim: bool  # provisions people and teams over SCIM (and so has SCIM and Activity tabs)


PROVIDERS = (
    Provider("okta", "Okta", "SAML sign-in and SCIM provisioning from Okta.", scim=True),
    Provider(
        "entra",
        "Microsoft Entra ID",
        "SAML sign-in and SCIM provisioning from Entra ID.",
        scim=True,
    ),
    Provider("google", "Google Workspace", "SAML sign-in from Google Workspace.", scim=False),
    Provider(
        "saml", "Other SAML 2.0", "SAML sign-in from any SAML 2.0 identity provider.", scim=False
    ),
)
SCIM_PROVIDERS = tuple(provider.slug for provider in PROVIDERS if provider.scim)
