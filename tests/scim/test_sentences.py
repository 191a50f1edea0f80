"""The Activity tab's sentences (scim.sentences): what each request did, from what the log keeps.
Pure: the bodies Okta and Entra really send, no database."""

from typing import Any

import pytest

from scim.sentences import facts_of, is_listing, lookup_of, sentence

BASE = "/scim/v2/0123456789abcdef0123"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def said(
    method: str,
    path: str,
    body: Any = None,
    *,
    status: int = 200,
    client: str = "Okta",
    resource_type: str = "",
    label: str = "",
    name: str = "",
    answer: Any = None,
    explanation: str = "",
) -> str:
    """The sentence of a request, with the facts taken at write time as the log takes them."""
    full = BASE + path
    facts = facts_of(method=method, path=full, body=body, answer=answer)
    if not label and is_listing(method, full):
        label = lookup_of(full, body)
    return sentence(
        client=client,
        method=method,
        path=full,
        status=status,
        resource_type=resource_type,
        label=label,
        name=name,
        facts=facts,
        explanation=explanation,
    )


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


USER = "/Users/2819c223-7f76-453a-919d-413861904646"
GROUP = "/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a"


@pytest.mark.parametrize(
    ("client", "body"),
    [
        ("Okta", patch({"op": "replace", "value": {"active": False}})),
        ("Microsoft Entra ID", patch({"op": "Replace", "path": "active", "value": "False"})),
    ],
)
def test_a_deactivation_in_either_shape_says_who_deactivated_whom(client, body):
    text = said("PATCH", USER, body, client=client, resource_type="User", name="Dana Smith")

    assert text == f"{'Entra' if client != 'Okta' else 'Okta'} deactivated Dana Smith."


def test_an_okta_aiw_put_with_active_false_is_a_deactivation():
    body = {"userName": "dana@demo.test", "active": False, "name": {"givenName": "Dana"}}

    assert said("PUT", USER, body, resource_type="User") == "Okta deactivated Dana."


def test_a_patch_of_active_true_alone_is_a_reactivation_but_not_with_other_changes():
    alone = patch({"op": "replace", "value": {"active": True}})
    more = patch(
        {"op": "replace", "path": "active", "value": True},
        {"op": "replace", "path": "title", "value": "CTO"},
    )

    assert said("PATCH", USER, alone, resource_type="User", name="Dana Smith") == (
        "Okta reactivated Dana Smith."
    )
    assert said("PATCH", USER, more, resource_type="User", name="Dana Smith") == (
        "Okta updated Dana Smith."
    )


def test_a_post_names_the_person_from_the_body_and_a_delete_from_the_label():
    body = {"userName": "dana@demo.test", "name": {"givenName": "Dana", "familyName": "Smith"}}

    assert (
        said("POST", "/Users", body, status=201, resource_type="User") == "Okta added Dana Smith."
    )
    assert (
        said("DELETE", USER, status=204, client="Microsoft Entra ID", label="dana@demo.test")
        == "Entra deleted dana@demo.test."
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Okta's group push: an add with the member list (and the name re-sent).
        (
            patch(
                {"op": "replace", "value": {"id": "x", "displayName": "Sales"}},
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": "a"}, {"value": "b"}, {"value": "c"}],
                },
            ),
            "Okta added 3 people to Sales.",
        ),
        (
            patch({"op": "remove", "path": 'members[value eq "a"]'}),
            "Okta removed 1 person from Sales.",
        ),
        # Entra's removal by value list.
        (
            patch({"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}),
            "Okta removed 2 people from Sales.",
        ),
        (
            patch(
                {"op": "Add", "path": "members", "value": [{"value": "a"}]},
                {"op": "Remove", "path": "members", "value": [{"value": "b"}]},
            ),
            "Okta added 1 person to Sales and removed 1.",
        ),
        (
            patch({"op": "replace", "path": "members", "value": []}),
            "Okta set the members of Sales: 0 people.",
        ),
        (
            patch({"op": "replace", "path": "displayName", "value": "Sales"}),
            "Okta updated team Sales.",
        ),
    ],
)
def test_team_changes_are_counted(body, expected):
    assert said("PATCH", GROUP, body, status=204, resource_type="Group", label="Sales") == expected


def test_a_put_of_a_team_sets_its_members_and_a_post_creates_it():
    members = {"displayName": "Sales", "members": [{"value": "a"}, {"value": "b"}]}

    assert said("PUT", GROUP, members, resource_type="Group", label="Sales") == (
        "Okta set the members of Sales: 2 people."
    )
    assert said("POST", "/Groups", members, status=201, resource_type="Group", label="Sales") == (
        "Okta created team Sales with 2 people."
    )


@pytest.mark.parametrize(("returned", "outcome"), [(0, "not found"), (1, "found")])
def test_a_lookup_by_filter_says_what_it_looked_for_and_whether_it_was_found(returned, outcome):
    path = "/Users?filter=userName%20eq%20%22dana%40demo.test%22&startIndex=1&count=100"
    answer = {"totalResults": returned, "Resources": [{}] * returned}

    assert said("GET", path, answer=answer, resource_type="User") == (
        f"Okta looked up dana@demo.test: {outcome}."
    )


def test_a_search_post_is_a_lookup_too_and_a_team_lookup_says_team():
    answer = {"totalResults": 0, "Resources": []}
    body = {"filter": 'displayName eq "Sales \\"EU\\""'}

    assert said("POST", "/Groups/.search", body, answer=answer, resource_type="Group") == (
        'Okta looked up team Sales "EU": not found.'
    )


def test_a_page_of_people_says_how_many_of_how_many():
    answer = {"totalResults": 40, "Resources": [{}, {}]}

    assert said("GET", "/Users?startIndex=1&count=2", answer=answer) == (
        "Okta read 2 of 40 people."
    )


def test_refusals_are_in_plain_words():
    explained = "Okta tried to create user dana@demo.test, but: the userName is taken."

    assert said("POST", "/Users", {}, status=409, explanation=explained) == explained
    assert said("GET", "/Users", status=429).startswith(
        "Okta sent more requests than the rate limit allows"
    )
    assert said("GET", "/Users", status=500) == "Okta's request was refused (500)."
    assert said("GET", "/ServiceProviderConfig") == (
        "Okta read what the service supports (ServiceProviderConfig)."
    )


def test_odd_bodies_give_no_facts_and_no_error():
    bodies: list[Any] = [
        None,
        [],
        "text",
        {"Operations": "x"},
        {"Operations": [1, None, {"op": 3}]},
    ]
    for body in bodies:
        assert said("PATCH", USER, body, resource_type="User", label="x") == "Okta updated x."
        assert (
            said("PATCH", GROUP, body, resource_type="Group", label="T") == "Okta updated team T."
        )


def test_facts_never_keep_the_password():
    body = {"userName": "dana@demo.test", "password": "hunter2", "active": True}

    facts = facts_of(method="POST", path=BASE + "/Users", body=body, answer=None)

    assert "hunter2" not in str(facts)
    assert facts == {"active": True}
