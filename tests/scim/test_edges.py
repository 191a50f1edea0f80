"""Whatever reaches the SCIM API's edge is answered in SCIM's format and never with a 5xx: odd
text, deep nesting, huge numbers, odd paths and methods, and failures outside the views."""

import io
import json
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from django.test import Client, override_settings

from accounts.models import AuditEvent, Team, TeamMembership, User
from scim import activity, query
from scim.api import ScimView
from scim.errors import ScimError, invalid_value
from scim.models import ScimRequest
from scim.patch import PATCH_OP
from scim.rendering import MAX_DEPTH, ScimJSONParser, ScimJSONRenderer
from scim.schema import CORE_USER, ENTERPRISE_USER
from tests import factories
from tests.scim.conftest import (
    ENTRA_AGENT,
    OKTA_AGENT,
    SCIM_TYPE,
    ScimClient,
    assert_scim_error,
)

SURROGATE = "\ud800"  # json.dumps writes it as the escape "\ud800", as a careless client does
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "FOO"]


@pytest.fixture
def people(org) -> dict[str, Any]:
    manager = factories.user(org, "manager@acme.test")
    user = factories.user(org, "target@acme.test")
    team = factories.team(org, "Target", members=[user])
    return {"user": user.public_id, "team": team.public_id, "manager": manager.public_id}


@pytest.fixture
def quiet(scim) -> ScimClient:
    """The same client, given the response Django's error handlers make of an exception
    rather than the exception (as a real client would be)."""
    scim.client = Client(raise_request_exception=False)
    return scim


