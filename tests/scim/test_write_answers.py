"""A PUT's or PATCH's answer is the person as stored: whether it is rendered from the row the
request locked and changed (scim.views.users: most changes) or read again (a new manager, the
organisation's own attributes), the next GET shows exactly the same document and version."""

from typing import Any

import pytest

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
