"""A test identity provider: SAML 2.0 metadata and responses shaped like Okta's, Entra ID's,
Google Workspace's and a plain spec-style IdP's, signed for real with xmlsec by RSA keys made in
this test run, plus the mutated copies of a signed response that the attack tests need, and
single logout messages (LogoutRequest, LogoutResponse) signed as the HTTP-Redirect binding signs
them (``redirect_query``).

Nothing here patches signature checking anywhere (STYLE 15): an attack helper takes real signed
bytes and changes them the way an attacker would, without the IdP's private key.

    idp = okta_idp()
    xml = idp.response(acs_url=ACS, audience=SP_ENTITY_ID, name_id="ada@acme.test",
                       attributes=idp.default_attributes("Ada", "Admin", "ada@acme.test"))
    client.post(ACS_PATH, idp.post_form(xml, relay_state="/courses/"))

Pure Python: no models, no database. Vendor shapes follow their real responses and metadata as
published in their documentation and seen in the wild; details recalled rather than checked
against a capture are marked "unverified". None of them matters to python3-saml.
"""

import base64
import copy
import secrets
import textwrap
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, ClassVar, Final, Literal, TypedDict, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# lxml ships no type information.
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

Element = Any  # an lxml element

SAMLP: Final = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML: Final = "urn:oasis:names:tc:SAML:2.0:assertion"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
MD: Final = "urn:oasis:names:tc:SAML:2.0:metadata"
XS: Final = "http://www.w3.org/2001/XMLSchema"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
FED: Final = "http://docs.oasis-open.org/wsfed/federation/200706"
AUTH: Final = "http://docs.oasis-open.org/wsfed/authorization/200706"
WSA: Final = "http://www.w3.org/2005/08/addressing"
EC: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"

SUCCESS: Final = "urn:oasis:names:tc:SAML:2.0:status:Success"
RESPONDER: Final = "urn:oasis:names:tc:SAML:2.0:status:Responder"
TOP_LEVEL_STATUSES: Final = (
    SUCCESS,
    "urn:oasis:names:tc:SAML:2.0:status:Requester",
    RESPONDER,
    "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
)
BEARER: Final = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ENTITY_FORMAT: Final = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
UNSPECIFIED: Final = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
EMAIL_ADDRESS: Final = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT: Final = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
BASIC_NAME_FORMAT: Final = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
URI_NAME_FORMAT: Final = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
HTTP_REDIRECT: Final = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
HTTP_POST: Final = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
PASSWORD_PROTECTED: Final = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

CLAIMS: Final = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
MS_CLAIMS: Final = "http://schemas.microsoft.com/identity/claims"

DigestName = Literal["sha256", "sha1"]
SignatureName = Literal["rsa-sha256", "rsa-sha1"]
_DIGESTS: Final = {
    "sha256": xmlsec.constants.TransformSha256,
    "sha1": xmlsec.constants.TransformSha1,
}
_SIGNATURES: Final = {
    "rsa-sha256": xmlsec.constants.TransformRsaSha256,
    "rsa-sha1": xmlsec.constants.TransformRsaSha1,
}
# The HTTP-Redirect binding names the signature algorithm by URI (SigAlg) and signs the query.
SIG_ALGS: Final = {
    "rsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "rsa-sha1": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
}
_QUERY_HASHES: Final = {"rsa-sha256": hashes.SHA256, "rsa-sha1": hashes.SHA1}

# Attack helpers parse what the IdP sent without resolving anything and keep comments, so a
# comment placed in a NameID survives the round trip.
_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class _Default(Enum):
    """Marks "the IdP's usual value" where None means "leave it out"."""

    TOKEN = "default"


DEFAULT: Final = _Default.TOKEN
T = TypeVar("T")


def _or_default(value: T | _Default | None, default: T) -> T | None:
    return default if value is DEFAULT else value


# ---------------------------------------------------------------------------------------------
# Keys


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str
    certificate_pem: str
    certificate_der_b64: str  # the base64 body without PEM armour, as metadata carries it

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode())

    @property
    def not_valid_after(self) -> datetime:
        return self.certificate.not_valid_after_utc


_KEY_PAIRS: dict[tuple[str, int, int, int], KeyPair] = {}


def make_key_pair(
    common_name: str = "Test IdP",
    *,
    days_valid: int = 365,
    not_before_days_ago: int = 1,
    key_size: int = 2048,
) -> KeyPair:
    """An RSA key and a self-signed certificate valid from `not_before_days_ago` days ago for
    `days_valid` days (so `days_valid=1, not_before_days_ago=30` is expired).

    Cached per arguments for the whole run: RSA key generation is the slow part of these tests.
    """
    cache_key = (common_name, days_valid, not_before_days_ago, key_size)
    if cache_key not in _KEY_PAIRS:
        _KEY_PAIRS[cache_key] = _new_key_pair(
            common_name,
            days_valid=days_valid,
            not_before_days_ago=not_before_days_ago,
            key_size=key_size,
        )
    return _KEY_PAIRS[cache_key]


def _new_key_pair(
    common_name: str, *, days_valid: int, not_before_days_ago: int, key_size: int
) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    not_before = datetime.now(UTC).replace(microsecond=0) - timedelta(days=not_before_days_ago)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)  # self-signed, as IdP signing certificates are
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days_valid))
        .sign(key, hashes.SHA256())
    )
    private_key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = certificate.public_bytes(serialization.Encoding.DER)
    return KeyPair(
        private_key_pem=private_key_pem,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_der_b64=base64.b64encode(der).decode(),
    )


# ---------------------------------------------------------------------------------------------
# What each vendor does differently, in one place


class Shape(Enum):
    OKTA = "okta"
    ENTRA = "entra"
    GOOGLE = "google"
    GENERIC = "generic"


def _okta_id() -> str:
    # Okta: "id" and 25 or so digits, e.g. id2704628636163001433046316.
    return "id" + "".join(secrets.choice("0123456789") for _ in range(25))


def _entra_id() -> str:
    # Entra: an underscore and a GUID.
    return f"_{uuid.uuid4()}"


def _hex_id() -> str:
    # Google and most other IdPs: an underscore and hex (IDs must not start with a digit).
    return "_" + secrets.token_hex(21)


