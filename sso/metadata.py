"""Read an identity provider's SAML 2.0 metadata into the plain facts a connection needs.

Pure: bytes in, an `IdpMetadata` out, or a `MetadataError` whose message is a sentence the admin
can act on. No database, no Django, no network (fetching a metadata URL is `sso.fetch`).

Parsing goes through python3-saml's hardened parser (`OneLogin_Saml2_XML.to_etree`: no DTDs, no
entities, no network, no huge trees), after our own size cap and DOCTYPE scan, so a hostile
upload is refused before a parser sees it. The library's `OneLogin_Saml2_IdPMetadataParser` is
not used: it silently takes the first EntityDescriptor and IDPSSODescriptor it finds, looks for
one binding only, and does not say what is wrong, while the admin needs each refusal explained.

The metadata's own XML signature (Entra signs its federation metadata) is deliberately not
verified: the admin uploads the file over an authenticated session, or we fetch it ourselves over
verified https, so the transport already vouches for it; verifying would need a trust anchor we do
not have. What protects sign-in is that every SAML response must be signed by one of the
certificates pinned from this metadata.

`validUntil` and `cacheDuration` are not enforced either, as python3-saml's own parser does not:
what goes stale in practice is a signing certificate, and each one's expiry is exposed.

Nor is the metadata validated against the SAML metadata XML schema: Entra's metadata carries WS-Fed
`RoleDescriptor` extensions typed outside that schema, and the rules below are the ones that matter.

Error codes (`MetadataError.code`): empty, too_large, html, not_xml, dtd, not_saml_metadata,
no_identity_provider, several_identity_providers, service_provider_metadata, no_entity_id,
no_saml2_support, no_sso_service, sso_url_invalid, sso_url_not_https, slo_url_invalid,
slo_url_not_https, no_signing_certificate, certificate_unreadable, certificates_expired.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

# python3-saml (and lxml beneath it) ship no type information.
from onelogin.saml2.xml_utils import (  # type: ignore[import-untyped, unused-ignore]
    OneLogin_Saml2_XML,
)
from onelogin.saml2.xmlparser import (  # type: ignore[import-untyped, unused-ignore]
    DTDForbidden,
    EntitiesForbidden,
)

# Real IdP metadata is small: Okta's and Google's are about 4 kB, Entra's tenant-wide federation
# metadata (WS-Fed roles, claim lists, a signature) about 25-60 kB. 1 MB leaves ample room and
# still refuses federation aggregates (InCommon, eduGAIN: tens of MB), which we do not support.
MAX_METADATA_BYTES = 1_000_000

NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
# Order of preference: Redirect keeps our AuthnRequest a plain link; POST is what some IdPs offer.
SUPPORTED_BINDINGS = (BINDING_REDIRECT, BINDING_POST)

_ENTITY_DESCRIPTOR = f"{{{NS_MD}}}EntityDescriptor"
_ENTITIES_DESCRIPTOR = f"{{{NS_MD}}}EntitiesDescriptor"
_IDP_DESCRIPTOR = f"{{{NS_MD}}}IDPSSODescriptor"
_SP_DESCRIPTOR = f"{{{NS_MD}}}SPSSODescriptor"

# A DOCTYPE in any common encoding. A DTD is how entity-expansion ("billion laughs") and external
# entity attacks start, and no identity provider's metadata has one, so finding one is enough.
_DOCTYPE_PATTERNS = tuple(
    re.compile(re.escape("<!DOCTYPE".encode(encoding)), re.IGNORECASE)
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.I
)


class _Element(Protocol):
    """The part of python3-saml's lxml element we use (lxml itself has no type stubs)."""

    tag: str
    text: str | None

    def get(self, key: str) -> str | None: ...

    def findall(self, path: str) -> list[_Element]: ...

    def iter(self, tag: str) -> Iterator[_Element]: ...


class MetadataError(Exception):
    """Metadata we refuse; `message` is a sentence for the admin naming what is wrong."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Certificate:
    pem: str
    der_b64: str  # base64 of the DER bytes on one line, the form python3-saml's settings take
    fingerprint_sha256: str  # "AB:CD:…", the form Okta and Entra show next to their certificates
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    subject: str  # RFC 4514, e.g. "CN=Microsoft Azure Federated SSO Certificate"

    def expires_within(self, days: int, now: datetime | None = None) -> bool:
        """True if the certificate has expired or will within `days` (0: has expired by now)."""
        now = now or datetime.now(UTC)
        return self.not_after <= now + timedelta(days=days)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_within(0, now)


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    slo_url: str | None
    certificates: tuple[Certificate, ...]  # every signing certificate, in document order
    name_id_formats: tuple[str, ...]


def parse_metadata(data: bytes | str) -> IdpMetadata:
    """Parse uploaded or fetched IdP metadata, or raise MetadataError saying what is wrong."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    _check_raw(raw)
    root = _parse_xml(raw)
    entity = _single_idp_entity(root)
    idp = _saml2_idp_descriptor(entity)
    return IdpMetadata(
        entity_id=_entity_id(entity),
        sso_url=_sso_url(idp),
        slo_url=_slo_url(idp),
        certificates=_signing_certificates(idp),
        name_id_formats=_name_id_formats(idp),
    )


