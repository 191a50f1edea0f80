"""SAML single logout (DESIGN §6): our LogoutRequest to the IdP, and the IdP's LogoutRequest and
LogoutResponse at our logout URL.

A sign-out changes a session, so the messages that cause one are held to what a sign-in is held
to: python3-saml in strict mode with ``wantMessagesSigned`` (a HTTP-Redirect binding signature
by a pinned certificate of this connection, SHA-1 refused), and on top of it what it leaves
loose:
- Destination and Issuer are optional there and Destination is prefix-compared; here both are
  required and equal to our logout URL and the IdP's entity ID;
- there is no freshness check there beyond an optional NotOnOrAfter; here IssueInstant is
  required and at most ``MESSAGE_LIFETIME`` old (with the clock skew), and each LogoutRequest
  is accepted once, through the replay store shared by all app servers;
- a LogoutResponse's InResponseTo is optional there; here it is required and must be the
  LogoutRequest this browser sent (kept in its session, single-use);
- the message is inflated with a size cap before python3-saml inflates it without one.
The signature is checked over the query string as it arrived (``validate_signature_from_qs``),
since IdPs percent-encode differently (ADFS lowercase) and re-encoding would break theirs.

Only the HTTP-Redirect binding is supported, as our SP metadata says: a LogoutRequest arrives
by a top-level GET, which carries our SameSite=Lax session cookie, so this browser's own pending
request can live in its session.
"""

import base64
import binascii
import logging
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.http import QueryDict
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from sso.models import AcceptedAssertion, SamlConnection
from sso.saml_settings import path_of, request_data, saml_settings, settings_dict
from sso.validation import NS, SUCCESS, parse_saml_time

logger = logging.getLogger(__name__)

# How old an IdP's logout message may be: it travels by an immediate browser redirect.
MESSAGE_LIFETIME = timedelta(minutes=5)
# How long our LogoutRequest waits for the IdP's answer.
PENDING_LIFETIME = timedelta(minutes=10)
MAX_MESSAGE_BYTES = 64 * 1024  # inflated; logout messages are a few hundred bytes
SESSION_PENDING = "saml_logout_request"
# Replay-store entries of LogoutRequests: apart from assertion ids, whatever an IdP's ids are.
REPLAY_PREFIX = "logout:"
MAX_ID_LENGTH = 200  # with the prefix, within the replay store's 256 characters
_BINDING_PARAMETERS = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")

NOT_A_MESSAGE = "This is not a SAML logout message we can read."
NOT_OURS = "It is not a sign-out this browser started here, or that sign-out has already ended."
REPLAYED = "This sign-out message was already used; each is accepted once."


class LogoutRefused(Exception):
    """A logout message we do not act on; ``reason`` says why, in words for the 400 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Started:
    redirect_url: str  # the IdP's single logout URL, with our LogoutRequest
    request_id: str


@dataclass(frozen=True)
class IdpRequest:
    """A LogoutRequest from the IdP that passed every check."""

    name_id: str
    answer_url: str  # the IdP's single logout URL, with our LogoutResponse


def logout_settings(connection: SamlConnection) -> OneLogin_Saml2_Settings:
    """The connection's strict settings, requiring the IdP's logout messages to be signed. Only
    for logout: at the ACS, Entra and Google sign the assertion and not the Response, which
    ``wantMessagesSigned`` would refuse."""
    data = settings_dict(connection)
    data["security"]["wantMessagesSigned"] = True
    return OneLogin_Saml2_Settings(data, sp_validation_only=True)


# --- our LogoutRequest ------------------------------------------------------------------------


def start(connection: SamlConnection, *, name_id: str) -> Started:
    """Our LogoutRequest for this NameID, to the IdP's single logout URL over HTTP-Redirect."""
    auth = OneLogin_Saml2_Auth(
        request_data(path_of(connection.logout_url)), saml_settings(connection)
    )
    redirect_url = auth.logout(name_id=name_id, return_to="")
    return Started(redirect_url=redirect_url, request_id=auth.get_last_request_id())


def remember_pending(
    session: SessionBase, connection: SamlConnection, request_id: str, now: datetime
) -> None:
    session[SESSION_PENDING] = {
        "connection": connection.public_id,
        "request_id": request_id,
        "sent_at": now.isoformat(),
    }