@dataclass(frozen=True)
class _Dialect:
    protocol_prefix: str  # prefix of samlp:Response
    assertion_prefix: str | None  # None: the default namespace, as Entra writes it
    signature_prefix: str | None
    new_id: Callable[[], str]
    millisecond_timestamps: bool
    xml_declaration: bool
    signs_response: bool  # whether the Response is signed too (the assertion always is)
    name_id_format: str
    issuer_format: str | None
    attribute_name_format: str | None
    attribute_value_type: str | None  # xsi:type on each AttributeValue
    attributes_before_authn_statement: bool
    authn_context: str
    inclusive_namespaces: tuple[str, ...]  # InclusiveNamespaces PrefixList of the c14n transform


_DIALECTS: Final = {
    # Okta (OpenSAML output): saml2p/saml2 prefixes, Issuer with the entity Format, xs declared
    # for xsi:type and listed in the c14n PrefixList. The AIW defaults are "Response: Signed"
    # and "Assertion Signature: Signed", so both are signed; NameID format Unspecified.
    Shape.OKTA: _Dialect(
        protocol_prefix="saml2p",
        assertion_prefix="saml2",
        signature_prefix="ds",
        new_id=_okta_id,
        millisecond_timestamps=True,
        xml_declaration=True,
        signs_response=True,
        name_id_format=UNSPECIFIED,
        issuer_format=ENTITY_FORMAT,
        attribute_name_format=BASIC_NAME_FORMAT,
        attribute_value_type="xs:string",
        attributes_before_authn_statement=False,
        authn_context=PASSWORD_PROTECTED,
        inclusive_namespaces=("xs",),
    ),
    # Entra ID: samlp on the Response, the assertion and signature in default namespaces, no
    # NameFormat on claims, AttributeStatement before AuthnStatement. Its default signing option
    # is "Sign SAML assertion"; default NameID is the UPN in emailAddress format.
    Shape.ENTRA: _Dialect(
        protocol_prefix="samlp",
        assertion_prefix=None,
        signature_prefix=None,
        new_id=_entra_id,
        millisecond_timestamps=True,
        xml_declaration=False,
        signs_response=False,
        name_id_format=EMAIL_ADDRESS,
        issuer_format=None,
        attribute_name_format=None,
        attribute_value_type=None,
        attributes_before_authn_statement=True,
        authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
        inclusive_namespaces=(),
    ),
    # Google Workspace: OpenSAML-style saml2p/saml2, xsi:type xs:anyType values, no NameFormat.
    # "Signed response" is off by default, so only the assertion is signed. (Unverified: the
    # statement order and the ID length.)
    Shape.GOOGLE: _Dialect(
        protocol_prefix="saml2p",
        assertion_prefix="saml2",
        signature_prefix="ds",
        new_id=_hex_id,
        millisecond_timestamps=True,
        xml_declaration=False,
        signs_response=False,
        name_id_format=UNSPECIFIED,
        issuer_format=None,
        attribute_name_format=None,
        attribute_value_type="xs:anyType",
        attributes_before_authn_statement=True,
        authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
        inclusive_namespaces=(),
    ),
    # Anything else: the spec's own samlp/saml prefixes, whole-second timestamps (as
    # SimpleSAMLphp writes them), LDAP OID attribute names in URI format, assertion signed.
    Shape.GENERIC: _Dialect(
        protocol_prefix="samlp",
        assertion_prefix="saml",
        signature_prefix="ds",
        new_id=_hex_id,
        millisecond_timestamps=False,
        xml_declaration=True,
        signs_response=False,
        name_id_format=UNSPECIFIED,
        issuer_format=None,
        attribute_name_format=URI_NAME_FORMAT,
        attribute_value_type="xs:string",
        attributes_before_authn_statement=False,
        authn_context=PASSWORD_PROTECTED,
        inclusive_namespaces=(),
    ),
}

# FriendlyName of the LDAP attributes a generic IdP releases.
_FRIENDLY_NAMES: Final = {
    "urn:oid:2.5.4.42": "givenName",
    "urn:oid:2.5.4.4": "sn",
    "urn:oid:0.9.2342.19200300.100.1.3": "mail",
    "urn:oid:2.16.840.1.113730.3.1.241": "displayName",
}


def saml_time(moment: datetime, *, milliseconds: bool = False) -> str:
    """SAML's UTC xs:dateTime: 2025-01-31T09:30:00Z, or ...09:30:00.123Z (Okta, Entra, Google).

    A naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if milliseconds:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


# ---------------------------------------------------------------------------------------------
# Signing


def _sign(
    element: Element,
    key: KeyPair,
    *,
    digest: DigestName = "sha256",
    signature: SignatureName = "rsa-sha256",
    prefix: str | None = "ds",
    inclusive_namespaces: Sequence[str] = (),
) -> None:
    """Enveloped XML signature over `element`, referenced by its ID, with exclusive c14n and the
    certificate in KeyInfo. The Signature goes right after the element's Issuer, where the SAML
    schema wants it, or first when there is no Issuer (metadata)."""
    template = xmlsec.template.create(
        element, xmlsec.constants.TransformExclC14N, _SIGNATURES[signature], ns=prefix
    )
    issuer = element.find(f"{{{SAML}}}Issuer")
    if issuer is not None and issuer.getparent() is element:
        issuer.addnext(template)
    else:
        element.insert(0, template)
    reference = xmlsec.template.add_reference(
        template, _DIGESTS[digest], uri="#" + element.get("ID")
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    c14n = xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    if inclusive_namespaces:
        # Written as Okta writes it (xmlsec's own helper uses a default namespace).
        etree.SubElement(
            c14n,
            f"{{{EC}}}InclusiveNamespaces",
            nsmap={"ec": EC},
            PrefixList=" ".join(inclusive_namespaces),
        )
    x509_data = xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(template))
    xmlsec.template.x509_data_add_certificate(x509_data)
    _drop_whitespace(template)

    signing_key = xmlsec.Key.from_memory(key.private_key_pem, xmlsec.constants.KeyDataFormatPem)
    signing_key.load_cert_from_memory(key.certificate_pem, xmlsec.constants.KeyDataFormatCertPem)
    context = xmlsec.SignatureContext()
    context.key = signing_key
    context.register_id(element, "ID")
    context.sign(template)
    _join_base64_lines(template)


def _drop_whitespace(template: Element) -> None:
    """xmlsec's template puts each element on its own line; IdPs send the Signature on one."""
    for node in template.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        if node is not template and node.tail is not None and not node.tail.strip():
            node.tail = None


