"""python3-saml's settings and request data for a connection, built from stored configuration
and PUBLIC_BASE_URL only (never from the Host header: behind a load balancer Django does not
see the host the IdP posts to)."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from sso.models import SamlConnection

UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


def settings_dict(connection: SamlConnection, *, strict: bool = True) -> dict[str, Any]:
    """Strict python3-saml (DESIGN §6): signed assertions, no SHA-1, every pinned certificate
    and only those."""
    idp: dict[str, Any] = {
        "entityId": connection.idp_entity_id,
        "singleSignOnService": {
            "url": connection.idp_sso_url,
            "binding": Constants.BINDING_HTTP_REDIRECT,
        },
        "x509certMulti": {"signing": [_body(cert["pem"]) for cert in connection.certificates]},
    }
    if connection.idp_slo_url:
        idp["singleLogoutService"] = {
            "url": connection.idp_slo_url,
            "binding": Constants.BINDING_HTTP_REDIRECT,
        }
    return {
        "strict": strict,
        "debug": False,
        "sp": {
            "entityId": connection.sp_entity_id,
            "assertionConsumerService": {
                "url": connection.acs_url,
                "binding": Constants.BINDING_HTTP_POST,
            },
            "singleLogoutService": {
                "url": connection.logout_url,
                "binding": Constants.BINDING_HTTP_REDIRECT,
            },
            "NameIDFormat": UNSPECIFIED,
        },
        "idp": idp,
        "security": {
            "authnRequestsSigned": False,
            "logoutRequestSigned": False,
            "logoutResponseSigned": False,
            "wantMessagesSigned": False,
            "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": False,
            "wantNameId": True,
            "wantNameIdEncrypted": False,
            "wantAttributeStatement": False,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": True,
            "allowRepeatAttributeName": True,
            "signatureAlgorithm": Constants.RSA_SHA256,
            "digestAlgorithm": Constants.SHA256,
        },
    }


def saml_settings(connection: SamlConnection, *, strict: bool = True) -> OneLogin_Saml2_Settings:
    return OneLogin_Saml2_Settings(
        settings_dict(connection, strict=strict), sp_validation_only=True
    )


def request_data(
    path: str, *, get: dict[str, str] | None = None, post: dict[str, str] | None = None
) -> dict[str, Any]:
    """What python3-saml knows of the request: our public scheme and host, and the path."""
    public = urlsplit(settings.PUBLIC_BASE_URL)
    return {
        "https": "on" if public.scheme == "https" else "off",
        "http_host": public.netloc,
        "script_name": path,
        "get_data": get or {},
        "post_data": post or {},
    }


def path_of(url: str) -> str:
    """The path of one of our absolute URLs, as python3-saml's request data takes it."""
    return urlsplit(url).path


def _body(pem: str) -> str:
    """The base64 body of a PEM certificate, as python3-saml takes it."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))