def _check_raw(raw: bytes) -> None:
    """Refuse what must never reach the parser, judged on the bytes alone."""
    if not raw.strip():
        raise MetadataError("empty", "The metadata is empty.")
    if len(raw) > MAX_METADATA_BYTES:
        raise MetadataError(
            "too_large",
            f"The metadata is larger than {MAX_METADATA_BYTES // 1_000_000} MB, far more than "
            "an identity provider's metadata needs; upload the metadata of your identity "
            "provider alone.",
        )
    # Checked before the DOCTYPE scan: "<!DOCTYPE html>" is someone's sign-in page or a download
    # page saved by mistake, and saying so helps more than talking about DTDs.
    if _HTML_START.match(raw):
        raise _html_error()
    # python3-saml's parser refuses a DTD only after lxml has parsed the document, by which time
    # libxml2 has already started expanding a "billion laughs" (it stops at its amplification
    # limit with a syntax error). Refusing on sight means no parser ever does that work.
    if any(pattern.search(raw) for pattern in _DOCTYPE_PATTERNS):
        raise _dtd_error()


def _parse_xml(raw: bytes) -> _Element:
    """Parse with the library's safe parser, which checks for DTDs and entities again."""
    try:
        root: _Element = OneLogin_Saml2_XML.to_etree(raw)
    except (DTDForbidden, EntitiesForbidden):
        raise _dtd_error() from None
    except (SyntaxError, ValueError) as error:  # lxml's XMLSyntaxError is a SyntaxError
        if raw.lstrip().startswith((b"{", b"[")):
            raise MetadataError(
                "not_xml", "The metadata is JSON, not XML; SAML metadata is an XML document."
            ) from None
        # A SyntaxError's str() appends "(<string>, line 1)"; its msg is lxml's own sentence.
        detail = (error.msg if isinstance(error, SyntaxError) else str(error)) or "unreadable"
        raise MetadataError("not_xml", f"The metadata is not valid XML ({detail}).") from None
    return root


def _single_idp_entity(root: _Element) -> _Element:
    """The one EntityDescriptor describing an identity provider: one IdP per connection."""
    if root.tag == _ENTITY_DESCRIPTOR:
        entities = [root]
    elif root.tag == _ENTITIES_DESCRIPTOR:
        entities = list(root.iter(_ENTITY_DESCRIPTOR))
    elif root.tag.rsplit("}", 1)[-1].lower() == "html":
        raise _html_error()
    else:
        raise MetadataError(
            "not_saml_metadata",
            f"This XML is not SAML 2.0 metadata: its root element is {_describe_tag(root.tag)}, "
            f"not EntityDescriptor in the {NS_MD} namespace.",
        )
    idp_entities = [entity for entity in entities if entity.findall(_IDP_DESCRIPTOR)]
    if len(idp_entities) == 1:
        return idp_entities[0]
    if len(idp_entities) > 1:
        raise MetadataError(
            "several_identity_providers",
            f"The metadata describes {len(idp_entities)} identity providers; upload the metadata "
            "of just one (one identity provider per connection).",
        )
    if any(entity.findall(_SP_DESCRIPTOR) for entity in entities):
        raise MetadataError(
            "service_provider_metadata",
            "This is service-provider metadata (it has an SPSSODescriptor and no "
            "IDPSSODescriptor); upload your identity provider's metadata instead.",
        )
    raise MetadataError(
        "no_identity_provider",
        "The metadata describes no identity provider (there is no IDPSSODescriptor); upload "
        "your identity provider's SAML metadata.",
    )


def _entity_id(entity: _Element) -> str:
    entity_id = (entity.get("entityID") or "").strip()
    if not entity_id:
        raise MetadataError(
            "no_entity_id", "The metadata's EntityDescriptor has no entityID attribute."
        )
    return entity_id


def _saml2_idp_descriptor(entity: _Element) -> _Element:
    """The entity's IDPSSODescriptor that speaks SAML 2.0 (Shibboleth lists 1.1 and 2.0 too)."""
    descriptors = entity.findall(_IDP_DESCRIPTOR)
    saml2 = [
        d
        for d in descriptors
        if SAML2_PROTOCOL in (d.get("protocolSupportEnumeration") or "").split()
    ]
    if not saml2:
        declared = descriptors[0].get("protocolSupportEnumeration") or "nothing"
        raise MetadataError(
            "no_saml2_support",
            f"The identity provider does not declare SAML 2.0 support (its "
            f'protocolSupportEnumeration is "{declared}"); only SAML 2.0 is supported.',
        )
    if len(saml2) > 1:
        raise MetadataError(
            "several_identity_providers",
            "The metadata has more than one SAML 2.0 IDPSSODescriptor for the same entity; "
            "upload metadata that describes a single identity provider.",
        )
    return saml2[0]