def _join_base64_lines(signature: Element) -> None:
    # Outside SignedInfo (or digests of it), so this does not touch what is signed.
    for local_name in ("DigestValue", "SignatureValue", "X509Certificate"):
        for node in signature.iter(f"{{{DS}}}{local_name}"):
            node.text = "".join(node.text.split())


def signature_is_intact(xml: bytes, key: KeyPair) -> bool:
    """Whether every ds:Signature in the document verifies with `key` (xmlsec alone, none of
    python3-saml's structural checks): shows that an attack kept the original signature valid,
    so a refusal comes from the structural defence and not from a broken signature."""
    root = etree.fromstring(xml, _PARSER)
    xmlsec.tree.add_ids(root, ["ID"])
    signatures = root.findall(f".//{{{DS}}}Signature")
    for node in signatures:
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_memory(
            key.certificate_pem, xmlsec.constants.KeyDataFormatCertPem
        )
        try:
            context.verify(node)
        except xmlsec.Error:
            return False
    return bool(signatures)


# ---------------------------------------------------------------------------------------------
# The identity provider


@dataclass
class TestIdP:
    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    shape: Shape
    entity_id: str
    sso_url: str
    slo_url: str | None
    keys: list[KeyPair]  # the signing keys metadata lists (two during a rollover)
    signing_key: KeyPair  # the one that signs
    # Entra's tenant, Google's idpid, Okta's app id: used in URLs and claims.
    tenant: str = ""

    @property
    def _dialect(self) -> _Dialect:
        return _DIALECTS[self.shape]

    # -- responses -----------------------------------------------------------------------------

    def response(
        self,
        *,
        acs_url: str,
        audience: str,
        name_id: str,
        attributes: dict[str, list[str]] | None = None,
        in_response_to: str | None = None,
        destination: str | _Default | None = DEFAULT,
        recipient: str | _Default | None = DEFAULT,
        issuer: str | _Default | None = DEFAULT,
        not_before: datetime | _Default | None = DEFAULT,
        not_on_or_after: datetime | _Default | None = DEFAULT,
        subject_not_on_or_after: datetime | _Default | None = DEFAULT,
        issue_instant: datetime | _Default | None = DEFAULT,
        assertion_id: str | None = None,
        sign_assertion: bool = True,
        sign_response: bool | None = None,
        digest: DigestName = "sha256",
        signature: SignatureName = "rsa-sha256",
        signing_key: KeyPair | None = None,
        name_id_format: str | None = None,
        include_audience: bool = True,
        include_conditions_expiry: bool = True,
        status: str = SUCCESS,
    ) -> bytes:
        """The raw XML of a samlp:Response, signed as this IdP signs by default.

        Defaults: Destination and Recipient = acs_url, Issuer = entity_id, valid from a minute
        ago for five minutes, issued now, a fresh assertion ID in the vendor's style, the
        vendor's NameID format and signing choice, SHA-256. Passing None leaves that element or
        attribute out (except assertion_id, name_id_format, sign_response and signing_key, where
        None means the default). No `attributes`: no AttributeStatement, as an app with no
        attribute statements configured sends. A `status` other than Success gets no assertion,
        as IdPs answer a refused sign-in; second-level codes are nested under Responder.
        """
        dialect = self._dialect
        now = datetime.now(UTC)
        issued = _or_default(issue_instant, now)
        issuer_value = _or_default(issuer, self.entity_id)
        if sign_response is None:
            sign_response = dialect.signs_response

        root = etree.Element(f"{{{SAMLP}}}Response", nsmap=self._response_nsmap())
        root.set("ID", dialect.new_id())
        if in_response_to is not None:
            root.set("InResponseTo", in_response_to)
        if issued is not None:
            root.set("IssueInstant", self._time(issued))
        root.set("Version", "2.0")
        _set_optional(root, "Destination", _or_default(destination, acs_url))
        if issuer_value is not None:
            self._issuer(root, issuer_value, declare=True)
        self._status(root, status)

        if status == SUCCESS:
            assertion = self._assertion(
                root,
                assertion_id=assertion_id or dialect.new_id(),
                issued=issued,
                issuer=issuer_value,
                name_id=name_id,
                name_id_format=name_id_format or dialect.name_id_format,
                in_response_to=in_response_to,
                recipient=_or_default(recipient, acs_url),
                subject_not_on_or_after=_or_default(
                    subject_not_on_or_after, now + timedelta(minutes=5)
                ),
                not_before=_or_default(not_before, now - timedelta(seconds=60)),
                not_on_or_after=(
                    _or_default(not_on_or_after, now + timedelta(minutes=5))
                    if include_conditions_expiry
                    else None
                ),
                audience=audience if include_audience else None,
                attributes=attributes or {},
                authn_instant=now,
            )
            if sign_assertion:
                self._sign(assertion, signing_key, digest=digest, signature=signature)
        if sign_response:
            # After the assertion: the Response signature covers the signed assertion.
            self._sign(root, signing_key, digest=digest, signature=signature)
        return self._serialise(root)

    def post_form(self, response_xml: bytes, relay_state: str | None = None) -> dict[str, str]:
        """The form fields the browser POSTs to the ACS (HTTP-POST binding)."""
        form = {"SAMLResponse": base64.b64encode(response_xml).decode("ascii")}
        if relay_state is not None:
            form["RelayState"] = relay_state
        return form

    # -- single logout (HTTP-Redirect binding) -------------------------------------------------

    def logout_request(
        self,
        *,
        destination: str | None,
        name_id: str,
        issuer: str | _Default | None = DEFAULT,
        issue_instant: datetime | _Default | None = DEFAULT,
        not_on_or_after: datetime | None = None,
        request_id: str | None = None,
        session_index: str | None = None,
    ) -> bytes:
        """The XML of a samlp:LogoutRequest from this IdP (IdP-initiated single logout), unsigned:
        the HTTP-Redirect binding signs the query string, not the XML (see ``redirect_query``).
        None leaves Destination, Issuer or IssueInstant out."""
        dialect = self._dialect
        root = etree.Element(f"{{{SAMLP}}}LogoutRequest", nsmap=self._response_nsmap())
        root.set("ID", request_id or dialect.new_id())
        root.set("Version", "2.0")
        issued = _or_default(issue_instant, datetime.now(UTC))
        if issued is not None:
            root.set("IssueInstant", self._time(issued))
        _set_optional(root, "Destination", destination)
        if not_on_or_after is not None:
            root.set("NotOnOrAfter", self._time(not_on_or_after))
        issuer_value = _or_default(issuer, self.entity_id)
        if issuer_value is not None:
            self._issuer(root, issuer_value, declare=True)
        # Declared on the element itself, as on the Issuer before it.
        etree.SubElement(
            root, f"{{{SAML}}}NameID", nsmap={dialect.assertion_prefix: SAML}
        ).text = name_id
        if session_index is not None:
            etree.SubElement(root, f"{{{SAMLP}}}SessionIndex").text = session_index
        return self._serialise(root)

    def logout_response(
        self,
        *,
        destination: str | None,
        in_response_to: str | None,
        status: str = SUCCESS,
        issuer: str | _Default | None = DEFAULT,
        issue_instant: datetime | _Default | None = DEFAULT,
    ) -> bytes:
        """The XML of a samlp:LogoutResponse from this IdP, answering our LogoutRequest."""
        root = etree.Element(f"{{{SAMLP}}}LogoutResponse", nsmap=self._response_nsmap())
        root.set("ID", self._dialect.new_id())
        root.set("Version", "2.0")
        issued = _or_default(issue_instant, datetime.now(UTC))
        if issued is not None:
            root.set("IssueInstant", self._time(issued))
        _set_optional(root, "Destination", destination)
        _set_optional(root, "InResponseTo", in_response_to)
        issuer_value = _or_default(issuer, self.entity_id)
        if issuer_value is not None:
            self._issuer(root, issuer_value, declare=True)
        self._status(root, status)
        return self._serialise(root)

    def redirect_query(
        self,
        xml: bytes,
        *,
        message: Literal["SAMLRequest", "SAMLResponse"],
        relay_state: str | None = None,
        sign: bool = True,
        signing_key: KeyPair | None = None,
        signature: SignatureName = "rsa-sha256",
    ) -> str:
        """The query string of the HTTP-Redirect binding (SAML Bindings 3.4.4): the message
        DEFLATEd and base64-encoded, and, signed, SigAlg and a Signature over
        ``SAMLRequest=…&RelayState=…&SigAlg=…`` exactly as sent."""
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw DEFLATE
        deflated = compressor.compress(xml) + compressor.flush()
        parts = [f"{message}={quote(base64.b64encode(deflated).decode(), safe='')}"]
        if relay_state is not None:
            parts.append(f"RelayState={quote(relay_state, safe='')}")
        if not sign:
            return "&".join(parts)
        parts.append(f"SigAlg={quote(SIG_ALGS[signature], safe='')}")
        signed = "&".join(parts).encode()
        key = serialization.load_pem_private_key(
            (signing_key or self.signing_key).private_key_pem.encode(), password=None
        )
        assert isinstance(key, rsa.RSAPrivateKey)
        value = key.sign(signed, padding.PKCS1v15(), _QUERY_HASHES[signature]())
        return "&".join([*parts, f"Signature={quote(base64.b64encode(value).decode(), safe='')}"])

    def default_attributes(self, first: str, last: str, email: str) -> dict[str, list[str]]:
        """The attributes this vendor sends when set up the usual way."""
        if self.shape is Shape.ENTRA:
            # Entra's default claims, including ones we ignore (noise our mapping must skip).
            object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"entra:{email}"))
            return {
                f"{MS_CLAIMS}/tenantid": [self.tenant],
                f"{MS_CLAIMS}/objectidentifier": [object_id],
                f"{MS_CLAIMS}/displayname": [f"{first} {last}"],
                f"{MS_CLAIMS}/identityprovider": [self.entity_id],
                "http://schemas.microsoft.com/claims/authnmethodsreferences": [
                    "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"
                ],
                f"{CLAIMS}/givenname": [first],
                f"{CLAIMS}/surname": [last],
                f"{CLAIMS}/emailaddress": [email],
                f"{CLAIMS}/name": [email],
            }
        if self.shape is Shape.GENERIC:
            # LDAP attributes by OID, as Shibboleth and SimpleSAMLphp release them.
            return {
                "urn:oid:2.5.4.42": [first],
                "urn:oid:2.5.4.4": [last],
                "urn:oid:0.9.2342.19200300.100.1.3": [email],
                "urn:oid:2.16.840.1.113730.3.1.241": [f"{first} {last}"],
            }
        # Okta's attribute statements and Google's attribute mapping, named as our SAML tab asks.
        return {"FirstName": [first], "LastName": [last], "Email": [email]}

    # -- metadata ------------------------------------------------------------------------------

    def metadata_xml(self) -> bytes:
        """An EntityDescriptor the way this vendor publishes it."""
        return _METADATA_WRITERS[self.shape](self)

    # -- building blocks -----------------------------------------------------------------------

    def _time(self, moment: datetime) -> str:
        return saml_time(moment, milliseconds=self._dialect.millisecond_timestamps)

    def _response_nsmap(self) -> dict[str | None, str]:
        nsmap: dict[str | None, str] = {self._dialect.protocol_prefix: SAMLP}
        if "xs" in self._dialect.inclusive_namespaces:
            nsmap["xs"] = XS
        return nsmap

    def _issuer(self, parent: Element, value: str, *, declare: bool) -> None:
        nsmap = {self._dialect.assertion_prefix: SAML} if declare else None
        issuer = etree.SubElement(parent, f"{{{SAML}}}Issuer", nsmap=nsmap)
        if self._dialect.issuer_format:
            issuer.set("Format", self._dialect.issuer_format)
        issuer.text = value

    def _status(self, root: Element, status: str) -> None:
        element = etree.SubElement(root, f"{{{SAMLP}}}Status")
        code = etree.SubElement(element, f"{{{SAMLP}}}StatusCode")
        if status in TOP_LEVEL_STATUSES:
            code.set("Value", status)
        else:
            # Second-level codes (AuthnFailed, RequestDenied...) sit inside a top-level one.
            code.set("Value", RESPONDER)
            etree.SubElement(code, f"{{{SAMLP}}}StatusCode").set("Value", status)

    def _assertion(
        self,
        root: Element,
        *,
        assertion_id: str,
        issued: datetime | None,
        issuer: str | None,
        name_id: str,
        name_id_format: str,
        in_response_to: str | None,
        recipient: str | None,
        subject_not_on_or_after: datetime | None,
        not_before: datetime | None,
        not_on_or_after: datetime | None,
        audience: str | None,
        attributes: dict[str, list[str]],
        authn_instant: datetime,
    ) -> Element:
        nsmap: dict[str | None, str] = {self._dialect.assertion_prefix: SAML}
        if "xs" in self._dialect.inclusive_namespaces:
            nsmap["xs"] = XS
        assertion = etree.SubElement(root, f"{{{SAML}}}Assertion", nsmap=nsmap)
        assertion.set("ID", assertion_id)
        if issued is not None:
            assertion.set("IssueInstant", self._time(issued))
        assertion.set("Version", "2.0")
        if issuer is not None:
            self._issuer(assertion, issuer, declare=False)

        subject = _saml(assertion, "Subject")
        _saml(subject, "NameID", name_id, Format=name_id_format)
        confirmation = _saml(subject, "SubjectConfirmation", Method=BEARER)
        data = _saml(confirmation, "SubjectConfirmationData")
        _set_optional(data, "InResponseTo", in_response_to)
        _set_optional(data, "NotOnOrAfter", self._optional_time(subject_not_on_or_after))
        _set_optional(data, "Recipient", recipient)

        conditions = _saml(assertion, "Conditions")
        _set_optional(conditions, "NotBefore", self._optional_time(not_before))
        _set_optional(conditions, "NotOnOrAfter", self._optional_time(not_on_or_after))
        if audience is not None:
            _saml(_saml(conditions, "AudienceRestriction"), "Audience", audience)

        # SessionIndex: Entra repeats the assertion ID; unverified for the others, and unused.
        if self._dialect.attributes_before_authn_statement:
            self._attribute_statement(assertion, attributes)
            self._authn_statement(assertion, authn_instant, session_index=assertion_id)
        else:
            self._authn_statement(assertion, authn_instant, session_index=assertion_id)
            self._attribute_statement(assertion, attributes)
        return assertion

    def _optional_time(self, moment: datetime | None) -> str | None:
        return None if moment is None else self._time(moment)

    def _authn_statement(
        self, assertion: Element, instant: datetime, *, session_index: str
    ) -> None:
        statement = _saml(
            assertion,
            "AuthnStatement",
            AuthnInstant=self._time(instant),
            SessionIndex=session_index,
        )
        _saml(_saml(statement, "AuthnContext"), "AuthnContextClassRef", self._dialect.authn_context)

    def _attribute_statement(self, assertion: Element, attributes: dict[str, list[str]]) -> None:
        if not attributes:
            return
        statement = _saml(assertion, "AttributeStatement")
        for name, values in attributes.items():
            attribute = _saml(statement, "Attribute", Name=name)
            if name in _FRIENDLY_NAMES:
                attribute.set("FriendlyName", _FRIENDLY_NAMES[name])
            if self._dialect.attribute_name_format:
                attribute.set("NameFormat", self._dialect.attribute_name_format)
            for value in values:
                self._attribute_value(attribute, value)

    def _attribute_value(self, attribute: Element, value: str) -> None:
        value_type = self._dialect.attribute_value_type
        if value_type is None:
            _saml(attribute, "AttributeValue", value)
            return
        # Okta and Google declare xs and xsi on each value, for its xsi:type.
        element = etree.SubElement(
            attribute, f"{{{SAML}}}AttributeValue", nsmap={"xs": XS, "xsi": XSI}
        )
        element.set(f"{{{XSI}}}type", value_type)
        element.text = value

    def _sign(
        self,
        element: Element,
        key: KeyPair | None,
        *,
        digest: DigestName,
        signature: SignatureName,
    ) -> None:
        _sign(
            element,
            key or self.signing_key,
            digest=digest,
            signature=signature,
            prefix=self._dialect.signature_prefix,
            inclusive_namespaces=self._dialect.inclusive_namespaces,
        )

    def _serialise(self, root: Element) -> bytes:
        # Compact, as IdPs send it: whitespace inside signed elements is part of the digest.
        body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
        if self._dialect.xml_declaration:
            return b'<?xml version="1.0" encoding="UTF-8"?>' + body
        return body


