"""Cursors of cursor pagination (RFC 9865): opaque, tamper-evident, short-lived page positions.

A cursor names a position in the list by the primary key of the row at a page's edge, and a
direction: "after row k" (the next page) or "before row k" (the previous page). Pages are then
keyset queries (``pk > k ORDER BY pk``), which cost the same at any depth, and a walk sees every
row that existed for the whole walk exactly once whatever is created or deleted between pages:
rows are never renumbered, as an OFFSET would renumber them.

What a cursor carries, signed with the SECRET_KEY (django.core.signing, so an edited one is
refused) and with the time it was issued (so an old one expires):

- the direction and the edge row's primary key: an internal number, no personal data;
- a binding: a keyed hash (salted_hmac) of the organisation, the resource type and the filter.
  A cursor handed to another organisation, to the other endpoint or with another filter is
  refused, and the filter's text (which may hold an email address) cannot be read back from it.

Every character is one of RFC 3986's unreserved ones, as RFC 9865 §2 asks: the payload is
letters, digits and "-", and the signer's separator is ".".
"""

import re
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from scim.errors import ScimError

# RFC 9865's cursorTimeout, published in /ServiceProviderConfig: the least time a cursor stays
# valid between two page requests. An import reads a page in well under a second; an hour
# leaves room for a client that pauses (a 429 or 503 with Retry-After) without keeping
# anything on the server, since a cursor holds its whole state.
CURSOR_TIMEOUT_SECONDS = 3600

# A cursor we issue is about 80 characters; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 200
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")
_PAYLOAD = re.compile(r"([np])([0-9]{1,19})-([0-9a-f]{20})")
_SIGNER_SALT = "scim.cursors"
_BINDING_SALT = "scim.cursors.binding"


@dataclass(frozen=True)
class Position:
    """Where a cursor page starts: after the row ``pk`` (forward) or before it (backwards)."""

    pk: int
    backwards: bool


@dataclass(frozen=True)
class Binding:
    """What a cursor is valid for: one organisation's list of one resource type, one filter."""

    organisation_id: int
    resource: str
    filter: str

    def digest(self) -> str:
        text = f"{self.organisation_id}\n{self.resource}\n{self.filter}"
        return salted_hmac(_BINDING_SALT, text, algorithm="sha256").hexdigest()[:20]


def issue(position: Position, binding: Binding) -> str:
    direction = "p" if position.backwards else "n"
    payload = f"{direction}{position.pk}-{binding.digest()}"
    return _signer().sign(payload)


def read(raw: str, binding: Binding) -> Position | None:
    """The position a request's ``cursor`` names; None for the empty cursor, which asks for the
    first page. Raises a SCIM invalidCursor error for anything we did not issue for this
    binding, and expiredCursor for one older than CURSOR_TIMEOUT_SECONDS."""
    if raw == "":
        return None
    if len(raw) > MAX_CURSOR_LENGTH or not _UNRESERVED.fullmatch(raw):
        raise invalid_cursor()
    try:
        payload = _signer().unsign(raw, max_age=CURSOR_TIMEOUT_SECONDS)
    except signing.SignatureExpired:
        raise ScimError(
            400,
            "This cursor has expired: cursors are valid for "
            f"{CURSOR_TIMEOUT_SECONDS // 60} minutes between pages. Start again with an "
            "empty cursor.",
            "expiredCursor",
        ) from None
    except signing.BadSignature:
        raise invalid_cursor() from None
    match = _PAYLOAD.fullmatch(payload)
    if match is None or not constant_time_compare(match[3], binding.digest()):
        raise invalid_cursor()
    return Position(pk=int(match[2]), backwards=match[1] == "p")


def invalid_cursor() -> ScimError:
    return ScimError(
        400,
        "This cursor is not one we gave for this list: use the nextCursor or previousCursor of "
        "the previous page, with the same filter, or an empty cursor for the first page.",
        "invalidCursor",
    )


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SIGNER_SALT, sep=".", algorithm="sha256")