def snapshot() -> dict[str, Any]:
    """Everything a write could change, to compare before and after a refused request."""
    return {
        "users": list(User.objects.order_by("pk").values()),
        "teams": list(Team.objects.order_by("pk").values()),
        "memberships": list(TeamMembership.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def nested(depth: int, inner: str = "1", *, key: str | None = None) -> str:
    """JSON text nested ``depth`` levels deep, built as text: json.dumps itself recurses."""
    if key is None:
        return "[" * depth + inner + "]" * depth
    return f'{{"{key}":' * depth + inner + "}" * depth


def send(scim: ScimClient, method: str, path: str, raw: str = "", *, key: bool = True) -> Any:
    """A request for exactly this path: the test client would read "//scim/…" as a host
    name, so the path goes straight into PATH_INFO, percent-decoded as a WSGI server does."""
    url = path if path.startswith("/") else f"{scim.base}/{path}"
    headers = {"Authorization": f"Bearer {scim.key}" if key else "", "User-Agent": OKTA_AGENT}
    return scim.client.generic(
        method,
        "/",
        raw,
        content_type=SCIM_TYPE,
        headers=headers,
        PATH_INFO=unquote_to_bytes(url).decode("iso-8859-1"),
    )


def patch_body(**operation: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [operation]}


RAW = "<raw JSON>"


def with_raw(document: dict[str, Any], raw: str) -> str:
    """The document as JSON text, with the string RAW replaced by ``raw``."""
    return json.dumps(document).replace(json.dumps(RAW), raw)


# --- 1. Text PostgreSQL cannot store: refused once, as the body is parsed ---

BAD_TEXT = [f"a{SURROGATE}b", "\udfff", "\udc00\ud800", "a\x00b"]

# (method, path, body) with {text} where the bad text goes: values, keys, PATCH paths, searches.
UNSTORABLE_BODIES = [
    ("POST", "Users", {"userName": "new@acme.test", "displayName": "{text}"}),
    ("POST", "Users", {"userName": "{text}"}),
    ("POST", "Users", {"userName": "new@acme.test", "nick{text}Name": "x"}),
    ("POST", "Users", {"userName": "new@acme.test", "name": {"givenName": "{text}"}}),
    ("POST", "Users", {"userName": "new@acme.test", "emails": [{"value": "{text}"}]}),
    ("POST", "Users", {"userName": "new@acme.test", ENTERPRISE_USER: {"department": "{text}"}}),
    ("PUT", "Users/{user}", {"userName": "target@acme.test", "displayName": "{text}"}),
    ("PATCH", "Users/{user}", patch_body(op="replace", path="displayName", value="{text}")),
    ("PATCH", "Users/{user}", patch_body(op="replace", path="name.given{text}")),
    ("PATCH", "Users/{user}", patch_body(op="re{text}place", value={"active": False})),
    ("PATCH", "Users/{user}", patch_body(op="replace", value={"{text}": "x"})),
    ("POST", "Groups", {"displayName": "{text}"}),
    ("PUT", "Groups/{team}", {"displayName": "Target", "members": [{"value": "{text}"}]}),
    ("PATCH", "Groups/{team}", patch_body(op="add", path="members", value=[{"value": "{text}"}])),
    ("POST", "Users/.search", {"filter": 'userName eq "{text}"'}),
    ("POST", "Groups/.search", {"attributes": ["displayName", "{text}"]}),
]


def _with_text(value: Any, text: str) -> Any:
    if isinstance(value, str):
        return value.replace("{text}", text)
    if isinstance(value, list):
        return [_with_text(item, text) for item in value]
    if isinstance(value, dict):
        return {_with_text(k, text): _with_text(v, text) for k, v in value.items()}
    return value


@pytest.mark.parametrize("text", BAD_TEXT)
@pytest.mark.parametrize(("method", "path", "body"), UNSTORABLE_BODIES)
def test_text_the_database_cannot_store_is_refused_anywhere_in_a_body(
    scim, people, method, path, body, text
):
    before = snapshot()
    raw = json.dumps(_with_text(body, text))
    assert "\\u" in raw  # sent as a JSON escape, as a client would
    for content_type in (SCIM_TYPE, "application/json"):  # Okta sends the latter
        response = scim.request(method, path.format(**people), raw=raw, content_type=content_type)
        document = assert_scim_error(response, 400, "invalidValue")
        expected = "NUL character" if "\x00" in text else "unpaired UTF-16 surrogate"
        assert expected in document["detail"]
    assert snapshot() == before


def test_refused_text_is_logged_without_the_text(scim, people):
    raw = json.dumps({"userName": "new@acme.test", "displayName": f"a{SURROGATE}\x00"})
    assert_scim_error(scim.request("POST", "Users", raw=raw), 400, "invalidValue")
    entry = ScimRequest.objects.get(organisation=scim.organisation, method="POST")
    assert entry.status == 400
    assert "surrogate" in entry.explanation
    assert entry.summary == {}  # the refused body is not kept


def test_a_nul_in_the_query_string_is_refused(scim, people):
    before = snapshot()
    for query_string in ["attributes=userName%00", "sortBy=%00", "filter=userName%20pr%00"]:
        assert_scim_error(scim.get(f"Users?{query_string}"), 400, "invalidValue")
    assert snapshot() == before


def test_a_surrogate_pair_is_a_character_and_is_kept(scim, people):
    raw = json.dumps({"userName": "smile@acme.test", "displayName": "Smile \U0001f600"})
    assert "\\ud83d\\ude00" in raw  # the escaped pair, not a lone half
    response = scim.request("POST", "Users", raw=raw)
    assert response.status_code == 201, response.content
    assert response.json()["displayName"] == "Smile \U0001f600"
    assert User.objects.get(username="smile@acme.test").display_name == "Smile \U0001f600"


def test_an_encoded_surrogate_in_the_body_bytes_is_not_json(scim, people):
    before = snapshot()
    raw = b'{"userName": "a\xed\xa0\x80b"}'  # UTF-8 cannot hold a surrogate either
    response = scim.client.generic(
        "POST",
        f"{scim.base}/Users",
        raw,
        content_type=SCIM_TYPE,
        headers={"Authorization": f"Bearer {scim.key}"},
    )
    assert_scim_error(response, 400, "invalidSyntax")
    assert snapshot() == before


# --- 2. The error path itself never fails ---


def test_the_renderer_writes_any_text_as_escapes_when_utf8_cannot():
    renderer = ScimJSONRenderer()
    rendered = renderer.render({"detail": f"No user {SURROGATE}\x00 here", "plain": "é"})
    assert json.loads(rendered) == {"detail": f"No user {SURROGATE}\x00 here", "plain": "é"}
    assert renderer.render({"plain": "é"}) == '{"plain":"é"}'.encode()  # the usual path


def test_a_detail_echoing_a_surrogate_is_answered_and_logged(scim, people, monkeypatch):
    def echo(document: Any, *args: Any) -> Any:
        raise invalid_value(f'"displayName" cannot be "a{SURROGATE}b".')

    monkeypatch.setattr("scim.users.parse", echo)
    before = snapshot()
    response = scim.post("Users", {"userName": "new@acme.test"})
    document = assert_scim_error(response, 400, "invalidValue")
    assert document["detail"] == f'"displayName" cannot be "a{SURROGATE}b".'
    assert snapshot() == before
    entry = ScimRequest.objects.get(organisation=scim.organisation, method="POST")
    assert entry.explanation.endswith('"displayName" cannot be "a\ufffdb".')


def test_the_request_log_replaces_what_the_database_cannot_hold(org):
    entry = activity.record(
        organisation=org,
        client="Okta",
        key_prefix="",
        method=f"F{SURROGATE}O\x00" * 5,
        path=f"/scim/v2/x/Users/{SURROGATE}\x00",
        status=404,
        started=0.0,
        finished=0.0,
        target=activity.Target(resource_type="User", resource_id=f"id{SURROGATE}", label="\x00"),
        body={f"k{SURROGATE}": [f"v\x00{SURROGATE}"]},
        explanation=f"no {SURROGATE}\x00",
    )
    entry.refresh_from_db()
    assert entry.path == "/scim/v2/x/Users/\ufffd\ufffd"
    assert entry.method == "F\ufffdO\ufffdF\ufffdO\ufffdF\ufffd"
    assert entry.resource_id == "id\ufffd" and entry.resource_label == "\ufffd"
    assert entry.summary == {"k\ufffd": ["v\ufffd\ufffd"]}
    assert entry.explanation == "no \ufffd\ufffd"


class Explode(Exception):
    pass


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise Explode("boom")


def test_a_failing_renderer_is_answered_with_a_scim_500(quiet, people, monkeypatch):
    monkeypatch.setattr(ScimJSONRenderer, "render", _explode)
    before = snapshot()
    assert_scim_error(quiet.get("Users"), 500)
    assert_scim_error(quiet.patch(f"Users/{people['user']}", {"Operations": []}), 500)
    assert snapshot()["users"] == before["users"]


def test_a_failure_in_finalize_response_is_answered_with_a_scim_500(quiet, people, monkeypatch):
    monkeypatch.setattr(ScimView, "finalize_response", _explode)
    before = snapshot()
    for method, path in [("GET", "Users"), ("GET", "Users/nobody"), ("PATCH", "Groups/x")]:
        assert_scim_error(quiet.request(method, path), 500)
    assert snapshot() == before


def test_a_failure_in_the_request_log_keeps_the_answer(scim, people, monkeypatch):
    monkeypatch.setattr(activity, "record", _explode)
    assert scim.get(f"Users/{people['user']}").status_code == 200
    assert_scim_error(scim.get("Users/nobody"), 404)


def test_a_failure_while_parsing_is_answered_with_a_scim_500(quiet, people, monkeypatch):
    monkeypatch.setattr(ScimJSONParser, "parse", _explode)
    before = snapshot()
    assert_scim_error(quiet.post("Users", {"userName": "new@acme.test"}), 500)
    assert snapshot() == before


class ExplodeAfterTheView:
    """A middleware that fails once the view has answered."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        self.get_response(request)
        raise Explode("after the view")


def test_a_middleware_failing_after_the_view_is_answered_with_a_scim_500(quiet, people, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ExplodeAfterTheView"]
    for path in ("Users", f"Users/{people['user']}", "Nonsense", "//scim/v2/x"):
        document = assert_scim_error(send(quiet, "GET", path), 500)
        assert document["detail"].startswith("Something went wrong on our side")


def test_outside_scim_the_site_keeps_its_own_error_pages(db, settings):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.ExplodeAfterTheView"]):
        response = Client(raise_request_exception=False).get("/sign-in/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_a_host_we_do_not_serve_gets_a_scim_400_under_scim(db):
    response = Client().get("/scim/v2/whatever/Users", headers={"Host": "evil.example"})
    assert_scim_error(response, 400)


# --- 3. Deep nesting: refused at parse time, never a RecursionError ---


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "Users", nested(5000)),
        ("POST", "Users", nested(5000, key="a")),
        ("POST", "Users", with_raw({"userName": "new@acme.test", "x": RAW}, nested(5000))),
        ("POST", "Users", with_raw({"userName": "new@acme.test", "x": RAW}, nested(500))),
        # One level too many: the object itself is the first.
        ("POST", "Users", with_raw({"userName": "new@acme.test", "x": RAW}, nested(MAX_DEPTH))),
        (
            "PATCH",
            "Users/{user}",
            with_raw(
                patch_body(op="replace", path="displayName", value=RAW),
                nested(3000, "{}", key="a"),
            ),
        ),
        (
            "PATCH",
            "Groups/{team}",
            with_raw(
                patch_body(op="add", path="members", value=RAW), nested(3000, '{"value": "x"}')
            ),
        ),
        ("PUT", "Groups/{team}", with_raw({"displayName": "Target", "members": RAW}, nested(2000))),
        ("POST", "Users/.search", with_raw({"filter": RAW}, nested(5000, '"x"'))),
        ("POST", "Groups/.search", nested(5000, key="filter")),
    ],
)
def test_a_body_nested_too_deep_is_a_400(scim, people, method, path, raw):
    before = snapshot()
    response = scim.request(method, path.format(**people), raw=raw)
    document = assert_scim_error(response, 400, "invalidValue")
    assert f"more than {MAX_DEPTH} levels" in document["detail"]
    assert snapshot() == before


def test_a_deep_body_that_never_closes_is_a_400(scim, people):
    before = snapshot()
    response = scim.request("POST", "Users", raw="[" * 5000)
    document = assert_scim_error(response, 400)
    assert document["scimType"] in ("invalidValue", "invalidSyntax")
    assert snapshot() == before


def _parse(text: str) -> Any:
    return ScimJSONParser().parse(io.BytesIO(text.encode()), SCIM_TYPE, {})


@pytest.mark.parametrize("shape", [None, "a"])
def test_the_parser_takes_exactly_max_depth_levels(shape):
    assert _parse(nested(MAX_DEPTH, key=shape)) is not None
    with pytest.raises(ScimError) as refused:
        _parse(nested(MAX_DEPTH + 1, key=shape))
    assert refused.value.status == 400 and refused.value.scim_type == "invalidValue"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400 + ".5"])
def test_a_number_too_large_for_a_float_is_refused(scim, people, number):
    before = snapshot()
    raw = with_raw({"userName": "new@acme.test", "x": RAW}, number)
    assert_scim_error(scim.request("POST", "Users", raw=raw), 400, "invalidValue")
    assert snapshot() == before


@pytest.mark.parametrize("raw", ['{"userName": NaN}', '{"userName": Infinity}', "{"])
def test_what_is_not_json_is_invalid_syntax(scim, people, raw):
    before = snapshot()
    assert_scim_error(scim.request("POST", "Users", raw=raw), 400, "invalidSyntax")
    assert snapshot() == before


def test_the_deepest_bodies_okta_and_entra_send_still_pass(scim, people):
    manager = {"value": str(people["manager"])}
    okta_manager = patch_body(op="replace", value={ENTERPRISE_USER: {"manager": manager}})
    response = scim.patch(f"Users/{people['user']}", okta_manager)
    assert response.status_code == 200, response.content
    assert response.json()[ENTERPRISE_USER]["manager"]["value"] == str(people["manager"])
    entra_put = {
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "userName": "target@acme.test",
        "name": {"givenName": "Tara", "familyName": "Target"},
        "emails": [{"value": "target@acme.test", "type": "work", "primary": True}],
        ENTERPRISE_USER: {"department": "Sales", "manager": {"value": str(people["manager"])}},
    }
    scim.user_agent = ENTRA_AGENT
    response = scim.put(f"Users/{people['user']}", entra_put)
    assert response.status_code == 200, response.content


def test_the_request_log_summary_of_any_depth_is_bounded():
    deep: Any = "bottom"
    for _ in range(10_000):  # far beyond the recursion limit, built without recursing
        deep = [deep]
    summary = activity.summarise({"a": deep})
    flat = json.dumps(summary, ensure_ascii=False)
    assert "bottom" not in flat and "…" in flat and flat.count("[") <= activity.MAX_DEPTH + 1


# --- 4. Huge numbers in paging: no database error can come from a client's number ---

HUGE = "99999999999999999999999"


def listed(resource: str) -> int:
    rows = User.objects.filter(deleted_at=None) if resource == "Users" else Team.objects
    return rows.count()


@pytest.mark.parametrize("resource", ["Users", "Groups"])
@pytest.mark.parametrize(
    "start", [HUGE, str(2**63), str(query.MAX_OFFSET + 2), str(query.MAX_OFFSET + 1)]
)
def test_a_start_index_past_every_result_is_an_empty_page(scim, people, resource, start):
    total = listed(resource)
    response = scim.get(f"{resource}?startIndex={start}&count=1000")
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["totalResults"] == total
    assert document["Resources"] == [] and document["itemsPerPage"] == 0
    assert document["startIndex"] == int(start)


@pytest.mark.parametrize("resource", ["Users", "Groups"])
def test_huge_and_tiny_paging_numbers_are_brought_into_range(scim, people, resource):
    total = listed(resource)
    everything = scim.get(f"{resource}?count={HUGE}").json()
    assert everything["itemsPerPage"] == total == everything["totalResults"]
    from_the_start = scim.get(f"{resource}?startIndex=-{HUGE}&count=1").json()
    assert from_the_start["startIndex"] == 1 and from_the_start["itemsPerPage"] == 1
    nothing = scim.get(f"{resource}?count=-{HUGE}").json()
    assert nothing["itemsPerPage"] == 0 and nothing["totalResults"] == total


@pytest.mark.parametrize("value", ["1e30", "1.5", "abc", "9" * 5000])
def test_a_paging_parameter_that_is_not_a_whole_number_is_a_400(scim, people, value):
    assert_scim_error(scim.get(f"Users?startIndex={value}"), 400, "invalidValue")
    assert_scim_error(scim.get(f"Groups?count={value}"), 400, "invalidValue")


@pytest.mark.parametrize("resource", ["Users", "Groups"])
@pytest.mark.parametrize("start", ["1e30", str(10**30), "1.0e25", "9223372036854775808"])
def test_a_search_with_a_huge_start_index_is_an_empty_page(scim, people, resource, start):
    raw = '{"startIndex": ' + start + ', "count": 1e30}'
    response = scim.request("POST", f"{resource}/.search", raw=raw)
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["Resources"] == []
    assert document["totalResults"] == listed(resource)


def test_a_search_takes_whole_numbers_written_as_floats(scim, people):
    response = scim.request("POST", "Users/.search", raw='{"startIndex": 2.0, "count": 1E0}')
    document = response.json()
    assert (document["startIndex"], document["itemsPerPage"]) == (2, 1)


@pytest.mark.parametrize("raw", ['{"startIndex": 1.5}', '{"count": 0.1}', '{"count": 1e-30}'])
def test_a_search_with_a_fractional_number_is_a_400(scim, people, raw):
    document = assert_scim_error(scim.request("POST", "Users/.search", raw=raw), 400)
    assert document["scimType"] == "invalidValue" and "whole number" in document["detail"]


# --- 5. Everything under the SCIM base answers in SCIM's format ---

ODD_PATHS = [
    "Users//x",
    "Users//x//",
    "/scim/v2/{org}//Users//x",
    "//scim/v2/{org}/Users",
    "///scim",
    "Users/%2Fx",
    "Users%2F..%2F..%2Fadmin",
    "Users%0A",
    "Users/%0A",
    "Users/x%0Ay",
    "/scim/%0A",
    "/scim/v2%0A",
    "Users/x%00",
    "Users/%00",
    "Users/%ED%A0%80",
    "Users/%C3%28",
    "Users/%ZZ",
    "Users/" + "a" * 5000,
    "x" * 5000,
    "Users.",
    "Users/x.",
    "Users/.",
    "Users/..",
    "Users/.search.",
    "Users/.search/x",
    "Groups/%E2%80%A8",
    "Schemas/%0A",
    "ResourceTypes/" + "%FF" * 100,
    "/scim/v2/{org}/../{org}/Users/x",
    "/scim",
    "/scim/",
    "/scim/v2",
    "/scim/v2/",
    "/scim/v2/{org}",
    "/scim/v2/{org}/",
    "/scim/v2/{org_upper}/Users",
    "/scim/v2/not-an-organisation/Users",
    "/scim/limits/x",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_every_path_and_method_under_scim_answers_in_scim_format(quiet, people, path):
    before = snapshot()
    organisation = quiet.organisation.public_id
    url = path.format(org=organisation, org_upper=organisation.upper())
    for method in METHODS:
        for with_key in (True, False):
            response = send(quiet, method, url, '{"userName": "x"}', key=with_key)
            asked = f"{method} {url[:80]} {'with' if with_key else 'without'} a key"
            assert response.status_code < 500, asked
            assert not 300 <= response.status_code < 400, asked
            assert response["Content-Type"].startswith(SCIM_TYPE), asked
            if method == "HEAD":
                continue
            if response.status_code >= 400:
                assert_scim_error(response, response.status_code)
            else:  # a read or a search, through a path that still names one
                assert method in ("GET", "POST") and response.json()["schemas"], asked
    assert snapshot() == before


@pytest.mark.parametrize("method", ["OPTIONS", "FOO", "TRACE", "PROPFIND"])
@pytest.mark.parametrize("path", ["Users", "Users/{user}", "Groups/{team}", "Schemas", "Bulk"])
def test_a_method_scim_does_not_define_is_a_405(scim, people, method, path):
    before = snapshot()
    assert_scim_error(scim.request(method, path.format(**people), raw="{}"), 405)
    assert snapshot() == before


@pytest.mark.parametrize("path", ["Users/{user}", "Groups/{team}"])
def test_post_to_a_resource_url_is_a_405(scim, people, path):
    before = snapshot()
    response = scim.post(path.format(**people), {"userName": "new@acme.test"})
    assert_scim_error(response, 405)
    assert snapshot() == before


def test_head_answers_like_get_without_a_body(scim, people):
    response = scim.request("HEAD", "Users")
    assert response.status_code == 200 and response["Content-Type"].startswith(SCIM_TYPE)
    assert response.content == b""
    missing = scim.request("HEAD", "Users/nobody")
    assert missing.status_code == 404 and missing["Content-Type"].startswith(SCIM_TYPE)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", ""])
def test_a_content_length_that_is_not_a_number_is_no_failure(scim, people, length):
    before = snapshot()
    response = scim.client.generic(
        "POST",
        f"{scim.base}/Users",
        '{"userName": "new@acme.test"}',
        content_type=SCIM_TYPE,
        headers={"Authorization": f"Bearer {scim.key}"},
        CONTENT_LENGTH=length,
    )
    assert_scim_error(response, 400)  # Django reads no body: a POST without userName
    assert snapshot() == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/scim+json; charset=bz2_codec",
        "application/scim+json; charset=rot13",
        "application/json; charset=hex",
    ],
)
def test_a_body_in_a_charset_we_cannot_read_is_invalid_syntax(scim, people, content_type):
    before = snapshot()
    response = scim.request(
        "POST", "Users", raw='{"userName": "new@acme.test"}', content_type=content_type
    )
    assert_scim_error(response, 400, "invalidSyntax")
    assert snapshot() == before


# --- 6. The limits are documented ---


def test_the_limits_page_states_the_nesting_limit_and_the_text_rule(client, db):
    page = client.get("/scim/limits/").content.decode()
    assert f"nested at most {MAX_DEPTH} levels deep" in page
    assert "unpaired UTF-16 surrogate" in page
    assert "past the last result gets an empty page" in page