def _saml(parent: Element, local_name: str, text: str | None = None, **attributes: str) -> Element:
    """A child in the assertion namespace, with the prefix already in scope."""
    element = etree.SubElement(parent, f"{{{SAML}}}{local_name}")
    for name, value in attributes.items():
        element.set(name, value)
    if text is not None:
        element.text = text
    return element


def _set_optional(element: Element, name: str, value: str | None) -> None:
    if value is not None:
        element.set(name, value)


# ---------------------------------------------------------------------------------------------
# Metadata, per vendor


def _key_descriptor(
    parent: Element, key: KeyPair, *, use: str | None, ds_prefix: str | None, wrap: bool = False
) -> None:
    descriptor = etree.SubElement(parent, f"{{{MD}}}KeyDescriptor")
    if use is not None:
        descriptor.set("use", use)
    key_info = etree.SubElement(descriptor, f"{{{DS}}}KeyInfo", nsmap={ds_prefix: DS})
    data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
    certificate = etree.SubElement(data, f"{{{DS}}}X509Certificate")
    body = key.certificate_der_b64
    # Shibboleth-style metadata wraps the base64 over lines; readers must ignore whitespace.
    certificate.text = "\n" + "\n".join(textwrap.wrap(body, 64)) + "\n" if wrap else body


