"""The Tenant URL an organisation's SCIM client (Okta, Entra) is given."""

from django.conf import settings

from accounts.models import Organisation


def tenant_url(organisation: Organisation) -> str:
    """Built from the public base URL, never from the Host header (DESIGN §3): behind a load
    balancer the host Django sees is not the one Okta and Entra reach."""
    return f"{settings.PUBLIC_BASE_URL}/scim/v2/{organisation.public_id}"
