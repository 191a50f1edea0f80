"""Properties of the whole SCIM API, for any input (DESIGN §5, STYLE 17).

Hypothesis generates requests (methods, paths, query strings, headers, User, Group, PatchOp and
SearchRequest bodies, broken JSON and odd Unicode) and sends them to the real views through
Django's test client, on the real database, against a small fixed directory. For every answer:

(a) no server failure: no 5xx, except 501, which RFC 7644 §3.12 prescribes for what a service
    provider does not implement (README: /Me, /Bulk);
(b) every 4xx (and 501) is a SCIM Error document: application/scim+json, the Error schema, the
    status as a string, a detail, no stack trace (HEAD answers carry no body);
(c) a rejected request (4xx, 501) and a read (GET, HEAD, OPTIONS) leave the domain tables
    (people, teams, memberships, audit events) exactly as they were. The SCIM request log is
    left out: it records every authenticated request by design.

Inputs name the directory's people and teams by placeholders ("{alice}", "{dave}", "{key}"…),
filled in when the request is sent, so a shrunk example reads as what it means and replays
against another run's ids. Each example runs in a transaction that is rolled back, so examples
are independent; the views' own atomic blocks become savepoints.

The examples' number comes from the Hypothesis profile (tests/conftest.py): "ci" by default,
``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``) for a long run. What this test finds becomes a plain
regression test in the module of the endpoint concerned.
"""

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from accounts import services
from accounts.models import (
    AuditEvent,
    CustomAttribute,
    ProfileValue,
    Team,
    TeamMembership,
    User,
)
from tests import factories
from tests.scim.conftest import (
    ENTRA_AGENT,
    OKTA_AGENT,
    SCIM_TYPE,
    ScimClient,
    assert_scim_error,
    scim_client_for,
)

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# The organisation's own attributes (the directory defines one of each type).
CUSTOM = "urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User"
CUSTOM_ATTRIBUTES = {
    "costCode": "string",
    "mentor": "boolean",
    "level": "integer",
    "fte": "decimal",
    "hireDate": "dateTime",
}
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# Entra sends schema URIs of its own next to the standard ones (Microsoft SCIM guide).
ENTRA_EXTENSION = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

READS = {"GET", "HEAD", "OPTIONS"}