def _endpoint(parent: Element, kind: str, binding: str, location: str) -> None:
    etree.SubElement(parent, f"{{{MD}}}{kind}", Binding=binding, Location=location)


def _name_id_formats(parent: Element, formats: Sequence[str]) -> None:
    for name_id_format in formats:
        etree.SubElement(parent, f"{{{MD}}}NameIDFormat").text = name_id_format


def _idp_descriptor(parent: Element, *, want_authn_requests_signed: bool | None) -> Element:
    descriptor = etree.SubElement(parent, f"{{{MD}}}IDPSSODescriptor")
    if want_authn_requests_signed is not None:
        descriptor.set("WantAuthnRequestsSigned", str(want_authn_requests_signed).lower())
    descriptor.set("protocolSupportEnumeration", SAMLP)
    return descriptor


def _okta_metadata(idp: TestIdP) -> bytes:
    # One line, md/ds prefixes, POST before Redirect, NameID formats unspecified and email.
    # SingleLogoutService only when the admin enabled Single Logout (its two bindings are
    # unverified). Element order follows the schema.
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD}, entityID=idp.entity_id)
    descriptor = _idp_descriptor(root, want_authn_requests_signed=False)
    for key in idp.keys:
        _key_descriptor(descriptor, key, use="signing", ds_prefix="ds")
    if idp.slo_url:
        _endpoint(descriptor, "SingleLogoutService", HTTP_POST, idp.slo_url)
        _endpoint(descriptor, "SingleLogoutService", HTTP_REDIRECT, idp.slo_url)
    _name_id_formats(descriptor, [UNSPECIFIED, EMAIL_ADDRESS])
    _endpoint(descriptor, "SingleSignOnService", HTTP_POST, idp.sso_url)
    _endpoint(descriptor, "SingleSignOnService", HTTP_REDIRECT, idp.sso_url)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


