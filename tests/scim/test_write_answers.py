"""A PUT's or PATCH's answer is the person as stored: whether it is rendered from the row the
request locked and changed (scim.views.users: most changes) or read again (a new manager, the
organisation's own attributes), the next GET shows exactly the same document and version."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from tests import factories
from tests.scim.test_custom_attributes_api import CUSTOM, define

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@pytest.fixture
def person(org):
    define(org)
    boss = factories.user(org, "boss@acme.test")
    user = factories.user(org, "lee@acme.test", given_name="Lee", title="Engineer")
    services.user_set_manager(user=user, actor=factories.SYSTEM, manager=boss)
    team = factories.team(org, "Sales")
    services.team_add_members(team=team, actor=factories.SYSTEM, users=[user])
    return user


def _put_body(person, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [CORE],
        "userName": person.username,
        "name": {"givenName": "Lee", "familyName": "Smith"},
        "title": "Engineer",
        "active": True,
    }
    body.update(changes)
    return body


CHANGES = {
    "PATCH active false (Okta's deactivation)": (
        "PATCH",
        patch({"op": "replace", "value": {"active": False}}),
    ),
    "PATCH title (Entra's shape)": (
        "PATCH",
        patch({"op": "Replace", "path": "title", "value": "Lead"}),
    ),
    "PATCH that changes nothing": (
        "PATCH",
        patch({"op": "replace", "path": "title", "value": "Engineer"}),
    ),
    "PATCH a new manager, nobody yet": (
        "PATCH",
        patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "nobody-yet"}}),
    ),
    "PATCH the organisation's own attribute": (
        "PATCH",
        patch({"op": "replace", "path": f"{CUSTOM}:fte", "value": "0.8"}),
    ),
    "PUT without the enterprise extension": ("PUT", None),
    "PUT with the enterprise extension, no manager (removed)": (
        "PUT",
        {ENTERPRISE: {"department": "R&D"}},
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_the_answer_is_what_a_get_reads_afterwards(scim, person, change):
    method, body = CHANGES[change]
    if method == "PUT":
        body = _put_body(person, **(body or {}))
    path = f"Users/{person.public_id}"
    before = scim.get(path).json()

    answer = scim.request(method, path, body)

    assert answer.status_code == 200, answer.content
    after = scim.get(path)
    assert answer.json() == after.json()
    assert answer["ETag"] == after["ETag"] == after.json()["meta"]["version"]
    assert after.json()["groups"] == before["groups"]  # the teams are part of the answer


WHOLE: dict[str, Any] = {
    "schemas": [CORE, ENTERPRISE],
    "userName": "Ada.Byron@Acme.test",
    "externalId": "00u42",
    "name": {"givenName": "Ada", "familyName": "Byron", "formatted": "Ada Byron"},
    "displayName": "Ada",
    "title": "Analyst",
    "emails": [{"value": "ada@acme.test", "type": "work", "primary": True}],
    "phoneNumbers": [{"value": "+44 20 1234", "type": "mobile"}],
    "addresses": [{"locality": "London", "country": "GB", "type": "work"}],
    ENTERPRISE: {"department": "Maths", "employeeNumber": "7"},
}

POSTS: dict[str, tuple[dict[str, Any], str]] = {
    "a new person, every attribute": ({}, "created"),
    "a new person, inactive": ({"active": False}, "created"),
    "a new person with a manager": (
        {ENTERPRISE: {"manager": {"value": "boss-ext", "displayName": "boss@acme.test"}}},
        "read again",
    ),
    "a new person with a manager not there yet": (
        {ENTERPRISE: {"manager": {"value": "nobody-yet"}}},
        "read again",
    ),
    "the organisation's own attribute": ({CUSTOM: {"fte": "0.5"}}, "read again"),
    "a deactivated person coming back with their team": ({"revive": True}, "read again"),
}


@pytest.mark.parametrize("case", POSTS, ids=list(POSTS))
def test_a_create_s_answer_is_what_a_get_reads_afterwards(scim, org, case):
    define(org)
    factories.user(org, "boss@acme.test", external_id="boss-ext")
    changes, path = POSTS[case]
    body: dict[str, Any] = {**WHOLE, **changes}
    if body.pop("revive", False):
        earlier = factories.user(org, "ada.byron@acme.test", external_id="00u42")
        services.team_add_members(
            team=factories.team(org, "Sales"), actor=factories.SYSTEM, users=[earlier]
        )
        services.user_deactivate(user=earlier, actor=factories.SYSTEM)

    with CaptureQueriesContext(connection) as captured:
        answer = scim.post("Users", body)

    assert answer.status_code == 201, answer.content
    statements = [query["sql"] for query in captured.captured_queries]
    written = max(
        n
        for n, sql in enumerate(statements)
        if sql.startswith('INSERT INTO "accounts_user"') or sql.startswith('UPDATE "accounts_user"')
    )
    rendered_by_a_read = any('"scim_manager_id"' in sql for sql in statements[written:])
    assert rendered_by_a_read is (path == "read again")
    after = scim.get(f"Users/{answer.json()['id']}")
    assert answer.json() == after.json()
    assert answer["ETag"] == after["ETag"] == after.json()["meta"]["version"]
    assert answer["Location"] == after.json()["meta"]["location"]