def _sso_url(idp: _Element) -> str:
    location = _endpoint(idp, "SingleSignOnService")
    if location is None:
        raise MetadataError(
            "no_sso_service",
            "The metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST "
            "binding, so there is nowhere to send people to sign in.",
        )
    _check_https(location, "sign-in URL (SingleSignOnService)", "sso")
    return location


def _slo_url(idp: _Element) -> str | None:
    # Optional: Okta lists it only when single logout is switched on, Google never does.
    location = _endpoint(idp, "SingleLogoutService")
    if location is not None:
        _check_https(location, "sign-out URL (SingleLogoutService)", "slo")
    return location


def _endpoint(idp: _Element, element: str) -> str | None:
    """The Location of the service with the most preferred binding we support, if any."""
    by_binding: dict[str, str] = {}
    for service in idp.findall(f"{{{NS_MD}}}{element}"):
        binding = service.get("Binding") or ""
        by_binding.setdefault(binding, (service.get("Location") or "").strip())
    for binding in SUPPORTED_BINDINGS:
        if binding in by_binding:
            return by_binding[binding]
    return None


def _check_https(location: str, what: str, code_prefix: str) -> None:
    """People's browsers carry SAML messages to these URLs; over http anyone on the path reads
    (or rewrites) the request and its RelayState."""
    parts = urlsplit(location)
    if parts.scheme.lower() == "https" and parts.hostname:
        return
    if parts.scheme and parts.netloc:
        raise MetadataError(
            f"{code_prefix}_url_not_https",
            f"The identity provider's {what} must use https, but it is {location}.",
        )
    raise MetadataError(
        f"{code_prefix}_url_invalid",
        f'The identity provider\'s {what} is not a valid https URL: "{location}".',
    )


def _signing_certificates(idp: _Element) -> tuple[Certificate, ...]:
    """Every signing certificate the IdP lists, de-duplicated, expired ones kept.

    Keeping them all is what makes certificate rollover painless: Entra publishes the next
    certificate beside the current one weeks before it switches, and Okta does the same when an
    admin rotates a key. An expired certificate is kept (the admin may be mid-rollover and the UI
    warns); only metadata whose certificates have all expired is refused.
    """
    certificates: dict[str, Certificate] = {}
    for number, der in enumerate(_signing_certificate_ders(idp), start=1):
        certificate = _read_certificate(der, number)
        certificates.setdefault(certificate.fingerprint_sha256, certificate)
    if not certificates:
        raise MetadataError(
            "no_signing_certificate",
            "The identity provider's metadata lists no signing certificate (a KeyDescriptor "
            'with use="signing" holding an X509Certificate), so its sign-ins could not be '
            "verified.",
        )
    now = datetime.now(UTC)
    if all(certificate.is_expired(now) for certificate in certificates.values()):
        newest = max(certificate.not_after for certificate in certificates.values())
        raise MetadataError(
            "certificates_expired",
            "Every signing certificate in the metadata has expired (the newest on "
            f"{newest:%Y-%m-%d}); download current metadata from your identity provider.",
        )
    return tuple(certificates.values())


def _signing_certificate_ders(idp: _Element) -> Iterator[str]:
    """The base64 text of each X509Certificate in a signing KeyDescriptor.

    A KeyDescriptor without `use` is for both signing and encryption (SAML metadata §2.4.1.1).
    """
    for key_descriptor in idp.findall(f"{{{NS_MD}}}KeyDescriptor"):
        if key_descriptor.get("use") not in (None, "signing"):
            continue
        for element in key_descriptor.iter(f"{{{NS_DS}}}X509Certificate"):
            yield element.text or ""


def _read_certificate(text: str, number: int) -> Certificate:
    # ADFS and Google wrap the base64 over several lines; Okta and Entra put it on one.
    der_b64 = "".join(text.split())
    try:
        der = base64.b64decode(der_b64, validate=True)
        certificate = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise MetadataError(
            "certificate_unreadable",
            f"Signing certificate {number} in the metadata cannot be read: it is not a "
            "base64-encoded X.509 certificate.",
        ) from None
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return Certificate(
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        der_b64=base64.b64encode(der).decode("ascii"),
        fingerprint_sha256=":".join(re.findall("..", fingerprint)),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        subject=certificate.subject.rfc4514_string(),
    )


def _name_id_formats(idp: _Element) -> tuple[str, ...]:
    formats = ((element.text or "").strip() for element in idp.findall(f"{{{NS_MD}}}NameIDFormat"))
    return tuple(dict.fromkeys(value for value in formats if value))


def _html_error() -> MetadataError:
    return MetadataError(
        "html",
        "This is a web page (HTML), not SAML metadata; download the metadata XML file from "
        "your identity provider, or give its metadata URL.",
    )


def _dtd_error() -> MetadataError:
    return MetadataError(
        "dtd",
        "The metadata contains a DOCTYPE declaration, which is not allowed: identity providers' "
        "metadata never has one, and DTDs are how XML entity attacks are made.",
    )


def _describe_tag(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return f"{local} in the {namespace} namespace" if namespace else f"{local} with no namespace"