def _entra_metadata(idp: TestIdP) -> bytes:
    # Entra's federation metadata: signed as a whole, default namespaces, two WS-Federation
    # RoleDescriptors (with the same certificates) before the SAML IDPSSODescriptor, which has
    # no NameIDFormat. A reader that collects every X509Certificate in the document, rather
    # than the IDPSSODescriptor's KeyDescriptors, finds each certificate three times over.
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={None: MD})
    root.set("ID", _entra_id())
    root.set("entityID", idp.entity_id)
    _entra_role_descriptor(root, idp, "fed:SecurityTokenServiceType")
    _entra_role_descriptor(root, idp, "fed:ApplicationServiceType")
    descriptor = _idp_descriptor(root, want_authn_requests_signed=None)
    for key in idp.keys:
        _key_descriptor(descriptor, key, use="signing", ds_prefix=None)
    if idp.slo_url:
        _endpoint(descriptor, "SingleLogoutService", HTTP_REDIRECT, idp.slo_url)
    _endpoint(descriptor, "SingleSignOnService", HTTP_REDIRECT, idp.sso_url)
    _endpoint(descriptor, "SingleSignOnService", HTTP_POST, idp.sso_url)
    _sign(root, idp.signing_key, prefix=None)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>' + body


def _entra_role_descriptor(root: Element, idp: TestIdP, xsi_type: str) -> None:
    role = etree.SubElement(root, f"{{{MD}}}RoleDescriptor", nsmap={"xsi": XSI, "fed": FED})
    role.set(f"{{{XSI}}}type", xsi_type)
    role.set("protocolSupportEnumeration", FED)
    for key in idp.keys:
        _key_descriptor(role, key, use="signing", ds_prefix=None)
    wsfed = f"https://login.microsoftonline.com/{idp.tenant}/wsfed"
    if xsi_type == "fed:SecurityTokenServiceType":
        offered = etree.SubElement(role, f"{{{FED}}}ClaimTypesOffered")
        for claim, display_name in (
            (f"{CLAIMS}/name", "Name"),
            (f"{CLAIMS}/givenname", "Given Name"),
            (f"{CLAIMS}/surname", "Surname"),
            (f"{MS_CLAIMS}/objectidentifier", "Object Identifier"),
        ):
            claim_type = etree.SubElement(
                offered, f"{{{AUTH}}}ClaimType", nsmap={"auth": AUTH}, Uri=claim, Optional="true"
            )
            etree.SubElement(claim_type, f"{{{AUTH}}}DisplayName").text = display_name
        endpoint = etree.SubElement(role, f"{{{FED}}}SecurityTokenServiceEndpoint")
    else:
        endpoint = etree.SubElement(role, f"{{{FED}}}ApplicationServiceEndpoint")
    reference = etree.SubElement(endpoint, f"{{{WSA}}}EndpointReference", nsmap={None: WSA})
    etree.SubElement(reference, f"{{{WSA}}}Address").text = wsfed
    passive = etree.SubElement(role, f"{{{FED}}}PassiveRequestorEndpoint")
    reference = etree.SubElement(passive, f"{{{WSA}}}EndpointReference", nsmap={None: WSA})
    etree.SubElement(reference, f"{{{WSA}}}Address").text = wsfed


def _google_metadata(idp: TestIdP) -> bytes:
    # Google: indented, valid until the certificate expires, email NameID format, no SLO.
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD}, entityID=idp.entity_id)
    root.set("validUntil", saml_time(idp.signing_key.not_valid_after, milliseconds=True))
    descriptor = _idp_descriptor(root, want_authn_requests_signed=False)
    for key in idp.keys:
        _key_descriptor(descriptor, key, use="signing", ds_prefix="ds")
    if idp.slo_url:
        _endpoint(descriptor, "SingleLogoutService", HTTP_REDIRECT, idp.slo_url)
    _name_id_formats(descriptor, [EMAIL_ADDRESS])
    _endpoint(descriptor, "SingleSignOnService", HTTP_REDIRECT, idp.sso_url)
    _endpoint(descriptor, "SingleSignOnService", HTTP_POST, idp.sso_url)
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + body + b"\n"


def _generic_metadata(idp: TestIdP) -> bytes:
    # Plain SAML 2.0, indented, certificates wrapped over lines. The first KeyDescriptor has no
    # `use`, which the metadata spec reads as "signing and encryption" (SAML Metadata 2.4.1.1).
    root = etree.Element(
        f"{{{MD}}}EntityDescriptor", nsmap={"md": MD, "ds": DS}, entityID=idp.entity_id
    )
    descriptor = _idp_descriptor(root, want_authn_requests_signed=None)
    for index, key in enumerate(idp.keys):
        _key_descriptor(
            descriptor, key, use=None if index == 0 else "signing", ds_prefix="ds", wrap=True
        )
    if idp.slo_url:
        _endpoint(descriptor, "SingleLogoutService", HTTP_REDIRECT, idp.slo_url)
        _endpoint(descriptor, "SingleLogoutService", HTTP_POST, idp.slo_url)
    _name_id_formats(descriptor, [UNSPECIFIED, EMAIL_ADDRESS, PERSISTENT])
    _endpoint(descriptor, "SingleSignOnService", HTTP_REDIRECT, idp.sso_url)
    _endpoint(descriptor, "SingleSignOnService", HTTP_POST, idp.sso_url)
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


