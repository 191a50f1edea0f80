"""Cursor pagination (RFC 9865) on /Users and /Groups: keyset pages, opaque and tamper-evident
cursors bound to the organisation and the query, and the RFC's errors."""

import re
import time
import urllib.parse
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from scim import cursors
from scim.cursors import Binding, Position
from tests import factories
from tests.factories import SYSTEM
from tests.scim.conftest import assert_scim_error

pytestmark = pytest.mark.django_db
UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]+")


def page(scim: Any, resource: str, cursor: str, **params: Any) -> dict[str, Any]:
    query = urllib.parse.urlencode({"cursor": cursor, **params})
    response = scim.get(f"{resource}?{query}")
    assert response.status_code == 200, response.content
    document: dict[str, Any] = response.json()
    return document


def walk(scim: Any, resource: str, count: int, **params: Any) -> list[str]:
    """Every id of a forward walk from the empty cursor to the last page."""
    seen: list[str] = []
    document = page(scim, resource, "", count=count, **params)
    while True:
        seen += [item["id"] for item in document["Resources"]]
        if "nextCursor" not in document:
            return seen
        document = page(scim, resource, document["nextCursor"], count=count, **params)


def test_a_walk_returns_everyone_once_in_pages_without_totals(scim, org):
    people = [factories.user(org, f"p{i}@acme.test") for i in range(7)]
    first = page(scim, "Users", "", count=3)
    assert first["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert first["itemsPerPage"] == 3 and len(first["Resources"]) == 3
    # RFC 9865 §2: totalResults is optional with cursors; startIndex belongs to the other way.
    assert "totalResults" not in first and "startIndex" not in first
    assert "previousCursor" not in first
    assert UNRESERVED.fullmatch(first["nextCursor"])
    assert walk(scim, "Users", 3) == [str(p.public_id) for p in people]


def test_previous_cursor_goes_back_to_the_same_rows(scim, org):
    for i in range(7):
        factories.user(org, f"p{i}@acme.test")
    first = page(scim, "Users", "", count=3)
    second = page(scim, "Users", first["nextCursor"], count=3)
    third = page(scim, "Users", second["nextCursor"], count=3)
    assert len(third["Resources"]) == 1 and "nextCursor" not in third
    back = page(scim, "Users", third["previousCursor"], count=3)
    assert [r["id"] for r in back["Resources"]] == [r["id"] for r in second["Resources"]]
    back_again = page(scim, "Users", back["previousCursor"], count=3)
    assert [r["id"] for r in back_again["Resources"]] == [r["id"] for r in first["Resources"]]
    assert "previousCursor" not in back_again  # nothing before the first page
    forward = page(scim, "Users", back_again["nextCursor"], count=3)
    assert [r["id"] for r in forward["Resources"]] == [r["id"] for r in second["Resources"]]


def test_people_created_and_deleted_during_a_walk_do_not_shift_anyone(scim, org):
    """Keyset, not offset: deleting people already seen and adding new ones between pages
    neither skips nor repeats anyone who existed for the whole walk."""
    people = [factories.user(org, f"p{i}@acme.test") for i in range(9)]
    first = page(scim, "Users", "", count=3)
    seen = [r["id"] for r in first["Resources"]]
    for gone in people[:3]:  # everyone of the first page leaves
        services.user_delete(user=gone, actor=SYSTEM)
    late = factories.user(org, "late@acme.test")
    document = page(scim, "Users", first["nextCursor"], count=3)
    while True:
        seen += [r["id"] for r in document["Resources"]]
        if "nextCursor" not in document:
            break
        document = page(scim, "Users", document["nextCursor"], count=3)
    assert seen == [str(p.public_id) for p in people] + [str(late.public_id)]


def test_a_cursor_page_reads_what_the_first_page_reads(scim, org):
    factories.many_users(org, 30)
    first = page(scim, "Users", "", count=5)
    with CaptureQueriesContext(connection) as at_start:
        page(scim, "Users", "", count=5)
    cursor = first["nextCursor"]
    for _ in range(4):
        cursor = page(scim, "Users", cursor, count=5)["nextCursor"]
    with CaptureQueriesContext(connection) as deep:
        page(scim, "Users", cursor, count=5)
    assert len(deep) == len(at_start)
    # No COUNT of the directory and no OFFSET on a cursor page.
    sql = " ".join(q["sql"] for q in deep.captured_queries).upper()
    assert "COUNT(" not in sql and "OFFSET" not in sql


def test_a_filter_walk_stays_within_the_filter(scim, org):
    for i in range(5):
        factories.user(org, f"p{i}@acme.test", title="Nurse" if i % 2 else "Chef")
    ids = walk(scim, "Users", 1, filter='title eq "Nurse"')
    assert len(ids) == 2


def test_groups_page_by_cursor_too(scim, org):
    teams = [factories.team(org, f"Team {i}") for i in range(5)]
    assert walk(scim, "Groups", 2) == [str(t.public_id) for t in teams]
    document = page(scim, "Groups", "", count=2, excludedAttributes="members")
    assert all("members" not in r for r in document["Resources"])


def test_search_requests_take_a_cursor(scim, org):
    people = [factories.user(org, f"p{i}@acme.test") for i in range(3)]
    response = scim.post("Users/.search", {"cursor": "", "count": 2})
    assert response.status_code == 200, response.content
    first = response.json()
    assert [r["id"] for r in first["Resources"]] == [str(p.public_id) for p in people[:2]]
    second = scim.post("Users/.search", {"cursor": first["nextCursor"], "count": 2}).json()
    assert [r["id"] for r in second["Resources"]] == [str(people[2].public_id)]


def test_index_pagination_stays_the_default(scim, org):
    factories.user(org, "a@acme.test")
    document = scim.get("Users").json()
    assert document["totalResults"] == 1 and document["startIndex"] == 1
    assert "nextCursor" not in document


def test_service_provider_config_describes_both(scim):
    pagination = scim.get("ServiceProviderConfig").json()["pagination"]
    assert pagination == {
        "cursor": True,
        "index": True,
        "defaultPaginationMethod": "index",
        "defaultPageSize": 100,
        "maxPageSize": 1000,
        "cursorTimeout": cursors.CURSOR_TIMEOUT_SECONDS,
    }


# --- refused cursors -----------------------------------------------------------------------


def first_cursor(scim: Any, org: Any, resource: str = "Users", **params: Any) -> str:
    for i in range(3):
        factories.user(org, f"c{i}@{org.slug}.test", title="Chef")
        factories.team(org, f"C{i}")
    cursor: str = page(scim, resource, "", count=1, **params)["nextCursor"]
    return cursor


def assert_refused(scim: Any, resource: str, cursor: str, scim_type: str, **params: Any) -> None:
    query = urllib.parse.urlencode({"cursor": cursor, "count": 1, **params})
    assert_scim_error(scim.get(f"{resource}?{query}"), 400, scim_type)


def test_another_organisations_cursor_is_refused(scim, other_scim, org, other_org):
    cursor = first_cursor(scim, org)
    for i in range(3):
        factories.user(other_org, f"o{i}@globex.test")
    assert_refused(other_scim, "Users", cursor, "invalidCursor")


def test_a_cursor_for_another_filter_or_endpoint_is_refused(scim, org):
    cursor = first_cursor(scim, org, filter='title eq "Chef"')
    assert_refused(scim, "Users", cursor, "invalidCursor")  # no filter now
    assert_refused(scim, "Users", cursor, "invalidCursor", filter='title eq "Nurse"')
    unfiltered = page(scim, "Users", "", count=1)["nextCursor"]
    assert_refused(scim, "Groups", unfiltered, "invalidCursor")
    # The same filter is the same query: the walk goes on.
    second = page(scim, "Users", cursor, count=1, filter='title eq "Chef"')["Resources"]
    assert [r["userName"] for r in second] == ["c1@acme.test"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # the signature
        lambda c: ("p" if c[0] == "n" else "n") + c[1:],  # the direction
        lambda c: c.replace("-", "9-", 1),  # the edge row
        lambda c: c + "x",
        lambda c: c.split(".")[0] + ".abc.def",
    ],
)
def test_an_edited_cursor_is_refused(scim, org, edit):
    cursor = first_cursor(scim, org)
    edited = edit(cursor)
    assert edited != cursor
    assert_refused(scim, "Users", edited, "invalidCursor")


