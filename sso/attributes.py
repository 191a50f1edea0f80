"""The attribute names each identity provider sends for a person's names and email.

The SAML tab tells the admin the exact names to configure; sign-in accepts all of them, since
admins pick from several conventions (Okta's attribute statements, Entra's claim URIs, the
LDAP OIDs some generic IdPs use)."""

from dataclasses import dataclass

CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"


@dataclass(frozen=True)
class AttributeNames:
    given_name: str
    family_name: str
    email: str


# What we ask each kind of IdP to send (shown on its SAML tab).
EXPECTED = {
    "okta": AttributeNames("FirstName", "LastName", "Email"),
    "google": AttributeNames("FirstName", "LastName", "Email"),
    "saml": AttributeNames("FirstName", "LastName", "Email"),
    "entra": AttributeNames(f"{CLAIMS}/givenname", f"{CLAIMS}/surname", f"{CLAIMS}/emailaddress"),
}

# Everything accepted, compared ignoring case.
ALIASES = {
    "given_name": (
        "FirstName",
        "givenName",
        "given_name",
        f"{CLAIMS}/givenname",
        "urn:oid:2.5.4.42",
    ),
    "family_name": (
        "LastName",
        "surname",
        "sn",
        "family_name",
        f"{CLAIMS}/surname",
        "urn:oid:2.5.4.4",
    ),
    "email": (
        "Email",
        "mail",
        "emailAddress",
        f"{CLAIMS}/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
    ),
}


def profile_from(attributes: dict[str, list[str]]) -> dict[str, str]:
    """given_name, family_name and email as far as the attributes carry them."""
    lowered = {name.lower(): values for name, values in attributes.items()}
    profile: dict[str, str] = {}
    for field, names in ALIASES.items():
        for name in names:
            values = [v.strip() for v in lowered.get(name.lower(), []) if v.strip()]
            if values:
                profile[field] = values[0]
                break
    return profile