_METADATA_WRITERS: Final[dict[Shape, Callable[[TestIdP], bytes]]] = {
    Shape.OKTA: _okta_metadata,
    Shape.ENTRA: _entra_metadata,
    Shape.GOOGLE: _google_metadata,
    Shape.GENERIC: _generic_metadata,
}


# ---------------------------------------------------------------------------------------------
# Factories. Keyword arguments override any TestIdP field; keys=[old, new] lists both in
# metadata and signs with the first unless signing_key is given.


def okta_idp(**overrides: Any) -> TestIdP:
    app_id = "exk1abcd2EFGH3ijk4l5"
    return _idp(
        Shape.OKTA,
        entity_id=f"http://www.okta.com/{app_id}",
        sso_url=f"https://acme.okta.com/app/acme_auzlearn_1/{app_id}/sso/saml",
        slo_url=None,  # Single Logout is off unless the admin enables it
        key=make_key_pair("acme (Okta)"),
        tenant=app_id,
        overrides=overrides,
    )


def entra_idp(**overrides: Any) -> TestIdP:
    tenant = "3f1c6d2e-8a4b-4c7d-9e0f-1a2b3c4d5e6f"
    return _idp(
        Shape.ENTRA,
        entity_id=f"https://sts.windows.net/{tenant}/",
        sso_url=f"https://login.microsoftonline.com/{tenant}/saml2",
        slo_url=f"https://login.microsoftonline.com/{tenant}/saml2",
        key=make_key_pair("Microsoft Azure Federated SSO Certificate"),
        tenant=tenant,
        overrides=overrides,
    )


def google_idp(**overrides: Any) -> TestIdP:
    idpid = "C01abc2de"
    return _idp(
        Shape.GOOGLE,
        entity_id=f"https://accounts.google.com/o/saml2?idpid={idpid}",
        sso_url=f"https://accounts.google.com/o/saml2/idp?idpid={idpid}",
        slo_url=None,  # Google Workspace has no SAML Single Logout
        key=make_key_pair("Google"),
        tenant=idpid,
        overrides=overrides,
    )


def generic_idp(**overrides: Any) -> TestIdP:
    return _idp(
        Shape.GENERIC,
        entity_id="https://idp.example.org/saml2/idp/metadata.php",
        sso_url="https://idp.example.org/saml2/idp/SSOService.php",
        slo_url="https://idp.example.org/saml2/idp/SingleLogoutService.php",
        key=make_key_pair("idp.example.org"),
        overrides=overrides,
    )


IDP_FACTORIES: Final[dict[Shape, Callable[..., TestIdP]]] = {
    Shape.OKTA: okta_idp,
    Shape.ENTRA: entra_idp,
    Shape.GOOGLE: google_idp,
    Shape.GENERIC: generic_idp,
}


def _idp(
    shape: Shape,
    *,
    entity_id: str,
    sso_url: str,
    slo_url: str | None,
    key: KeyPair,
    overrides: dict[str, Any],
    tenant: str = "",
) -> TestIdP:
    fields: dict[str, Any] = {
        "shape": shape,
        "entity_id": entity_id,
        "sso_url": sso_url,
        "slo_url": slo_url,
        "keys": [key],
        "signing_key": key,
        "tenant": tenant,
    }
    fields.update(overrides)
    if "keys" in overrides and "signing_key" not in overrides:
        fields["signing_key"] = overrides["keys"][0]
    if "signing_key" in overrides and "keys" not in overrides:
        fields["keys"] = [overrides["signing_key"]]
    return TestIdP(**fields)


def unsigned(idp: TestIdP, **response_kwargs: Any) -> bytes:
    """A response with no signature at all."""
    return idp.response(sign_assertion=False, sign_response=False, **response_kwargs)


# ---------------------------------------------------------------------------------------------
# Attacks: each takes a signed response and returns a mutated copy, as an attacker without the
# IdP's key would make it. The XSW helpers (but the signature-object one) leave the original
# signature verifying (see signature_is_intact); they matter against responses whose Response
# element is unsigned (Entra, Google, generic by default, so pass sign_response=False for Okta):
# changing a signed Response breaks its signature anyway.


def strip_signatures(xml: bytes) -> bytes:
    """Every ds:Signature removed."""
    root = _parse(xml)
    for signature in root.findall(f".//{{{DS}}}Signature"):
        _remove(signature)
    return _serialise_like(root, xml)


def wrap_forged_assertion_beside(xml: bytes, *, forged_name_id: str) -> bytes:
    """XSW: an unsigned forged assertion inserted before the signed one."""
    root = _parse(xml)
    signed = _signed_assertion(root)
    signed.addprevious(_forged_copy(signed, forged_name_id))
    return _serialise_like(root, xml)


def wrap_forged_assertion_inside(xml: bytes, *, forged_name_id: str) -> bytes:
    """XSW: the forged assertion takes the signed one's place and carries it in its saml:Advice
    (where the schema allows assertions, so schema validation alone does not object)."""
    root = _parse(xml)
    signed = _signed_assertion(root)
    forged = _forged_copy(signed, forged_name_id)
    signed.addprevious(forged)
    advice = etree.Element(f"{{{SAML}}}Advice")
    forged.find(f"{{{SAML}}}Conditions").addnext(advice)
    advice.append(signed)
    return _serialise_like(root, xml)


def move_signed_assertion_into_extensions(xml: bytes, *, forged_name_id: str) -> bytes:
    """XSW: the signed assertion moved into samlp:Extensions, a forged one in its place."""
    root = _parse(xml)
    signed = _signed_assertion(root)
    signed.addprevious(_forged_copy(signed, forged_name_id))
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    root.find(f"{{{SAMLP}}}Status").addprevious(extensions)  # the schema's place for it
    extensions.append(signed)
    return _serialise_like(root, xml)