# --- the directory -----------------------------------------------------------------------------

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot() -> Snapshot:
    """Every row of the domain tables. Not ScimRequest: the request log records every
    authenticated request, rejected ones included, by design (DESIGN §5, Logging)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in (User, ProfileValue, CustomAttribute, Team, TeamMembership, AuditEvent)
    }


@dataclass
class Directory:
    """The fixed data every example starts from, and the values its placeholders stand for."""

    scim: ScimClient
    values: dict[str, str]
    baseline: Snapshot
    logged: list[logging.LogRecord] = field(default_factory=list)

    def fill(self, text: str) -> str:
        for name, value in self.values.items():
            text = text.replace("{" + name + "}", value)
        return text

    def __repr__(self) -> str:
        return "Directory(acme and globex, as built by the fixture)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints dataclasses field by field unless told otherwise.
        printer.text(repr(self))


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def server_logs(records: list[logging.LogRecord]) -> Iterator[None]:
    """Unexpected exceptions are logged by the SCIM error handler (and by Django for what
    escapes it): keep them, to chain them to the failure, and keep thousands of 4xx warnings
    and tracebacks out of the test's output. Per request, because pytest also captures loggers
    that were already non-propagating when the test started."""
    records.clear()
    keep = _Keep(records)
    loggers = [logging.getLogger(name) for name in ("scim", "django.request")]
    saved = [each.propagate for each in loggers]
    for each in loggers:
        each.addHandler(keep)
        each.propagate = False
    try:
        yield
    finally:
        for each, propagate in zip(loggers, saved, strict=True):
            each.removeHandler(keep)
            each.propagate = propagate


@pytest.fixture
def directory(db) -> Directory:
    acme = factories.organisation("acme")
    globex = factories.organisation("globex")
    admin = factories.user(acme, "admin@acme.test", role="primary_admin")
    for name, type_ in CUSTOM_ATTRIBUTES.items():
        services.custom_attribute_add(
            organisation=acme, actor=factories.SYSTEM, name=name, type=type_
        )
    alice = factories.user(
        acme,
        "alice@acme.test",
        external_id="okta-alice",
        given_name="Alice",
        middle_name="Q",
        title="Engineer",
        cost_center="4130",
        addresses=[{"type": "work", "locality": "London", "primary": True}],
        photos=[{"value": "https://photos.example/alice.jpg", "type": "photo"}],
    )
    services.user_set_custom_attributes(
        user=alice,
        actor=factories.SYSTEM,
        values={"costCode": "CC-1", "mentor": True, "level": 7, "hireDate": "2024-05-01"},
    )
    bob = factories.user(
        acme,
        "bob@acme.test",
        external_id="okta-bob",
        phone_numbers=[{"value": "+1 555", "type": "work"}, {"value": "+1 556", "type": "mobile"}],
    )
    carol = factories.user(acme, "carol@acme.test")
    dave = factories.user(acme, "dave@acme.test", external_id="okta-dave")
    services.user_set_manager(user=alice, actor=factories.SYSTEM, manager=bob)
    engineering = factories.team(acme, "Engineering", members=[alice, bob, dave])
    sales = factories.team(acme, "Sales", members=[carol, alice])
    empty = factories.team(acme, "Empty")
    services.user_deactivate(user=carol, actor=factories.SYSTEM)
    services.user_delete(user=dave, actor=factories.SYSTEM)
    eve = factories.user(globex, "eve@globex.test", external_id="okta-eve")
    globex_team = factories.team(globex, "Globex Team", members=[eve])
    scim = scim_client_for(acme)
    other = scim_client_for(globex)
    rows: dict[str, User | Team] = {
        "admin": admin,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "eve": eve,
        "engineering": engineering,
        "sales": sales,
        "empty": empty,
        "globex_team": globex_team,
    }
    values = {
        "org": acme.public_id,
        "globex": globex.public_id,
        "key": scim.key,
        "globex_key": other.key,
        "key_prefix": scim.key[:8],
        **{name: str(row.public_id) for name, row in rows.items()},
    }
    # Real versions, so that If-Match / If-None-Match sometimes match.
    values["etag_alice"] = scim.get(f"Users/{alice.public_id}")["ETag"]
    values["etag_engineering"] = scim.get(f"Groups/{engineering.public_id}")["ETag"]
    return Directory(scim, values, snapshot())


# --- sending a request and checking the answer -------------------------------------------------

ABSENT = object()  # no body at all


@dataclass(frozen=True)
class Call:
    """One request. ``path`` is relative to the Tenant URL (where a leading "/" makes an empty
    segment) unless it starts with "/scim" or "//scim"; ``body`` is sent as JSON, ``raw`` as it
    is (text is encoded as UTF-8, unpaired surrogates included)."""

    method: str
    path: str
    query: str = ""
    body: Any = ABSENT
    raw: str | bytes | None = None
    content_type: str = SCIM_TYPE
    authorization: str | None = "Bearer {key}"  # None: no Authorization header
    headers: tuple[tuple[str, str], ...] = ()
    user_agent: str = OKTA_AGENT

    def __repr__(self) -> str:
        shown = [f"method={self.method!r}", f"path={self.path!r}"]
        if self.query:
            shown.append(f"query={self.query!r}")
        if self.body is not ABSENT:
            shown.append(f"body={self.body!r}")
        if self.raw is not None:  # deep nesting is 200,000 characters long: show its start
            more = "…" if len(self.raw) > 300 else ""
            shown.append(f"raw={self.raw[:300]!r}{more} ({len(self.raw)} long)")
        if self.content_type != SCIM_TYPE:
            shown.append(f"content_type={self.content_type!r}")
        if self.authorization != "Bearer {key}":
            shown.append(f"authorization={self.authorization!r}")
        if self.headers:
            shown.append(f"headers={self.headers!r}")
        if self.user_agent != OKTA_AGENT:
            shown.append(f"user_agent={self.user_agent!r}")
        return f"Call({', '.join(shown)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


# Left as they are in a path: "/" (segments, empty ones too) and "%" (so that raw escapes such
# as %2F, %00 or a broken %zz arrive as written). Everything else is percent-encoded, as an HTTP
# client does; the test client decodes it again, like a WSGI server.
_PATH_SAFE = "/%:@!$&'()*+,;=~-._[]"


def url_of(directory: Directory, call: Call) -> str:
    path = directory.fill(call.path)
    if not (path.startswith("/") and path.lstrip("/").startswith("scim")):
        path = f"/scim/v2/{directory.values['org']}/{path}"
    url = quote(_encode(path), safe=_PATH_SAFE)
    return f"{url}?{directory.fill(call.query)}" if call.query else url


def body_of(directory: Directory, call: Call) -> bytes:
    if isinstance(call.raw, bytes):
        return call.raw
    if call.raw is not None:
        return _encode(directory.fill(call.raw))
    if call.body is ABSENT:
        return b""
    # json.dumps escapes unpaired surrogates ("\ud800"), as Java and .NET serialisers do.
    return _encode(directory.fill(json.dumps(call.body)))


def send(directory: Directory, call: Call) -> Any:
    headers = {"User-Agent": call.user_agent}
    if call.authorization is not None:
        headers["Authorization"] = directory.fill(call.authorization)
    headers.update({name: directory.fill(value) for name, value in call.headers})
    # The path goes straight into PATH_INFO, percent-decoded as a WSGI server does: the test
    # client would read "//scim/…" as a host name and request "/v2/…" instead.
    path, _, query = url_of(directory, call).partition("?")
    try:
        with server_logs(directory.logged):
            return directory.scim.client.generic(
                call.method,
                "/",
                body_of(directory, call),
                content_type=call.content_type,
                headers=headers,
                PATH_INFO=unquote_to_bytes(path).decode("iso-8859-1"),
                QUERY_STRING=query,
            )
    except Exception as error:  # the test client re-raises what Django turned into a 500
        raise ServerFailure(f"{call!r} raised {error!r}: a 500") from _innermost(error)


class ServerFailure(AssertionError):
    """A request the server failed on. Raised from the exception the server logged, so that
    Hypothesis tells failures of different causes apart (it keys them by the place the cause
    was raised) and shrinks each on its own."""


def _innermost(error: BaseException | None, frames: int = 4) -> BaseException | None:
    """The error with only the last frames of its traceback: where it was raised, which is
    what tells failures apart, without the thousand frames of a RecursionError."""
    if error is None:
        return None
    tracebacks = []
    tb = error.__traceback__
    while tb is not None:
        tracebacks.append(tb)
        tb = tb.tb_next
    if tracebacks:
        error.__traceback__ = tracebacks[-min(frames, len(tracebacks))]
    return error


def check(directory: Directory, call: Call, response: Any) -> None:
    status = response.status_code
    content = response.content
    if status >= 500 and status != 501:
        cause = next((r.exc_info[1] for r in directory.logged if r.exc_info), None)
        raise ServerFailure(f"{call!r} answered {status}; logged: {cause!r}") from _innermost(cause)
    assert b"Traceback" not in content, content[:2000]
    if status >= 400:
        if call.method.upper() == "HEAD" and not content:
            assert response["Content-Type"].startswith(SCIM_TYPE), response["Content-Type"]
        else:
            assert_scim_error(response, status)
    if status >= 400 or call.method.upper() in READS:
        # A statement that failed outside the views' own transactions would make the snapshot
        # fail with a TransactionManagementError; say what it means instead.
        assert not connection.needs_rollback, (
            f"{call!r} answered {status} after a database error outside the view's transaction"
        )
        after = snapshot()
        changed = [name for name, rows in after.items() if rows != directory.baseline[name]]
        assert not changed, f"{call!r} answered {status} but changed {changed}"


def exchange(directory: Directory, call: Call) -> None:
    """Send one request in a transaction that is rolled back, and check its answer."""
    # The rate limits count in the cache, not the database: without this, a run's first few
    # hundred examples would use up the minute's allowance and the rest would all be 429s.
    cache.clear()
    with transaction.atomic():
        try:
            check(directory, call, send(directory, call))
        finally:
            transaction.set_rollback(True)


# --- text, JSON and names ----------------------------------------------------------------------

# Where strings go, these go too: unpaired surrogates (a 500 in json/psycopg), NUL (PostgreSQL
# text refuses it), combining marks and ligatures (case folding changes their length: "ﬁ".upper()
# is "FI"), bidirectional marks, emoji with joiners, the BOM, and lengths past every column.
SPECIAL_TEXT = [
    "\ud800",
    "\udfff",
    "a\udc00b",
    "\x00",
    "a\x00b",
    "e\u0301",
    "\u0301",
    "ﬁ",
    "ß",
    "İ",
    "ǅ",
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "\u00a0",
    "😀",
    "👩\u200d👩\u200d👧",
    "\uffff",
    "\U0010ffff",
    "\\",
    '"',
    "'",
    "%00",
    "%s",
    "\n",
    "\r\n",
    "\t",
    " ",
    "",
    "x" * 256,
    "é" * 300,
    "x" * 5000,
]
any_character = st.one_of(st.characters(), st.characters(categories=["Cs"]))
odd_text = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
    st.sampled_from(SPECIAL_TEXT),
    st.text(any_character, max_size=12),
    st.lists(
        st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(any_character, max_size=4)),
        min_size=2,
        max_size=4,
    ).map("".join),
)
# Header values as a WSGI server hands them over: Latin-1, no control characters (an HTTP
# server refuses those before Django sees them).
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(["True", "False", "true", "false", "1", "0", "yes", ""]),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**400]),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
)


def spelled(name: str) -> st.SearchStrategy[str]:
    """Attribute and parameter names are case-insensitive (RFC 7643 §2.1)."""
    return st.sampled_from(list(dict.fromkeys([name, name.lower(), name.upper()])))


USER_ATTRIBUTES = [
    "schemas",
    "id",
    "externalId",
    "userName",
    "name",
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    "addresses",
    "photos",
    "profileUrl",
    "password",
    "groups",
    "roles",
    "meta",
    ENTERPRISE,
    CUSTOM,
    ENTRA_EXTENSION,
]
GROUP_ATTRIBUTES = ["schemas", "id", "externalId", "displayName", "members", "meta"]
json_keys = st.one_of(st.sampled_from(USER_ATTRIBUTES + GROUP_ATTRIBUTES), odd_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(json_keys, inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def document(
    draw: st.DrawFn,
    fields: dict[str, st.SearchStrategy[Any]],
    required: tuple[str, ...] = (),
    extra: bool = True,
) -> dict[str, Any]:
    """A JSON object with some of these fields (names in any case), each a value of its own
    strategy or, now and then, any JSON value at all (a wrong type), and perhaps unknown keys.
    Mostly well-typed, so that most bodies get past type checks to the code behind them."""
    result: dict[str, Any] = {}
    for name, strategy in fields.items():
        if name in required or draw(st.booleans()):
            wrong_type = draw(st.integers(0, 7)) == 0
            result[draw(spelled(name))] = draw(json_values if wrong_type else strategy)
    if extra and draw(st.integers(0, 4)) == 0:
        result.update(draw(st.dictionaries(json_keys, json_values, max_size=2)))
    return result


# Ids of every kind: live, deactivated and deleted people, teams, another organisation's rows,
# unknown UUIDs and UUIDs spelled differently, and text that is no id at all.
NAMED_IDS = [
    "{alice}",
    "{bob}",
    "{carol}",
    "{dave}",
    "{admin}",
    "{eve}",
    "{engineering}",
    "{sales}",
    "{empty}",
    "{globex_team}",
]
ids = st.one_of(
    st.sampled_from(NAMED_IDS),
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.urn),
    st.sampled_from(["010101001010101011001010101011", "0", "-1", "null", "okta-alice"]),
    odd_text,
)
usernames = st.one_of(
    st.sampled_from(
        [
            "alice@acme.test",
            "ALICE@acme.test",
            "bob@acme.test",
            "carol@acme.test",
            "dave@acme.test",
            "eve@globex.test",
            "new.person@acme.test",
            "ﬁona@acme.test",
        ]
    ),
    odd_text,
)
team_names = st.one_of(
    st.sampled_from(["Engineering", "ENGINEERING", "Sales", "Globex Team", "New team", " "]),
    odd_text,
)


def values_list(
    value: st.SearchStrategy[Any], extra: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        document({"value": value, **extra}, required=("value",), extra=False), max_size=3
    )


emails = values_list(
    st.one_of(st.sampled_from(["new@acme.test", "alice@acme.test", "not an email"]), odd_text),
    {
        "type": st.sampled_from(["work", "home", "WORK", "other"]),
        "primary": st.sampled_from([True, False, "true", "False"]),
    },
)
phone_numbers = values_list(
    st.one_of(st.just("+44 20 7946 0000"), odd_text),
    {"type": st.sampled_from(["work", "mobile"]), "primary": st.booleans()},
)
booleans = st.sampled_from([True, False, "True", "False", "true", "false", "TRUE", " false "])
manager = st.one_of(
    # Okta: {value, displayName}; Entra: the id as a bare string, or {value} alone.
    document(
        {
            "value": st.one_of(ids, st.sampled_from(["okta-bob", "okta-alice", "okta-eve"])),
            "displayName": st.one_of(usernames, odd_text),
        },
        extra=False,
    ),
    ids,
)
enterprise = document(
    {
        "employeeNumber": st.one_of(st.just("E-1"), odd_text),
        "department": st.one_of(st.just("R&D"), odd_text),
        "manager": manager,
        "organization": odd_text,
        "costCenter": st.one_of(st.just("4130"), odd_text),
        "division": odd_text,
    }
)
# Values of every type, and text where a number or a boolean is expected (Entra's habit).
custom_scalars = st.one_of(
    scalars,
    st.sampled_from(["2024-05-01T09:00:00Z", "2024-05-01", "2024-05-01T09:00:00.5+02:00", "42"]),
    odd_text,
)
custom = document({name: custom_scalars for name in CUSTOM_ATTRIBUTES} | {"shoeSize": odd_text})
addresses = values_list(
    odd_text,
    {
        "type": st.sampled_from(["work", "home"]),
        "streetAddress": odd_text,
        "locality": st.one_of(st.just("London"), odd_text),
        "region": odd_text,
        "postalCode": odd_text,
        "country": st.sampled_from(["GB", "US", ""]),
        "formatted": odd_text,
        "primary": booleans,
    },
)
photos = values_list(
    st.one_of(st.just("https://photos.example/p.jpg"), odd_text),
    {"type": st.sampled_from(["photo", "thumbnail"]), "primary": booleans, "display": odd_text},
)
user_fields: dict[str, st.SearchStrategy[Any]] = {
    "schemas": st.one_of(
        st.just([CORE_USER]),
        st.just([CORE_USER, ENTERPRISE]),
        st.just([CORE_USER, ENTRA_EXTENSION]),
        st.lists(odd_text, max_size=2),
    ),
    "id": ids,
    "externalId": st.one_of(
        st.sampled_from(["okta-alice", "okta-dave", "okta-eve", "x"]), odd_text
    ),
    "userName": usernames,
    "name": document(
        {
            "givenName": odd_text,
            "familyName": odd_text,
            "formatted": odd_text,
            "middleName": odd_text,
            "honorificPrefix": odd_text,
            "honorificSuffix": odd_text,
        },
        extra=False,
    ),
    "displayName": odd_text,
    "nickName": odd_text,
    "profileUrl": st.one_of(st.just("https://intranet.example/jane"), odd_text),
    "userType": odd_text,
    "preferredLanguage": st.one_of(st.just("en-GB"), odd_text),
    "title": odd_text,
    "locale": st.one_of(st.just("en-GB"), odd_text),
    "timezone": st.one_of(st.just("Europe/London"), odd_text),
    "active": booleans,
    "emails": emails,
    "phoneNumbers": phone_numbers,
    "addresses": addresses,
    "photos": photos,
    "password": odd_text,
    "groups": values_list(ids, {"display": odd_text}),
    "roles": st.lists(odd_text, max_size=2),
    ENTERPRISE: enterprise,
    CUSTOM: custom,
    ENTRA_EXTENSION: st.dictionaries(odd_text, odd_text, max_size=2),
}
user_documents = document(user_fields, required=("userName",)) | document(user_fields)

members = values_list(
    ids, {"display": odd_text, "$ref": odd_text, "type": st.sampled_from(["User", "Group"])}
)
group_fields: dict[str, st.SearchStrategy[Any]] = {
    "schemas": st.one_of(st.just([CORE_GROUP]), st.lists(odd_text, max_size=2)),
    "id": ids,
    "externalId": odd_text,
    "displayName": team_names,
    # Bare ids too: some clients send members as a list of strings.
    "members": st.one_of(members, st.lists(ids, max_size=3)),
}
group_documents = document(group_fields, required=("displayName",)) | document(group_fields)

# Bodies that are not a JSON object, or no JSON at all. Deep nesting is written as text: the
# test's own json.dumps would hit the recursion limit first. Any depth, so that a failure
# shrinks to the smallest one that fails.
depths = st.one_of(st.sampled_from([32, 33, 1000, 100_000]), st.integers(1, 100_000))
broken_bodies = st.one_of(
    st.sampled_from(
        [
            "",
            "{",
            "[]",
            "null",
            "true",
            "1",
            '"text"',
            '[{"userName": "x@acme.test"}]',
            "{'userName': 'x'}",
            '{"userName":}',
            '{"userName": "x@acme.test"} trailing',
            '{"userName": NaN}',
            '{"userName": Infinity}',
            '{"userName": "n@acme.test", "active": 1e400}',
            '{"userName": 1e400}',
            '{"userName": "n@acme.test", "title": ' + "9" * 5000 + "}",
            '{"startIndex": 1e400, "count": -1e400}',
            '{"count": 99999999999999999999999}',
            '{"userName": "a@acme.test", "userName": "b@acme.test"}',
            '\ufeff{"userName": "bom@acme.test"}',
            '{"userName": "\\ud800"}',
            '{"displayName": "\\udfff"}',
            '{"userName": "\\u0000"}',
            '{"Operations": [{"op": "replace", "value": {"displayName": "\\ud83d"}}]}',
        ]
    ),
    depths.flatmap(
        lambda depth: st.sampled_from(
            [
                "[" * depth + "]" * depth,
                '{"a":' * depth + "1" + "}" * depth,
                '{"userName": "deep@acme.test", "name": '
                + '{"givenName": ' * depth
                + '"x"'
                + "}" * depth
                + "}",
                '{"displayName": "Deep", "members": ' + "[" * depth + "]" * depth + "}",
                '{"schemas": ["' + PATCH_OP + '"], "Operations": [{"op": "add", "path": "title", '
                '"value": ' + "[" * depth + "]" * depth + "}]}",
                '{"filter": ' + "[" * depth + "]" * depth + "}",
            ]
        )
    ),
    st.text(any_character, max_size=40),
    st.binary(max_size=40),
    st.sampled_from([b"\xff\xfe{\x00}\x00", b'{"userName": "\xc3"}', b"\xed\xa0\x80"]),
    json_values.map(json.dumps),
)


# --- PATCH -------------------------------------------------------------------------------------

op_names = st.sampled_from(
    [
        "add",
        "replace",
        "remove",
        "Add",
        "Replace",
        "Remove",
        "ADD",
        "REPLACE",
        "REMOVE",
        "copy",
        "move",
        "test",
        "",
        "delete",
    ]
)
filter_values = st.one_of(
    st.sampled_from(['"work"', '"home"', "true", "null", "1", '"{alice}"', '"{dave}"']),
    odd_text.map(json.dumps),
)
compare_ops = st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "xx"])
USER_PATHS = [
    "active",
    "userName",
    "USERNAME",
    "externalId",
    "displayName",
    "title",
    "locale",
    "name",
    "name.givenName",
    "name.familyName",
    "name.formatted",
    "emails",
    "emails.value",
    'emails[type eq "work"].value',
    'emails[type eq "work"]',
    'emails[type eq "home"].value',
    'emails[value co "@"]',
    'phoneNumbers[type eq "work"].value',
    'phoneNumbers[type eq "mobile"]',
    "emails[primary eq true].value",
    'addresses[type eq "work"].streetAddress',
    'addresses[type eq "work"].locality',
    'addresses[locality eq "London"]',
    "addresses",
    "photos",
    'photos[type eq "photo"].value',
    "name.middleName",
    "nickName",
    "profileUrl",
    f"{ENTERPRISE}:costCenter",
    f"{ENTERPRISE}:organization",
    "division",
    CUSTOM,
    *(f"{CUSTOM}:{name}" for name in CUSTOM_ATTRIBUTES),
    f"{CUSTOM}:shoeSize",
    "level",
    f"{ENTERPRISE}:manager",
    f"{ENTERPRISE}:manager.value",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:employeeNumber",
    ENTERPRISE,
    f"{CORE_USER}:userName",
    f"{CORE_USER}:name.givenName",
    f"{ENTRA_EXTENSION}:costCenter",
    "manager",
    "groups",
    "members",
    "id",
    "meta",
    "meta.lastModified",
    "password",
    "emails[",
    "emails[type eq]",
    "[",
    "emails]",
    "name..givenName",
    "urn:",
]
GROUP_PATHS = [
    "members",
    "Members",
    'members[value eq "{alice}"]',
    'members[value eq "{dave}"]',
    'members[value eq "{eve}"]',
    'members[value eq "{alice}" or value eq "{carol}"]',
    'members[value eq "{empty}"]',
    'members[type eq "User"]',
    'members[display eq "x"]',
    "members.value",
    'members[value eq "{alice}"].display',
    "displayName",
    "externalId",
    f"{CORE_GROUP}:displayName",
    "id",
    "meta",
    "emails",
    "members[",
]


def paths(known: list[str]) -> st.SearchStrategy[str]:
    attribute = st.sampled_from(
        ["emails", "phoneNumbers", "addresses", "photos", "members", "name", "groups", "x"]
    )
    filtered = st.builds(
        lambda a, op, v, sub: f"{a}[value {op} {v}]{sub}",
        attribute,
        compare_ops,
        filter_values,
        st.sampled_from(["", ".value", ".type", ".display"]),
    )
    return st.one_of(st.sampled_from(known), filtered, odd_text)


no_path_user_values = document(
    {
        **user_fields,
        # Okta's dotted keys in a no-path replace.
        "name.givenName": odd_text,
        "name.familyName": odd_text,
        f"{ENTERPRISE}:manager": manager,
        f"{ENTERPRISE}:department": odd_text,
        f"{ENTERPRISE}:costCenter": odd_text,
        'emails[type eq "work"].value': odd_text,
        'addresses[type eq "work"].locality': odd_text,
        **{f"{CUSTOM}:{name}": custom_scalars for name in CUSTOM_ATTRIBUTES},
    }
)
user_patch_values = st.one_of(
    booleans,
    usernames,
    odd_text,
    emails,
    addresses,
    manager,
    custom_scalars,
    custom,
    no_path_user_values,
    json_values,
)
group_patch_values = st.one_of(
    members,
    st.lists(ids, max_size=3),
    team_names,
    # Okta's rename: a no-path replace with id and displayName, re-sent with every push.
    document({"id": ids, "displayName": team_names, "members": members, "externalId": odd_text}),
    json_values,
)


def patch_bodies(
    path: st.SearchStrategy[str], value: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    operation = document({"op": op_names, "path": path, "value": value}, required=("op",))
    return document(
        {
            "schemas": st.one_of(
                st.just([PATCH_OP]),
                st.just([PATCH_OP.upper()]),
                st.just(PATCH_OP),
                st.just([PATCH_OP, ENTRA_EXTENSION]),
                st.lists(odd_text, max_size=2),
            ),
            "Operations": st.lists(operation, min_size=1, max_size=4),
        },
        required=("Operations",),
    )


user_patches = patch_bodies(paths(USER_PATHS), user_patch_values)
group_patches = patch_bodies(paths(GROUP_PATHS), group_patch_values)
# The vendors' usual shapes, whole, so that the generic ones are not the only ones tried.
VENDOR_PATCHES = [
    {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "{alice}"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@acme.test"},
        ],
    },
    {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "{dave}"}]}],
    },
    {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "remove", "path": 'members[value eq "{dave}"]'}],
    },
    {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "replace", "value": {"id": "{engineering}", "displayName": "Engineering"}},
            {"op": "add", "path": "members", "value": [{"value": "{carol}", "display": "c"}]},
        ],
    },
]


# --- queries -----------------------------------------------------------------------------------

FILTER_ATTRIBUTES = [
    "userName",
    "USERNAME",
    "id",
    "externalId",
    "displayName",
    "name.givenName",
    "name.familyName",
    "name",
    "title",
    "active",
    "emails",
    "emails.value",
    "emails.type",
    "phoneNumbers.value",
    "groups",
    "groups.value",
    "groups.display",
    "groups.$ref",
    "meta.created",
    "meta.lastModified",
    "meta.resourceType",
    "meta.version",
    "employeeNumber",
    "department",
    "manager",
    "manager.value",
    "manager.displayName",
    "manager.$ref",
    f"{ENTERPRISE}:manager.value",
    f"{ENTERPRISE}:department",
    f"{CORE_USER}:userName",
    "members",
    "members.value",
    "members.type",
    "members.$ref",
    "password",
    "nickName",
    "name.middleName",
    "userType",
    "addresses.streetAddress",
    "addresses.locality",
    "addresses.primary",
    "photos.value",
    "emails.primary",
    f"{ENTERPRISE}:costCenter",
    "organization",
    "division",
    *(f"{CUSTOM}:{name}" for name in CUSTOM_ATTRIBUTES),
    *CUSTOM_ATTRIBUTES,
    f"{CUSTOM}:shoeSize",
    "urn:unknown:attribute",
    "émail",
]
attribute_names = st.one_of(st.sampled_from(FILTER_ATTRIBUTES), odd_text)
comparison_values = st.one_of(
    filter_values,
    st.sampled_from(
        [
            "false",
            "-1.5",
            "1e400",
            '"2024-01-01T00:00:00Z"',
            '"2024-13-45T99:99:99Z"',
            '"alice@acme.test"',
            '"okta-alice"',
            "bare",
            "'single'",
            '"unterminated',
        ]
    ),
)
attribute_expressions = st.one_of(
    st.builds(lambda a, op, v: f"{a} {op} {v}", attribute_names, compare_ops, comparison_values),
    st.builds(lambda a: f"{a} pr", attribute_names),
)


def combined_filters(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """RFC 7644 §3.4.2.2: "not", "and"/"or", parentheses and value paths over filters."""
    return st.one_of(
        inner.map(lambda f: f"({f})"),
        inner.map(lambda f: f"not ({f})"),
        st.builds(
            lambda x, y, c: f"{x} {c} {y}",
            inner,
            inner,
            st.sampled_from(["and", "or", "AND", "Or"]),
        ),
        st.builds(
            lambda a, f, sub: f"{a}[{f}]{sub}",
            st.sampled_from(
                ["emails", "members", "groups", "phoneNumbers", "addresses", "photos", "name", "x"]
            ),
            inner,
            st.sampled_from(["", ".value", ".type", ".locality", ".primary"]),
        ),
    )


filters = st.recursive(attribute_expressions, combined_filters, max_leaves=5)
filter_texts = st.one_of(filters, odd_text)
numbers = st.one_of(
    st.sampled_from(
        [
            "1",
            "0",
            "-1",
            "2",
            "9223372036854775807",
            "9223372036854775808",
            "99999999999999999999999",
            "-99999999999999999999",
            "1e3",
            "1.5",
            "abc",
            "",
            " 7",
            "+3",
            "0x10",
            "١٢",
            "9" * 5000,
        ]
    ),
    st.integers().map(str),
)
attribute_lists = st.lists(attribute_names, max_size=3).map(",".join)
QUERY_PARAMETERS: dict[str, st.SearchStrategy[str]] = {
    "filter": filter_texts,
    "startIndex": numbers,
    "count": numbers,
    "attributes": attribute_lists,
    "excludedAttributes": attribute_lists,
    "sortBy": attribute_names,
    "sortOrder": st.one_of(st.sampled_from(["ascending", "descending", "DESC", ""]), odd_text),
    "cursor": st.one_of(st.just(""), odd_text),
}


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    # A few parameters at a time, so that one refused parameter does not hide the others.
    names = draw(st.lists(st.sampled_from(list(QUERY_PARAMETERS)), max_size=3, unique=True))
    pairs = [(draw(spelled(name)), draw(QUERY_PARAMETERS[name])) for name in names]
    pairs += draw(st.lists(st.tuples(odd_text, odd_text), max_size=1))
    query = "&".join(
        f"{quote(_encode(name), safe='')}={quote(_encode(value), safe='')}" for name, value in pairs
    )
    # Now and then, what a careless client writes: stray escapes and separators.
    noise = draw(st.sampled_from(["", "", "", "&&", "&filter", "&=x", "&filter=%zz", "&count=%ff"]))
    return query + noise


search_bodies = document(
    {
        "schemas": st.one_of(st.just([SEARCH_REQUEST]), st.lists(odd_text, max_size=2)),
        "filter": filter_texts,
        "startIndex": st.one_of(st.integers(), numbers),
        "count": st.one_of(st.integers(), numbers),
        "attributes": st.one_of(st.lists(attribute_names, max_size=3), attribute_lists),
        "excludedAttributes": st.one_of(st.lists(attribute_names, max_size=3), attribute_lists),
        "sortBy": attribute_names,
        "sortOrder": st.sampled_from(["ascending", "descending", "sideways"]),
    }
)


# --- headers, methods and paths ----------------------------------------------------------------

authorizations = st.one_of(
    st.sampled_from(
        [
            "Bearer {key}",
            "{key}",
            "bearer {key}",
            "Bearer  {key} ",
            "Bearer {globex_key}",
            "{globex_key}",
            "Bearer {key_prefix}",
            "Bearer {key}x",
            "Bearer",
            "",
            "Bearer wrong-key-wrong-key",
            "Basic dXNlcjpwYXNz",
            "Bearer {key} {key}",
        ]
    ),
    st.none(),
    header_text,
)
content_types = st.one_of(
    st.sampled_from(
        [
            SCIM_TYPE,
            "application/json",
            "application/scim+json; charset=utf-8",
            "application/json; charset=UTF-8",
            "application/scim+json; charset=utf-16",
            "application/json; charset=latin-1",
            "application/json; charset=bogus",
            "APPLICATION/SCIM+JSON",
            "application/scim+json;",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/xml",
            "*/*",
        ]
    ),
    header_text,
)
conditional_headers = st.lists(
    st.tuples(
        # Not Content-Length: an HTTP server refuses a wrong one before Django sees it.
        st.sampled_from(["If-Match", "If-None-Match", "Accept", "Accept-Charset"]),
        st.one_of(
            st.sampled_from(
                [
                    "*",
                    "{etag_alice}",
                    "{etag_engineering}",
                    'W/"x"',
                    '"x"',
                    "{etag_alice}, *",
                    "application/xml",
                    "text/html",
                    "*/*;q=0",
                    "iso-8859-1",
                ]
            ),
            header_text,
        ),
    ),
    max_size=2,
).map(tuple)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    st.sampled_from(["TRACE", "CONNECT", "PROPFIND", "MERGE", "get", "Patch", "FOO"]),
    st.text(st.characters(categories=["Lu", "Ll"], max_codepoint=0x7F), min_size=1, max_size=8),
)
segments = st.one_of(
    ids,
    st.sampled_from(
        [".search", "", ".", "..", "%2F", "%00", "%ff", "%zz", "%", "%2e%2e", ";x", "User", "Group"]
    ),
    st.sampled_from([CORE_USER, ENTERPRISE, CORE_GROUP, "urn:nope"]),
)
RESOURCE_PATHS = [
    "Users",
    "Users/",
    "Users/{id}",
    "Users/{id}/",
    "Users//{id}",
    "Users/{id}/{id2}",
    "Users/.search",
    "Users//.search",
    "Groups",
    "Groups/{id}",
    "Groups/{id}/{id2}",
    "Groups//{id}",
    "Groups/.search",
    "ServiceProviderConfig",
    "ServiceProviderConfig/{id}",
    "ResourceTypes",
    "ResourceTypes/{id}",
    "Schemas",
    "Schemas/{id}",
    "Me",
    "Me/{id}",
    "Bulk",
    ".search",
    "",
    "/",
    "{id}",
    "{id}/{id2}",
    "users",
    "USERS/{id}",
    "/scim/v2/{globex}/Users",
    "/scim/v2/{globex}/Users/{id}",
    "/scim/v2/{org}",
    "/scim/v2/{org}Users",
    "/scim/v2/00000000000000000000/Users",
    "/scim/v2/{id}/Users",
    "/scim/v2/",
    "/scim/v2",
    "/scim/",
    "/scim",
    "//scim/v2/{org}/Users",
    "/scim/v2/{org}/Users/{id}",
    "/scim/limits/",
    "/scim/limits/{id}",
]
paths_under_tenant = (
    st.builds(
        lambda template, first, second: template.replace("{id}", first).replace("{id2}", second),
        st.sampled_from(RESOURCE_PATHS),
        segments,
        segments,
    )
    | odd_text
)


def any_body(draw: st.DrawFn) -> dict[str, Any]:
    """A body of any kind, as the keyword arguments of Call."""
    kind = draw(st.sampled_from(["none", "user", "group", "patch", "search", "broken"]))
    if kind == "none":
        return {}
    if kind == "broken":
        return {"raw": draw(broken_bodies)}
    strategy = {
        "user": user_documents,
        "group": group_documents,
        "patch": st.one_of(user_patches, group_patches),
        "search": search_bodies,
    }[kind]
    return {"body": draw(strategy)}


@st.composite
def any_calls(draw: st.DrawFn) -> Call:
    return Call(
        method=draw(methods),
        path=draw(paths_under_tenant),
        query=draw(st.one_of(st.just(""), query_strings())),
        content_type=draw(content_types),
        authorization=draw(authorizations),
        headers=draw(conditional_headers),
        user_agent=draw(st.sampled_from([OKTA_AGENT, ENTRA_AGENT, ""])),
        **any_body(draw),
    )


@st.composite
def writes(
    draw: st.DrawFn, collection: str, bodies: st.SearchStrategy[Any], verbs: list[str]
) -> Call:
    """A write of one resource type: a body of its kind (or a broken one), with the headers a
    client adds, to the collection or one of its ids."""
    method = draw(st.sampled_from(verbs))
    target = collection if method == "POST" and draw(st.booleans()) else f"{collection}/{{id}}"
    body = {"raw": draw(broken_bodies)} if draw(st.integers(0, 5)) == 0 else {"body": draw(bodies)}
    return Call(
        method=method,
        path=target.replace("{id}", draw(ids)),
        content_type=draw(st.sampled_from([SCIM_TYPE, "application/json"])),
        headers=draw(st.one_of(st.just(()), conditional_headers)),
        user_agent=draw(st.sampled_from([OKTA_AGENT, ENTRA_AGENT])),
        **body,
    )


# --- the properties ----------------------------------------------------------------------------


@given(call=writes("Users", user_documents, ["POST", "PUT"]))
def test_user_bodies_never_fail_the_server_nor_half_apply(directory, call):
    exchange(directory, call)


@given(call=writes("Groups", group_documents, ["POST", "PUT"]))
def test_group_bodies_never_fail_the_server_nor_half_apply(directory, call):
    exchange(directory, call)


@given(
    call=st.one_of(
        writes("Users", st.one_of(user_patches, st.sampled_from(VENDOR_PATCHES)), ["PATCH"]),
        writes("Groups", st.one_of(group_patches, st.sampled_from(VENDOR_PATCHES)), ["PATCH"]),
    )
)
def test_patch_operations_never_fail_the_server_nor_half_apply(directory, call):
    exchange(directory, call)


@st.composite
def reads(draw: st.DrawFn) -> Call:
    collection = draw(st.sampled_from(["Users", "Groups"]))
    if draw(st.integers(0, 3)) == 0:
        return Call("POST", f"{collection}/.search", body=draw(search_bodies))
    path = collection if draw(st.integers(0, 3)) else f"{collection}/{draw(ids)}"
    return Call("GET", path, query=draw(query_strings()))


@given(call=reads())
def test_queries_and_filters_never_fail_the_server(directory, call):
    exchange(directory, call)


@given(call=any_calls())
def test_any_method_path_and_headers_are_answered_in_scim_format(directory, call):
    exchange(directory, call)


def test_placeholders_name_the_directory(directory):
    """The fixture itself: each placeholder is filled, and the baseline is what the checks
    compare with."""
    assert "{" not in directory.fill(" ".join(f"{{{name}}}" for name in directory.values))
    assert len(directory.baseline["User"]) == 6 and len(directory.baseline["Team"]) == 4
    assert uuid.UUID(directory.values["dave"])
    exchange(directory, Call("GET", "Users/{dave}"))  # a 404 SCIM error, nothing changed