def pending_request_id(
    session: SessionBase, connection: SamlConnection, now: datetime
) -> str | None:
    """The LogoutRequest this browser sent through this connection, while it may be answered."""
    pending = session.get(SESSION_PENDING)
    if not isinstance(pending, dict) or pending.get("connection") != connection.public_id:
        return None
    sent_at = parse_saml_time(pending.get("sent_at"))
    if sent_at is None or sent_at < now - PENDING_LIFETIME:
        return None
    request_id = pending.get("request_id")
    return request_id if isinstance(request_id, str) and request_id else None


def is_session_of(session: SessionBase, connection: SamlConnection, name_id: str) -> bool:
    """Whether this browser's session began with a sign-in of this NameID through this
    connection (sso.saml_views stores both at the ACS)."""
    return (
        session.get("saml_connection") == connection.public_id
        and session.get("saml_name_id") == name_id
    )


# --- the IdP's messages -----------------------------------------------------------------------


def accept_idp_request(
    connection: SamlConnection, query: QueryDict, query_string: str, *, now: datetime
) -> IdpRequest:
    """Check an IdP's LogoutRequest and record it as used; LogoutRefused when it must change
    nothing. Call inside a transaction: the replay-store INSERT is the single-use check."""
    xml = _message(connection, query, "SAMLRequest")
    auth = _auth(connection, query, query_string)
    try:
        answer_url = auth.process_slo(keep_local_session=True)
    except Exception:  # python3-saml raises several types for input it cannot read
        raise LogoutRefused(NOT_A_MESSAGE) from None
    document = OneLogin_Saml2_XML.to_etree(xml)
    issued = _verdict(auth, connection, document, "LogoutRequest", now)
    try:
        name_id = OneLogin_Saml2_Logout_Request.get_nameid(document)
    except Exception:  # no NameID, or an EncryptedID we have no key for
        raise LogoutRefused("The logout request names nobody we can read.") from None
    if not _is_at(answer_url, connection.idp_slo_url):
        raise LogoutRefused("This connection has no single logout URL to answer.")
    message_id = REPLAY_PREFIX + document.get("ID", "")
    if not _accept_once(connection, message_id, expires_at=issued + MESSAGE_LIFETIME):
        raise LogoutRefused(REPLAYED)
    return IdpRequest(name_id=name_id or "", answer_url=answer_url)


def accept_idp_response(
    connection: SamlConnection,
    query: QueryDict,
    query_string: str,
    *,
    pending_id: str | None,
    now: datetime,
) -> bool:
    """Check the IdP's LogoutResponse to our LogoutRequest: True when the IdP signed the person
    out, False when it answered that it could not; LogoutRefused when it must change nothing."""
    xml = _message(connection, query, "SAMLResponse")
    auth = _auth(connection, query, query_string)
    try:
        auth.process_slo(keep_local_session=True, request_id=pending_id)
    except Exception:  # python3-saml raises several types for input it cannot read
        raise LogoutRefused(NOT_A_MESSAGE) from None
    document = OneLogin_Saml2_XML.to_etree(xml)
    _verdict(auth, connection, document, "LogoutResponse", now, pending_id=pending_id)
    code = document.find("samlp:Status/samlp:StatusCode", NS)
    return code is not None and code.get("Value") == SUCCESS