def move_signed_assertion_into_signature_object(xml: bytes, *, forged_name_id: str) -> bytes:
    """XSW: a forged assertion in the signed one's place, carrying the Signature, and the original
    (without it) inside a ds:Object of that Signature, where the Reference still finds it by ID.

    Unlike the other XSW helpers this does not keep the signature valid for a verifier that
    follows XML-DSig, xmlsec included: the enveloped-signature transform leaves the whole
    Signature subtree, Object and all, out of the digest. It targets verifiers that get that
    wrong, and checks that the structural refusal happens whatever the signature says."""
    root = _parse(xml)
    signed = _signed_assertion(root)
    signature = signed.find(f"{{{DS}}}Signature")
    if signature is None:
        raise ValueError("the assertion is not signed")
    forged = _forged_copy(signed, forged_name_id)
    forged.find(f"{{{SAML}}}Issuer").addnext(signature)  # moved out of the original
    signed.addprevious(forged)
    wrapper = etree.SubElement(signature, f"{{{DS}}}Object")
    wrapper.append(signed)
    return _serialise_like(root, xml)


def duplicate_assertion(xml: bytes) -> bytes:
    """The signed assertion twice, signature, ID and all."""
    root = _parse(xml)
    signed = _signed_assertion(root)
    signed.addnext(copy.deepcopy(signed))
    return _serialise_like(root, xml)


def comment_in_name_id(xml: bytes, *, before: str, after: str) -> bytes:
    """The comment-truncation attack: a signed NameID "admin@acme.test.evil.com" becomes
    "admin@acme.test<!---->.evil.com". Exclusive c14n drops comments, so the signature stays
    valid; a reader that takes the NameID element's first text node sees "admin@acme.test".

    The response must have been issued for before + after (the attacker's own account)."""
    root = _parse(xml)
    name_id = _signed_assertion(root).find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    if name_id is None or name_id.text != before + after:
        raise ValueError(f"the NameID is not {before + after!r}")
    name_id.text = before
    comment = etree.Comment("")
    comment.tail = after
    name_id.append(comment)
    return _serialise_like(root, xml)


def with_doctype(xml: bytes, *, entity: bool = True) -> bytes:
    """A <!DOCTYPE> naming the root element (with an internal entity declared) put in front."""
    root = _parse(xml)
    local_name = etree.QName(root).localname
    qualified_name = f"{root.prefix}:{local_name}" if root.prefix else local_name
    subset = ' [<!ENTITY probe "doctype-probe">]' if entity else ""
    doctype = f"<!DOCTYPE {qualified_name}{subset}>".encode()
    declaration, body = _split_declaration(xml)
    return declaration + doctype + body


def tamper_text(xml: bytes, element_local_name: str, new_text: str, *, index: int = 0) -> bytes:
    """The text of the `index`th element with that local name changed after signing."""
    root = _parse(xml)
    _nth_element(root, element_local_name, index).text = new_text
    return _serialise_like(root, xml)


def tamper_attribute(
    xml: bytes, element_local_name: str, attribute: str, new_value: str | None, *, index: int = 0
) -> bytes:
    """An XML attribute changed (or removed, with None) after signing, e.g. the Response's
    Destination, which only a Response signature covers."""
    root = _parse(xml)
    element = _nth_element(root, element_local_name, index)
    if new_value is None:
        element.attrib.pop(attribute, None)
    else:
        element.set(attribute, new_value)
    return _serialise_like(root, xml)


def _parse(xml: bytes) -> Element:
    return etree.fromstring(xml, _PARSER)


def _split_declaration(xml: bytes) -> tuple[bytes, bytes]:
    if xml.startswith(b"<?xml"):
        end = xml.index(b"?>") + 2
        return xml[:end], xml[end:]
    return b"", xml


def _serialise_like(root: Element, original: bytes) -> bytes:
    declaration, _ = _split_declaration(original)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return declaration + body


def _signed_assertion(root: Element) -> Element:
    assertion = root.find(f"{{{SAML}}}Assertion")
    if assertion is None:
        raise ValueError("no assertion in this response")
    return assertion


def _forged_copy(assertion: Element, name_id: str) -> Element:
    """The assertion with another NameID, a new ID and no signature: what the attacker wants
    the service provider to read."""
    forged = copy.deepcopy(assertion)
    for signature in forged.findall(f"{{{DS}}}Signature"):
        _remove(signature)
    forged.set("ID", _hex_id())
    forged.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = name_id
    return forged


def _nth_element(root: Element, local_name: str, index: int) -> Element:
    matches = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname == local_name
    ]
    if len(matches) <= index:
        raise ValueError(f"no {local_name} number {index} in this document")
    return matches[index]


def _remove(element: Element) -> None:
    element.getparent().remove(element)


# ---------------------------------------------------------------------------------------------
# Reading what our service provider sends


class AuthnRequest(TypedDict):
    id: str
    acs_url: str | None
    issuer: str | None
    destination: str | None
    relay_state: str | None
    xml: str


class LogoutRequestSent(TypedDict):
    id: str
    name_id: str | None
    issuer: str | None
    destination: str | None
    xml: str


def decode_logout_request(redirect_url: str) -> LogoutRequestSent:
    """Our LogoutRequest in a HTTP-Redirect binding URL, so a test can answer it."""
    query = parse_qs(urlsplit(redirect_url).query, keep_blank_values=True)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -zlib.MAX_WBITS)
    root = _parse(xml)
    return {
        "id": root.get("ID"),
        "name_id": root.findtext(f"{{{SAML}}}NameID"),
        "issuer": root.findtext(f"{{{SAML}}}Issuer"),
        "destination": root.get("Destination"),
        "xml": xml.decode(),
    }


def decode_authn_request(redirect_url: str) -> AuthnRequest:
    """The AuthnRequest in a HTTP-Redirect binding URL (SAMLRequest: raw DEFLATE, then base64),
    so a test can answer it with the right InResponseTo."""
    query = parse_qs(urlsplit(redirect_url).query, keep_blank_values=True)
    deflated = base64.b64decode(query["SAMLRequest"][0])
    xml = zlib.decompress(deflated, -zlib.MAX_WBITS)  # negative: raw DEFLATE, no zlib header
    root = _parse(xml)
    relay_state = query.get("RelayState")
    return {
        "id": root.get("ID"),
        "acs_url": root.get("AssertionConsumerServiceURL"),
        "issuer": root.findtext(f"{{{SAML}}}Issuer"),
        "destination": root.get("Destination"),
        "relay_state": relay_state[0] if relay_state else None,
        "xml": xml.decode(),
    }
