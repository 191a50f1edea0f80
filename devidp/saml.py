"""The development IdP's side of SAML 2.0: its metadata, reading the AuthnRequests our service
provider sends over HTTP-Redirect, and signed Responses shaped as Okta's are.

Pure: plain values in, bytes out, no database and no Django. The Response is signed for real
with xmlsec (RSA-SHA256, SHA-256 digests, exclusive canonicalisation, the certificate in
KeyInfo), the assertion first and then the Response around it, as Okta signs by default; our
ACS validates it exactly as it validates Okta's.
"""

import base64
import binascii
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import xmlsec

# lxml and python3-saml ship no type information.
from lxml import etree  # type: ignore[import-untyped, unused-ignore]
from onelogin.saml2.xml_utils import (  # type: ignore[import-untyped, unused-ignore]
    OneLogin_Saml2_XML,
)

from devidp.keys import SigningKey

SAMLP: Final = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML: Final = "urn:oasis:names:tc:SAML:2.0:assertion"
MD: Final = "urn:oasis:names:tc:SAML:2.0:metadata"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
HTTP_REDIRECT: Final = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SUCCESS: Final = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER: Final = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
UNSPECIFIED: Final = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
ENTITY: Final = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
BASIC: Final = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
PASSWORD_PROTECTED: Final = (  # an authentication context class, not a password
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105
)

# An AuthnRequest is a few hundred bytes; these caps refuse anything else before (and while)
# it is inflated, so a small request cannot expand into a large one.
MAX_REQUEST_CHARS: Final = 16 * 1024
MAX_INFLATED_BYTES: Final = 64 * 1024
# How long a response may be used: Okta's assertions are valid for five minutes.
LIFETIME: Final = timedelta(minutes=5)


class RequestRefused(Exception):
    """An AuthnRequest the IdP will not answer; the message says why, for the page."""


@dataclass(frozen=True)
class AuthnRequest:
    id: str
    issuer: str
    acs_url: str | None  # AssertionConsumerServiceURL, when the request names one
    destination: str | None


# --- metadata ------------------------------------------------------------------------------------


