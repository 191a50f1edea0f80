"""Validating a SAML response: python3-saml in strict mode, and on top of it every check it does
loosely or not at all (DESIGN §6).

Each check is evaluated on its own and reported with a plain explanation, so the Test sign-in
can show the admin exactly what passed and what failed; a real sign-in goes ahead only when all
of them pass. Things python3-saml leaves loose that we tighten:
- the Audience is optional there and prefix rules apply to Destination and Recipient; here the
  Audience is required and both URLs must equal our ACS URL exactly;
- an expiry is optional there; here the assertion must carry one, and the clock skew is ours;
- it does not remember assertions; here each is accepted once: the replay check passes here
  when the assertion has an ID, and the caller settles it against the assertions already
  accepted (``signin.consume``);
- a NameID with an XML comment inside is refused outright (the comment-truncation attack).
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from onelogin.saml2.response import OneLogin_Saml2_Response

from sso.models import SamlConnection
from sso.saml_settings import path_of, request_data, saml_settings

MAX_RESPONSE_BYTES = 256 * 1024
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


@dataclass
class Check:
    code: str
    name: str
    passed: bool | None  # None: not checked, because an earlier check made it impossible
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class Expectation:
    """What this response must be, besides valid: from the connection and the browser."""

    request_id: str | None  # the AuthnRequest this browser has pending, if any
    allow_idp_initiated: bool
    skew: timedelta
    now: datetime


@dataclass
class Verdict:
    checks: list[Check]
    name_id: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    assertion_id: str = ""
    expires_at: datetime | None = None
    clock_difference_seconds: float | None = None

    @property
    def passed(self) -> bool:
        return all(check.passed is True for check in self.checks)

    @property
    def failure(self) -> Check | None:
        return next((check for check in self.checks if check.passed is not True), None)


class _Checks:
    """Collects checks in order; ``skip`` marks the rest as not checked."""

    def __init__(self) -> None:
        self.items: list[Check] = []

    def add(self, code: str, name: str, passed: bool, detail: str = "") -> bool:
        self.items.append(Check(code, name, passed, detail))
        return passed

    def skip(self, *codes_and_names: tuple[str, str]) -> None:
        for code, name in codes_and_names:
            self.items.append(Check(code, name, None, "Not checked: an earlier check failed."))


# The checks after parsing, in the order they are reported.
LATER = (
    ("status", "Status is Success"),
    ("one_assertion", "Exactly one assertion"),
    ("signature", "Signed with a certificate of this connection"),
    ("issuer", "Issuer is the identity provider"),
    ("audience", "Audience is our Entity ID"),
    ("destination", "Destination is our ACS URL"),
    ("recipient", "Recipient is our ACS URL"),
    ("validity", "Within its validity period"),
    ("in_response_to", "Answers a sign-in this browser started, or an allowed IdP-initiated one"),
    ("replay", "Not used before"),
    ("name_id", "NameID present and intact"),
    ("library", "python3-saml strict validation"),
)


def validate(
    connection: SamlConnection,
    encoded: str,
    expectation: Expectation,
) -> Verdict:
    checks = _Checks()
    xml, response = _parse(connection, encoded, checks)
    if response is None:
        checks.skip(*LATER)
        return Verdict(checks.items)
    document = response.document
    verdict = Verdict(checks.items)
    if not checks.add("status", LATER[0][1], *_status(document)):
        checks.skip(*LATER[1:])
        return verdict
    assertions = document.findall(".//saml:Assertion", NS)
    encrypted = document.findall(".//saml:EncryptedAssertion", NS)
    if not checks.add(
        "one_assertion",
        LATER[1][1],
        len(assertions) == 1 and not encrypted,
        f"Found {len(assertions)} assertion(s)"
        + (" and an encrypted assertion, which we do not accept" if encrypted else "")
        + ".",
    ):
        checks.skip(*LATER[2:])
        return verdict
    assertion = assertions[0]
    library = _library(connection, response, expectation)
    checks.add("signature", LATER[2][1], *_signature(connection, encoded, assertion, library))
    checks.add("issuer", LATER[3][1], *_issuer(connection, document, assertion))
    checks.add("audience", LATER[4][1], *_audience(connection, assertion))
    checks.add("destination", LATER[5][1], *_destination(connection, document))
    checks.add("recipient", LATER[6][1], *_recipient(connection, assertion))
    validity = _validity(document, assertion, expectation)
    verdict.clock_difference_seconds, verdict.expires_at = (
        validity.clock_difference,
        validity.expires,
    )
    checks.add("validity", LATER[7][1], validity.passed, validity.detail)
    checks.add("in_response_to", LATER[8][1], *_in_response_to(document, assertion, expectation))
    verdict.assertion_id = assertion.get("ID") or ""
    checks.add(
        "replay",
        LATER[9][1],
        bool(verdict.assertion_id),
        "First use." if verdict.assertion_id else "The assertion has no ID.",
    )
    name_id_passed, name_id_detail, verdict.name_id = _name_id(assertion, xml)
    checks.add("name_id", LATER[10][1], name_id_passed, name_id_detail)
    checks.add("library", LATER[11][1], *library)
    verdict.attributes = _attributes(assertion)
    return verdict


def _parse(
    connection: SamlConnection, encoded: str, checks: _Checks
) -> tuple[bytes, OneLogin_Saml2_Response | None]:
    """The response's XML, and python3-saml's response object parsed (safely) from it, whose
    document our own checks read too: one parse for everything. None when it cannot be used."""
    if len(encoded) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        checks.add(
            "format", "A SAML response of sensible size", False, "The response is too large."
        )
        return b"", None
    try:
        xml = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        checks.add(
            "format", "A SAML response of sensible size", False, "SAMLResponse is not base64."
        )
        return b"", None
    checks.add("format", "A SAML response of sensible size", True, f"{len(xml)} bytes.")
    if b"<!DOCTYPE" in xml.upper() or b"<!ENTITY" in xml.upper():
        checks.add("xml", "Well-formed XML without a DTD", False, "The response contains a DTD.")
        return xml, None
    try:
        response = OneLogin_Saml2_Response(saml_settings(connection, strict=True), encoded)
    except Exception:  # python3-saml raises several types for unsafe or broken XML
        checks.add("xml", "Well-formed XML without a DTD", False, "The response is not XML.")
        return xml, None
    if response.document.tag != f"{{{NS['samlp']}}}Response":
        checks.add("xml", "Well-formed XML without a DTD", False, "This is not a SAML Response.")
        return xml, None
    checks.add("xml", "Well-formed XML without a DTD", True)
    return xml, response


def _status(document: Any) -> tuple[bool, str]:
    code = document.find("samlp:Status/samlp:StatusCode", NS)
    value = code.get("Value") if code is not None else None
    if value == SUCCESS:
        return True, ""
    message = document.findtext("samlp:Status/samlp:StatusMessage", default="", namespaces=NS)
    return False, f"The identity provider answered {value or 'no status'}. {message}".strip()


def _signature(
    connection: SamlConnection, encoded: str, assertion: Any, library: tuple[bool, str]
) -> tuple[bool, str]:
    """Signature and certificate: python3-saml checks every signature against the pinned
    certificates only (and that signed elements are where they belong); we add that the
    assertion itself must be signed. When strict validation passed, the signatures were
    verified there; otherwise non-strict mode, which checks little but signatures, tells
    whether the signature is what failed."""
    if not library[0]:
        alone = OneLogin_Saml2_Response(saml_settings(connection, strict=False), encoded)
        if not alone.is_valid(request_data(path_of(connection.acs_url))):
            return False, _plain_signature_error(alone.get_error() or "")
    reference = assertion.find("ds:Signature/ds:SignedInfo/ds:Reference", NS)
    if reference is None or reference.get("URI") != f"#{assertion.get('ID')}":
        return False, "The assertion itself is not signed; only signed assertions are accepted."
    return True, "Valid signature by a certificate listed in the uploaded metadata."


# python3-saml's words for signature failures, and what they mean for the admin.
_SIGNATURE_ERRORS = (
    (
        "Signature validation failed",
        "The response was signed with a key whose certificate is not in the uploaded metadata. "
        "If the identity provider's certificate changed, upload its current metadata.",
    ),
    ("No Signature found", "The response is not signed; the identity provider must sign it."),
    (
        "Deprecated",
        "The response was signed with SHA-1, which is refused; set the identity provider to "
        "sign with SHA-256.",
    ),
)


def _plain_signature_error(error: str) -> str:
    meaning = next((plain for words, plain in _SIGNATURE_ERRORS if words in error), None)
    return meaning or f"python3-saml: {error or 'invalid signature.'}"


def _issuer(connection: SamlConnection, document: Any, assertion: Any) -> tuple[bool, str]:
    issuers = [assertion.findtext("saml:Issuer", namespaces=NS)]
    if document.find("saml:Issuer", NS) is not None:
        issuers.append(document.findtext("saml:Issuer", namespaces=NS))
    wrong = [issuer for issuer in issuers if (issuer or "").strip() != connection.idp_entity_id]
    if wrong:
        return False, f"Issuer {wrong[0]!r}; expected {connection.idp_entity_id!r}."
    return True, connection.idp_entity_id


def _audience(connection: SamlConnection, assertion: Any) -> tuple[bool, str]:
    restrictions = assertion.findall("saml:Conditions/saml:AudienceRestriction", NS)
    if not restrictions:
        return False, f"The assertion names no Audience; it must name {connection.sp_entity_id}."
    for restriction in restrictions:
        audiences = [a.text or "" for a in restriction.findall("saml:Audience", NS)]
        if connection.sp_entity_id not in audiences:
            return False, f"Audience {audiences}; expected {connection.sp_entity_id}."
    return True, connection.sp_entity_id


def _destination(connection: SamlConnection, document: Any) -> tuple[bool, str]:
    destination = document.get("Destination")
    if destination != connection.acs_url:
        return False, f"Destination {destination!r}; expected exactly {connection.acs_url}."
    return True, destination


def _recipient(connection: SamlConnection, assertion: Any) -> tuple[bool, str]:
    data = _bearer_data(assertion)
    if not data:
        return False, "The assertion has no bearer SubjectConfirmationData."
    recipients = [item.get("Recipient") for item in data]
    wrong = [r for r in recipients if r != connection.acs_url]
    if wrong:
        return False, f"Recipient {wrong[0]!r}; expected exactly {connection.acs_url}."
    return True, connection.acs_url


@dataclass
class _Validity:
    passed: bool
    detail: str
    clock_difference: float | None = None
    expires: datetime | None = None


def _validity(document: Any, assertion: Any, expectation: Expectation) -> _Validity:
    now, skew = expectation.now, expectation.skew
    issued = parse_saml_time(assertion.get("IssueInstant") or document.get("IssueInstant"))
    difference = (now - issued).total_seconds() if issued else None
    seen = f" Clock difference seen: {difference:+.0f} s." if difference is not None else ""
    conditions = assertion.find("saml:Conditions", NS)
    not_before = parse_saml_time(conditions.get("NotBefore")) if conditions is not None else None
    not_after = parse_saml_time(conditions.get("NotOnOrAfter")) if conditions is not None else None
    confirmation_ends = [
        parse_saml_time(item.get("NotOnOrAfter")) for item in _bearer_data(assertion)
    ]
    ends = [moment for moment in (not_after, *confirmation_ends) if moment is not None]
    if not_after is None or not confirmation_ends or None in confirmation_ends:
        return _Validity(False, "The assertion has no expiry (NotOnOrAfter)." + seen, difference)
    expires = min(ends)
    if issued is not None and issued > now + skew:
        return _Validity(False, "Issued in the future." + seen, difference, expires)
    if not_before is not None and not_before > now + skew:
        return _Validity(False, f"Not valid before {not_before:%H:%M:%S} UTC." + seen, difference)
    if expires <= now - skew:
        return _Validity(False, f"Expired at {expires:%H:%M:%S} UTC." + seen, difference, expires)
    return _Validity(True, f"Valid until {expires:%H:%M:%S} UTC." + seen, difference, expires)


def _in_response_to(document: Any, assertion: Any, expectation: Expectation) -> tuple[bool, str]:
    answered = {document.get("InResponseTo")} | {
        item.get("InResponseTo") for item in _bearer_data(assertion)
    }
    answered.discard(None)
    if not answered:
        if expectation.allow_idp_initiated:
            return True, "IdP-initiated sign-in, which this connection allows."
        return False, "IdP-initiated sign-in is not allowed for this connection."
    if expectation.request_id is None or answered != {expectation.request_id}:
        return False, "It answers a sign-in request this browser did not start (InResponseTo)."
    return True, "It answers the sign-in request this browser started."


# A NameID element with a comment in its text. The safe parser drops comments (and so joins the
# text around them), so this is looked for in the raw XML.
_COMMENTED_NAME_ID = re.compile(rb"<(?:[\w.-]+:)?NameID\b[^>]*>[^<]*<!--")


def _name_id(assertion: Any, xml: bytes) -> tuple[bool, str, str]:
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    if name_id is None:
        return False, "The assertion has no NameID.", ""
    if _COMMENTED_NAME_ID.search(xml):
        # The comment-truncation attack (CVE-2017-11427 and kin): a signed NameID of the
        # attacker's own account, cut by a comment so that a careless reader sees someone else.
        return False, "The NameID contains an XML comment, a known attack; refused.", ""
    value = "".join(name_id.itertext()).strip()
    if not value:
        return False, "The NameID is empty.", ""
    return True, value, value


def _library(
    connection: SamlConnection, response: OneLogin_Saml2_Response, expectation: Expectation
) -> tuple[bool, str]:
    valid = response.is_valid(
        request_data(path_of(connection.acs_url)), request_id=expectation.request_id
    )
    return (True, "Passed.") if valid else (False, _library_error(response))


def _library_error(response: OneLogin_Saml2_Response) -> str:
    error = response.get_error() or "Invalid response."
    return f"python3-saml: {error}"


def _attributes(assertion: Any) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        values = ["".join(v.itertext()) for v in attribute.findall("saml:AttributeValue", NS)]
        attributes.setdefault(attribute.get("Name") or "", []).extend(values)
    return attributes


def _bearer_data(assertion: Any) -> list[Any]:
    data = []
    for confirmation in assertion.findall("saml:Subject/saml:SubjectConfirmation", NS):
        if confirmation.get("Method") == BEARER:
            data += confirmation.findall("saml:SubjectConfirmationData", NS)
    return data


def parse_saml_time(value: str | None) -> datetime | None:
    """A SAML dateTime; one without an offset is UTC (SAML core §1.3.3)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
