"""Bearer-key authentication for the SCIM API (DESIGN §5)."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from scim import keys
from scim.models import ScimKey

BAD_KEY = (
    "The Secret Key is missing or not valid for this Tenant URL. Copy the Tenant URL and a newly "
    "generated Secret Key from Settings → Single Sign-on → SCIM."
)


class ScimClient(AnonymousUser):
    """The authenticated SCIM client: not a person, so no user row; DRF wants a user object."""

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False


class ScimKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` as Okta (both modes) and Entra send it; a bare key
    without the scheme is tolerated, since some admins paste only the key into Okta's HTTP
    Header field."""

    def authenticate(self, request: Request) -> tuple[ScimClient, ScimKey]:
        header = request.META.get("HTTP_AUTHORIZATION", "").strip()
        scheme, _, rest = header.partition(" ")
        secret = rest.strip() if scheme.lower() == "bearer" else header
        key = keys.verify(secret) if secret and " " not in secret else None
        if key is None:
            raise AuthenticationFailed(BAD_KEY)
        return ScimClient(), key

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="SCIM"'