def metadata_xml(*, entity_id: str, sso_url: str, certificate_der_b64: str) -> bytes:
    """The IdP's metadata, as Okta publishes its own: one signing certificate, NameID format
    unspecified, the sign-in URL for the HTTP-Redirect binding (the one AuthnRequests come by)."""
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD}, entityID=entity_id)
    descriptor = etree.SubElement(
        root,
        f"{{{MD}}}IDPSSODescriptor",
        WantAuthnRequestsSigned="false",
        protocolSupportEnumeration=SAMLP,
    )
    key_descriptor = etree.SubElement(descriptor, f"{{{MD}}}KeyDescriptor", use="signing")
    key_info = etree.SubElement(key_descriptor, f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    x509_data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = certificate_der_b64
    etree.SubElement(descriptor, f"{{{MD}}}NameIDFormat").text = UNSPECIFIED
    etree.SubElement(
        descriptor, f"{{{MD}}}SingleSignOnService", Binding=HTTP_REDIRECT, Location=sso_url
    )
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


# --- AuthnRequest (HTTP-Redirect binding) --------------------------------------------------------


def read_authn_request(saml_request: str) -> AuthnRequest:
    """The AuthnRequest in a SAMLRequest query parameter: base64 of raw DEFLATE (SAML Bindings
    3.4.4.1). Parsed by python3-saml's hardened parser: no DTD, no entities, no network."""
    if not saml_request:
        raise RequestRefused("The request carries no SAMLRequest.")
    if len(saml_request) > MAX_REQUEST_CHARS:
        raise RequestRefused("The SAMLRequest is far larger than an AuthnRequest.")
    try:
        deflated = base64.b64decode(saml_request, validate=True)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # negative: raw DEFLATE, no header
        xml = inflater.decompress(deflated, MAX_INFLATED_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        raise RequestRefused("The SAMLRequest is not base64 of DEFLATE-compressed XML.") from None
    if inflater.unconsumed_tail:
        raise RequestRefused("The SAMLRequest is far larger than an AuthnRequest.")
    try:
        root = OneLogin_Saml2_XML.to_etree(xml)
    except Exception:  # python3-saml raises several types for unsafe or broken XML
        raise RequestRefused("The SAMLRequest is not XML this IdP will read.") from None
    if root.tag != f"{{{SAMLP}}}AuthnRequest":
        raise RequestRefused("The SAMLRequest is not an AuthnRequest.")
    request_id = root.get("ID") or ""
    issuer = (root.findtext(f"{{{SAML}}}Issuer") or "").strip()
    if not request_id or not issuer:
        raise RequestRefused("The AuthnRequest has no ID or no Issuer.")
    return AuthnRequest(
        id=request_id,
        issuer=issuer,
        acs_url=root.get("AssertionConsumerServiceURL"),
        destination=root.get("Destination"),
    )


# --- Response (HTTP-POST binding) ----------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Who the response says signed in, and the attribute statements sent with it."""

    name_id: str
    attributes: Mapping[str, str]


def response_xml(
    *,
    key: SigningKey,
    issuer: str,
    acs_url: str,
    audience: str,
    subject: Subject,
    in_response_to: str | None,
    now: datetime | None = None,
) -> bytes:
    """A samlp:Response for ``subject``, Destination and Recipient ``acs_url``, Audience
    ``audience``, answering ``in_response_to`` when the sign-in was started by the service
    provider (None: started at the IdP). The assertion and the Response are both signed."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    root = etree.Element(f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML})
    root.set("ID", _new_id())
    root.set("Version", "2.0")
    root.set("IssueInstant", _time(moment))
    root.set("Destination", acs_url)
    if in_response_to is not None:
        root.set("InResponseTo", in_response_to)
    _issuer(root, issuer)
    status = etree.SubElement(root, f"{{{SAMLP}}}Status")
    etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value=SUCCESS)

    assertion = _saml(root, "Assertion", ID=_new_id(), Version="2.0", IssueInstant=_time(moment))
    _issuer(assertion, issuer)
    _subject(assertion, subject.name_id, acs_url, in_response_to, moment)
    conditions = _saml(
        assertion,
        "Conditions",
        # A minute's allowance for clocks behind ours, as IdPs give.
        NotBefore=_time(moment - timedelta(minutes=1)),
        NotOnOrAfter=_time(moment + LIFETIME),
    )
    _saml(_saml(conditions, "AudienceRestriction"), "Audience", text=audience)
    statement = _saml(
        assertion, "AuthnStatement", AuthnInstant=_time(moment), SessionIndex=assertion.get("ID")
    )
    _saml(_saml(statement, "AuthnContext"), "AuthnContextClassRef", text=PASSWORD_PROTECTED)
    if subject.attributes:
        attributes = _saml(assertion, "AttributeStatement")
        for name, value in subject.attributes.items():
            attribute = _saml(attributes, "Attribute", Name=name, NameFormat=BASIC)
            _saml(attribute, "AttributeValue", text=value)

    # The assertion first: the Response's signature then covers the signed assertion.
    _sign(assertion, key)
    _sign(root, key)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


def post_fields(response: bytes, relay_state: str | None) -> dict[str, str]:
    """The form fields the browser posts to the ACS (HTTP-POST binding)."""
    fields = {"SAMLResponse": base64.b64encode(response).decode("ascii")}
    if relay_state:
        fields["RelayState"] = relay_state
    return fields


def _subject(
    assertion: Any, name_id: str, acs_url: str, in_response_to: str | None, moment: datetime
) -> None:
    subject = _saml(assertion, "Subject")
    _saml(subject, "NameID", text=name_id, Format=UNSPECIFIED)
    confirmation = _saml(subject, "SubjectConfirmation", Method=BEARER)
    data = _saml(
        confirmation,
        "SubjectConfirmationData",
        NotOnOrAfter=_time(moment + LIFETIME),
        Recipient=acs_url,
    )
    if in_response_to is not None:
        data.set("InResponseTo", in_response_to)


def _issuer(parent: Any, entity_id: str) -> None:
    _saml(parent, "Issuer", text=entity_id, Format=ENTITY)


def _saml(parent: Any, local_name: str, *, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{SAML}}}{local_name}")
    for name, value in attributes.items():
        element.set(name, value)
    if text is not None:
        element.text = text
    return element


def _sign(element: Any, key: SigningKey) -> None:
    """An enveloped signature over ``element``, referenced by its ID, right after its Issuer
    (where the SAML schema puts it)."""
    signature = xmlsec.template.create(
        element,
        xmlsec.constants.TransformExclC14N,
        xmlsec.constants.TransformRsaSha256,
        ns="ds",
    )
    element.find(f"{{{SAML}}}Issuer").addnext(signature)
    reference = xmlsec.template.add_reference(
        signature, xmlsec.constants.TransformSha256, uri="#" + element.get("ID")
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.x509_data_add_certificate(xmlsec.template.add_x509_data(key_info))

    signing_key = xmlsec.Key.from_memory(key.private_key_pem, xmlsec.constants.KeyDataFormatPem)
    signing_key.load_cert_from_memory(key.certificate_pem, xmlsec.constants.KeyDataFormatCertPem)
    context = xmlsec.SignatureContext()
    context.key = signing_key
    context.register_id(element, "ID")
    context.sign(signature)


def _new_id() -> str:
    # IDs are xs:ID: they must not start with a digit.
    return "_" + secrets.token_hex(20)


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