def _message(connection: SamlConnection, query: QueryDict, kind: str) -> bytes:
    """The message's XML, inflated with a cap; refused before python3-saml sees it when the
    binding's parameters are repeated, it is too large or not DEFLATE, or it has a DTD."""
    if not connection.is_configured or not connection.idp_slo_url:
        # Without a single logout URL python3-saml would answer a LogoutRequest at the
        # RelayState instead, an address of the sender's choosing.
        raise LogoutRefused("Single logout is not set up for this connection.")
    if any(len(query.getlist(name)) > 1 for name in _BINDING_PARAMETERS):
        # The signature is checked over the raw query string but the values are read from the
        # parsed one: with a parameter twice, the two could disagree.
        raise LogoutRefused(NOT_A_MESSAGE)
    if kind == "SAMLRequest" and "SAMLResponse" in query:
        raise LogoutRefused(NOT_A_MESSAGE)
    encoded = query.get(kind, "")
    if len(encoded) > MAX_MESSAGE_BYTES:
        raise LogoutRefused("The logout message is too large.")
    try:
        deflated = base64.b64decode(encoded)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw DEFLATE, as the binding says
        xml = inflater.decompress(deflated, MAX_MESSAGE_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise LogoutRefused(NOT_A_MESSAGE) from None
    if len(xml) > MAX_MESSAGE_BYTES:
        raise LogoutRefused("The logout message is too large.")
    if not inflater.eof or not xml:
        raise LogoutRefused(NOT_A_MESSAGE)
    if b"<!DOCTYPE" in xml.upper() or b"<!ENTITY" in xml.upper():
        raise LogoutRefused(NOT_A_MESSAGE)
    return xml


def _auth(connection: SamlConnection, query: QueryDict, query_string: str) -> OneLogin_Saml2_Auth:
    values = {name: str(value) for name, value in query.items()}  # the last of each, as Django
    data: dict[str, Any] = request_data(path_of(connection.logout_url), get=values)
    data["query_string"] = query_string
    data["validate_signature_from_qs"] = True
    return OneLogin_Saml2_Auth(data, logout_settings(connection))


# python3-saml's words for signature failures, and what they mean for the person who sees them.
_LIBRARY_ERRORS = (
    ("not signed", "The logout message is not signed; only signed ones are accepted."),
    ("Deprecated", "The logout message is signed with SHA-1, which is refused."),
    (
        "Signature validation failed",
        "The logout message is not signed by a certificate of this connection.",
    ),
)


def _verdict(
    auth: OneLogin_Saml2_Auth,
    connection: SamlConnection,
    document: Any,
    local_name: str,
    now: datetime,
    *,
    pending_id: str | None = None,
) -> datetime:
    """python3-saml's verdict and ours; the time the message was issued. The signature comes
    first: nothing in an unsigned message is worth a word. Then our checks, which cover what
    python3-saml reports without a reason (Destination, Issuer, expiry), then anything else it
    found. A LogoutResponse must answer ``pending_id``. A status other than Success is not a
    failure: it is the IdP's answer."""
    errors = [error for error in auth.get_errors() if error != "logout_not_success"]
    reason = auth.get_last_error_reason() or ""
    if errors:
        logger.info("SAML logout message refused by python3-saml: %s (%s)", errors, reason)
    if any(error.endswith("_signature") for error in errors):
        plain = next((words for key, words in _LIBRARY_ERRORS if key in reason), None)
        raise LogoutRefused(plain or "The logout message is not signed as it must be.")
    issued = _our_checks(connection, document, local_name, now)
    if local_name == "LogoutResponse" and (
        pending_id is None or document.get("InResponseTo") != pending_id
    ):
        raise LogoutRefused(NOT_OURS)
    if errors:
        raise LogoutRefused("The logout message did not pass our checks.")
    return issued


def _our_checks(
    connection: SamlConnection, document: Any, local_name: str, now: datetime
) -> datetime:
    """Every check of ours that both kinds of message take; the time it was issued."""
    if document.tag != f"{{{NS['samlp']}}}{local_name}":
        raise LogoutRefused(NOT_A_MESSAGE)
    if document.get("Destination") != connection.logout_url:
        raise LogoutRefused("The logout message was meant for another address (Destination).")
    issuer = document.findtext("saml:Issuer", namespaces=NS)
    if (issuer or "").strip() != connection.idp_entity_id:
        raise LogoutRefused("The logout message comes from another identity provider (Issuer).")
    skew = timedelta(seconds=settings.SAML_CLOCK_SKEW_SECONDS)
    issued = parse_saml_time(document.get("IssueInstant"))
    if issued is None or issued > now + skew:
        raise LogoutRefused("The logout message has no valid time of issue.")
    not_on_or_after = parse_saml_time(document.get("NotOnOrAfter"))
    if issued < now - MESSAGE_LIFETIME - skew or (
        not_on_or_after is not None and not_on_or_after <= now - skew
    ):
        raise LogoutRefused("The logout message has expired.")
    if not 0 < len(document.get("ID", "")) <= MAX_ID_LENGTH:
        raise LogoutRefused(NOT_A_MESSAGE)
    return issued


def _is_at(url: str | None, endpoint: str) -> bool:
    """Whether ``url`` is ``endpoint`` with a query added (as python3-saml adds ours)."""
    joiner = "&" if "?" in endpoint else "?"
    return bool(url) and bool(endpoint) and (url or "").startswith(endpoint + joiner)


def _accept_once(connection: SamlConnection, message_id: str, *, expires_at: datetime) -> bool:
    try:
        with transaction.atomic():
            AcceptedAssertion.objects.create(
                connection=connection, assertion_id=message_id, expires_at=expires_at
            )
    except IntegrityError:
        return False
    return True