@pytest.mark.parametrize(
    "raw",
    ["not a cursor", "a/b", "%00", "é", "x" * 201, "n1-00", "..", "n1-" + "0" * 20 + ".x.y"],
)
def test_what_we_never_issued_is_refused_whatever_it_looks_like(scim, org, raw):
    factories.user(org, "a@acme.test")
    assert_refused(scim, "Users", raw, "invalidCursor")


def test_an_old_cursor_has_expired(scim, org, monkeypatch):
    binding = Binding(org.pk, "User", "")
    issued_at = time.time() - cursors.CURSOR_TIMEOUT_SECONDS - 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: issued_at)
    old = cursors.issue(Position(1, backwards=False), binding)
    monkeypatch.undo()
    factories.user(org, "a@acme.test")
    document = assert_refused_document(scim, old)
    assert document["scimType"] == "expiredCursor"
    assert "60 minutes" in document["detail"]


def assert_refused_document(scim: Any, cursor: str) -> dict[str, Any]:
    query = urllib.parse.urlencode({"cursor": cursor})
    return assert_scim_error(scim.get(f"Users?{query}"), 400, "expiredCursor")


def test_a_cursor_carries_no_personal_data(scim, org):
    factories.user(org, "dana.smith@acme.test", title="Nurse")
    factories.user(org, "eve.jones@acme.test", title="Nurse")
    cursor = page(
        scim, "Users", "", count=1, filter='userName sw "dana.smith@acme.test" or title eq "Nurse"'
    )["nextCursor"]
    payload = cursor.split(".")[0]
    assert "dana" not in cursor.lower() and "nurse" not in cursor.lower()
    assert re.fullmatch(r"n[0-9]+-[0-9a-f]{20}", payload)


@pytest.mark.parametrize("count", ["1001", "-1"])
def test_a_count_outside_the_page_sizes_is_invalid_count(scim, org, count):
    factories.user(org, "a@acme.test")
    query = urllib.parse.urlencode({"cursor": "", "count": count})
    assert_scim_error(scim.get(f"Users?{query}"), 400, "invalidCount")


@pytest.mark.parametrize("extra", [{"startIndex": "2"}, {"sortBy": "userName"}])
def test_cursor_with_start_index_or_sorting_is_refused_plainly(scim, org, extra):
    factories.user(org, "a@acme.test")
    query = urllib.parse.urlencode({"cursor": "", **extra})
    document = assert_scim_error(scim.get(f"Users?{query}"), 400, "invalidValue")
    assert next(iter(extra)) in document["detail"]


def test_a_search_cursor_of_the_wrong_type_is_refused(scim, org):
    factories.user(org, "a@acme.test")
    assert_scim_error(scim.post("Users/.search", {"cursor": 5}), 400, "invalidValue")
    assert_scim_error(scim.post("Users/.search", {"cursor": ["x"]}), 400, "invalidValue")


def test_without_a_key_no_cursor_page_is_served(scim, org):
    cursor = first_cursor(scim, org)
    response = scim.get(f"Users?cursor={cursor}", authorization="Bearer wrong")
    assert_scim_error(response, 401)
