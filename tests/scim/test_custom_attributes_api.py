"""The organisation's own attributes over SCIM (issue 13, item 2): published as one extension of
User, set by Okta and Entra in every shape, filtered and sorted like core attributes, and read
from the database only where they are needed."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import CustomAttribute, User
from scim.models import ScimRequest
from tests import factories
from tests.scim.conftest import assert_scim_error, scim_client_for

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

ATTRIBUTES = [
    ("costCode", "string", "Cost centre code"),
    ("mentor", "boolean", "Mentors new starters"),
    ("level", "integer", "Grade"),
    ("fte", "decimal", "Full-time equivalent"),
    ("hireDate", "dateTime", "First day"),
]


def define(organisation, attributes=ATTRIBUTES) -> None:
    for name, type_, description in attributes:
        services.custom_attribute_add(
            organisation=organisation,
            actor=factories.SYSTEM,
            name=name,
            type=type_,
            description=description,
        )


@pytest.fixture
def defined(org):
    define(org)
    return org


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def okta_user(username: str = "jane@acme.test", **custom: Any) -> dict[str, Any]:
    """Okta's SCIM 2.0 app with custom attributes in its profile whose external namespace is
    our extension: they arrive in an object under the extension's URN (Okta SCIM 2.0 guide)."""
    body: dict[str, Any] = {
        "schemas": [CORE, CUSTOM],
        "userName": username,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "active": True,
    }
    if custom:
        body[CUSTOM] = custom
    return body


def filtered(scim, text: str, **params: Any) -> Any:
    return scim.client.get(
        f"{scim.base}/Users",
        {"filter": text, **params},
        headers={"Authorization": f"Bearer {scim.key}"},
    )


# --- published per organisation ------------------------------------------------------------------


def test_the_extension_is_published_with_the_organisations_attributes_and_types(scim, defined):
    user_type = scim.get("ResourceTypes/User").json()
    assert user_type["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False},
        {"schema": CUSTOM, "required": False},
    ]
    listed = {s["id"] for s in scim.get("Schemas").json()["Resources"]}
    assert CUSTOM in listed
    schema = scim.get(f"Schemas/{CUSTOM}").json()
    assert schema["id"] == CUSTOM
    assert [
        (a["name"], a["type"], a["description"], a["multiValued"], a["mutability"])
        for a in schema["attributes"]
    ] == sorted(
        [(name, type_, description, False, "readWrite") for name, type_, description in ATTRIBUTES]
    )
    string = next(a for a in schema["attributes"] if a["type"] == "string")
    assert string["caseExact"] is False


def test_an_organisation_without_attributes_publishes_no_extension(scim, other_org):
    define(other_org)  # another organisation's attributes are not this one's
    assert scim.get("ResourceTypes/User").json()["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False}
    ]
    assert CUSTOM not in {s["id"] for s in scim.get("Schemas").json()["Resources"]}
    assert_scim_error(scim.get(f"Schemas/{CUSTOM}"), 404)


def test_each_organisation_sees_only_its_own_attributes(scim, defined, other_org):
    other = scim_client_for(other_org)
    define(other_org, [("badge", "string", "")])

    assert [a["name"] for a in other.get(f"Schemas/{CUSTOM}").json()["attributes"]] == ["badge"]
    assert len(scim.get(f"Schemas/{CUSTOM}").json()["attributes"]) == len(ATTRIBUTES)


# --- set in every Okta and Entra shape, given back ----------------------------------------------

VALUES: dict[str, Any] = {
    "costCode": "CC-4130",
    "mentor": True,
    "level": 7,
    "fte": 0.8,
    "hireDate": "2026-01-31T09:00:00Z",
}


def test_okta_post_sets_them_and_get_gives_them_back(scim, defined):
    response = scim.post("Users", okta_user(**VALUES))

    assert response.status_code == 201, response.content
    document = scim.get(f"Users/{response.json()['id']}").json()
    assert document[CUSTOM] == VALUES
    assert document["schemas"] == [CORE, ENTERPRISE, CUSTOM]
    assert User.objects.get(username="jane@acme.test").custom_attributes == VALUES


def test_names_are_matched_ignoring_case_and_kept_as_the_organisation_wrote_them(scim, defined):
    response = scim.post("Users", okta_user(COSTCODE="CC-1", Mentor="false"))

    assert response.json()[CUSTOM] == {"costCode": "CC-1", "mentor": False}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        # Entra sends booleans and numbers as text at times (Microsoft SCIM guide).
        (
            {"mentor": "True", "level": "42", "fte": "12.50"},
            {"mentor": True, "level": 42, "fte": 12.5},
        ),
        (
            {"mentor": "false", "level": " -3 ", "fte": 2},
            {"mentor": False, "level": -3, "fte": 2.0},
        ),
        # A dateTime is kept in UTC; a date alone is its midnight (accounts.custom_attributes).
        ({"hireDate": "2026-01-31T10:00:00+01:00"}, {"hireDate": "2026-01-31T09:00:00Z"}),
        ({"hireDate": "2026-01-31"}, {"hireDate": "2026-01-31T00:00:00Z"}),
    ],
)
def test_values_are_read_as_their_types(entra, defined, sent, kept):
    response = entra.post("Users", okta_user(**sent))

    assert response.json()[CUSTOM] == kept


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param(
            [
                {"op": "Add", "path": f"{CUSTOM}:costCode", "value": "CC-9"},
                {"op": "Replace", "path": f"{CUSTOM}:level", "value": "8"},
                {"op": "Replace", "path": f"{CUSTOM}:mentor", "value": "False"},
            ],
            id="entra-paths",
        ),
        pytest.param(
            [
                {
                    "op": "Replace",
                    "value": {
                        f"{CUSTOM}:costCode": "CC-9",
                        f"{CUSTOM}:level": 8,
                        f"{CUSTOM}:mentor": False,
                    },
                }
            ],
            id="entra-no-path-urn-keys",
        ),
        pytest.param(
            [
                {
                    "op": "replace",
                    "value": {CUSTOM: {"costCode": "CC-9", "level": 8, "mentor": False}},
                }
            ],
            id="okta-no-path-extension-object",
        ),
        pytest.param(
            [
                {
                    "op": "add",
                    "path": CUSTOM,
                    "value": {"costCode": "CC-9", "level": 8, "mentor": False},
                }
            ],
            id="extension-urn-path",
        ),
        pytest.param(
            [
                {"op": "replace", "path": "costCode", "value": "CC-9"},
                {"op": "replace", "path": "LEVEL", "value": 8},
                {"op": "replace", "value": {"mentor": "false"}},
            ],
            id="unqualified-names",
        ),
    ],
)
def test_patch_sets_them_in_every_shape_and_leaves_the_others(scim, defined, operations):
    user_id = scim.post("Users", okta_user(**VALUES)).json()["id"]

    response = scim.patch(f"Users/{user_id}", patch(*operations))

    assert response.status_code == 200, response.content
    expected = VALUES | {"costCode": "CC-9", "level": 8, "mentor": False}
    assert response.json()[CUSTOM] == expected
    assert User.objects.get(public_id=user_id).custom_attributes == expected


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": f"{CUSTOM}:fte"},
        {"op": "Replace", "path": f"{CUSTOM}:fte", "value": ""},
        {"op": "replace", "value": {f"{CUSTOM}:fte": None}},
    ],
)
def test_patch_clears_one(scim, defined, operation):
    user_id = scim.post("Users", okta_user(**VALUES)).json()["id"]

    document = scim.patch(f"Users/{user_id}", patch(operation)).json()

    assert document[CUSTOM] == {k: v for k, v in VALUES.items() if k != "fte"}


def test_removing_the_extension_clears_them_all(scim, defined):
    user_id = scim.post("Users", okta_user(**VALUES)).json()["id"]

    document = scim.patch(f"Users/{user_id}", patch({"op": "remove", "path": CUSTOM})).json()

    assert CUSTOM not in document and CUSTOM not in document["schemas"]
    assert User.objects.get(public_id=user_id).custom_attributes == {}


def test_put_without_the_extension_keeps_them_and_with_it_replaces_them(scim, defined):
    user_id = scim.post("Users", okta_user(**VALUES)).json()["id"]
    body = okta_user()
    body["schemas"] = [CORE]

    assert scim.put(f"Users/{user_id}", body).json()[CUSTOM] == VALUES

    replaced = scim.put(f"Users/{user_id}", okta_user(level=9)).json()
    assert replaced[CUSTOM] == {"level": 9}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("level", "seven", "must be a whole number"),
        ("level", 7.5, "must be a whole number"),
        ("mentor", "yes", "must be true or false"),
        ("mentor", 1, "must be true or false"),
        ("fte", "lots", "must be a number"),
        ("hireDate", "next Tuesday", "must be a date and time"),
        ("costCode", 4130, "must be text"),
        ("costCode", "x" * 2049, "must be text"),
    ],
)
def test_a_value_of_the_wrong_type_is_invalid_value_naming_it_and_changes_nothing(
    scim, defined, name, value, words
):
    user_id = scim.post("Users", okta_user(**VALUES)).json()["id"]
    before = scim.get(f"Users/{user_id}").json()

    for response in (
        scim.post("Users", okta_user("new@acme.test", **{name: value})),
        scim.put(f"Users/{user_id}", okta_user(**{name: value})),
        scim.patch(
            f"Users/{user_id}", patch({"op": "add", "path": f"{CUSTOM}:{name}", "value": value})
        ),
    ):
        detail = assert_scim_error(response, 400, "invalidValue")["detail"]
        assert name in detail
    assert (
        f'"{CUSTOM}:{name}" {words}'
        in assert_scim_error(scim.post("Users", okta_user("new@acme.test", **{name: value})), 400)[
            "detail"
        ]
    )
    assert scim.get(f"Users/{user_id}").json() == before
    assert not User.objects.filter(username="new@acme.test").exists()


def test_an_attribute_the_organisation_lacks_is_ignored_and_noted(entra, defined):
    response = entra.post("Users", okta_user(costCode="CC-1", shoeSize="42"))

    assert response.status_code == 201
    assert response.json()[CUSTOM] == {"costCode": "CC-1"}
    assert ScimRequest.objects.get(method="POST").explanation == (
        "Microsoft Entra ID also sent attributes auzlearn does not store, so they were ignored: "
        f"{CUSTOM}:shoeSize."
    )
    body = patch({"op": "Add", "path": f"{CUSTOM}:shoeSize", "value": "42"})
    assert entra.patch(f"Users/{response.json()['id']}", body).status_code == 200
    assert f"{CUSTOM}:shoeSize" in ScimRequest.objects.get(method="PATCH").explanation


def test_an_organisation_without_attributes_ignores_the_extension(scim, org):
    response = scim.post("Users", okta_user(costCode="CC-1"))

    assert response.status_code == 201
    assert CUSTOM not in response.json()
    assert f"{CUSTOM}:costCode" in ScimRequest.objects.get(method="POST").explanation


def test_an_attribute_removed_by_the_admin_stops_being_published_and_accepted(scim, defined):
    user_id = scim.post("Users", okta_user(**VALUES)).json()["id"]
    attribute = CustomAttribute.objects.get(organisation=defined, name="level")

    services.custom_attribute_remove(attribute=attribute, actor=factories.SYSTEM)

    assert "level" not in scim.get(f"Users/{user_id}").json()[CUSTOM]
    names = [a["name"] for a in scim.get(f"Schemas/{CUSTOM}").json()["attributes"]]
    assert "level" not in names
    assert scim.put(f"Users/{user_id}", okta_user(**VALUES)).json()[CUSTOM] == {
        k: v for k, v in VALUES.items() if k != "level"
    }
    assert f"{CUSTOM}:level" in ScimRequest.objects.get(method="PUT").explanation
    assert_scim_error(filtered(scim, f"{CUSTOM}:level gt 1"), 400, "invalidFilter")


# --- filters and sorting -------------------------------------------------------------------------


@pytest.fixture
def people(scim, defined, other_org):
    rows = {
        "ada": {
            "costCode": "CC-100",
            "mentor": True,
            "level": 7,
            "fte": 1.0,
            "hireDate": "2020-03-01T09:00:00Z",
        },
        "bob": {
            "costCode": "cc-250",
            "mentor": False,
            "level": 12,
            "fte": 0.5,
            "hireDate": "2024-05-01T12:00:00.5Z",
        },
        "cy": {"level": 9, "hireDate": "2024-05-01T12:00:00Z"},
        "dee": {},
    }
    ids = {}
    for name, values in rows.items():
        ids[name] = scim.post("Users", okta_user(f"{name}@acme.test", **values)).json()["id"]
    # A lookalike elsewhere never shows up.
    define(other_org, [("level", "integer", "")])
    scim_client_for(other_org).post("Users", okta_user("ada@acme.test", level=7))
    return ids


def found(scim, people, text: str) -> set[str]:
    response = filtered(scim, text)
    assert response.status_code == 200, response.content
    got = {person["id"] for person in response.json()["Resources"]}
    assert len(got) == response.json()["totalResults"]
    return {name for name, user_id in people.items() if user_id in got}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'{CUSTOM}:costCode eq "cc-100"', {"ada"}),
        ('costCode eq "CC-250"', {"bob"}),  # unqualified, ignoring case
        ('costCode sw "cc-"', {"ada", "bob"}),
        ('costCode co "25"', {"bob"}),
        ('costCode ew "00"', {"ada"}),
        ('costCode gt "CC-2"', {"bob"}),
        ('costCode ne "CC-100"', {"bob", "cy", "dee"}),
        ("costCode pr", {"ada", "bob"}),
        ("costCode eq null", {"cy", "dee"}),
        (f"{CUSTOM}:mentor eq true", {"ada"}),
        ('mentor eq "False"', {"bob"}),
        ("mentor ne true", {"bob", "cy", "dee"}),
        ("level gt 8", {"bob", "cy"}),
        ("level ge 9", {"bob", "cy"}),
        ("level lt 9", {"ada"}),
        ("level le 9", {"ada", "cy"}),
        ("level eq 12", {"bob"}),
        ('level eq "12"', {"bob"}),
        ("level gt 8.5", {"bob", "cy"}),
        ("fte lt 1", {"bob"}),
        ("fte eq 1", {"ada"}),
        ("fte ge 0.5", {"ada", "bob"}),
        ('hireDate gt "2024-01-01T00:00:00Z"', {"bob", "cy"}),
        # Half a second apart: compared to the microsecond, whatever the text's length.
        ('hireDate gt "2024-05-01T12:00:00Z"', {"bob"}),
        ('hireDate eq "2024-05-01T14:00:00+02:00"', {"cy"}),
        ('hireDate lt "2024-05-01T12:00:00.500001Z"', {"ada", "bob", "cy"}),
        ("not (level pr)", {"dee"}),
        ("level gt 8 and costCode pr", {"bob"}),
        ('mentor eq true or hireDate gt "2024-05-01T12:00:00.1Z"', {"ada", "bob"}),
    ],
)
def test_filters_on_the_organisations_attributes(scim, people, text, expected):
    assert found(scim, people, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "level co 1",  # numbers have no substrings
        'level gt "many"',
        "mentor gt true",
        'hireDate co "2024"',
        'hireDate gt "soon"',
        'hireDate le "2020-03-01"',  # a time is required, as for meta.created
        "costCode gt 5",
        f'{CUSTOM}:shoeSize eq "42"',
        "costCode[value eq 1]",
        "costCode.value eq 1",
    ],
)
def test_filters_they_cannot_answer_are_invalid_filter(scim, people, text):
    assert_scim_error(filtered(scim, text), 400, "invalidFilter")


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        ("level", None, ["ada", "cy", "bob", "dee"]),
        (f"{CUSTOM}:level", "descending", ["dee", "bob", "cy", "ada"]),
        ("costCode", None, ["ada", "bob", "cy", "dee"]),  # ignoring case; absent last
        ("fte", None, ["bob", "ada", "cy", "dee"]),
        ("mentor", "descending", ["cy", "dee", "ada", "bob"]),
        ("hireDate", None, ["ada", "cy", "bob", "dee"]),
    ],
)
def test_sorting_by_the_organisations_attributes(scim, people, sort_by, sort_order, expected):
    params = {"sortBy": sort_by, **({"sortOrder": sort_order} if sort_order else {})}
    response = scim.client.get(
        f"{scim.base}/Users", params, headers={"Authorization": f"Bearer {scim.key}"}
    )
    order = {user_id: name for name, user_id in people.items()}
    assert [order[p["id"]] for p in response.json()["Resources"] if p["id"] in order] == expected


# --- the definitions are read only where they are needed -----------------------------------------


def _definition_reads(captured: CaptureQueriesContext) -> int:
    return sum('"accounts_customattribute"' in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize(
    "query",
    [
        'Users?filter=userName eq "ada@acme.test"',
        "Users?startIndex=1&count=100",
        "Users?filter=title pr&sortBy=userName",
        "Users?attributes=userName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "Groups",
    ],
)
def test_lookups_gets_and_pages_never_read_the_definitions(scim, people, query):
    with CaptureQueriesContext(connection) as captured:
        response = scim.get(query)
        get_one = scim.get(f"Users/{people['ada']}")

    assert response.status_code == 200 and get_one.status_code == 200
    assert get_one.json()[CUSTOM]["costCode"] == "CC-100"  # rendered from the row alone
    assert _definition_reads(captured) == 0


@pytest.mark.parametrize(
    "query",
    [
        "Users?filter=level gt 1 and costCode pr",
        f"Users?filter={CUSTOM}:mentor eq true&sortBy=hireDate",
        "Users?sortBy=level&attributes=urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User:level",
        "Schemas",
        "ResourceTypes",
    ],
)
def test_what_names_them_reads_the_definitions_once(scim, people, query):
    with CaptureQueriesContext(connection) as captured:
        assert scim.get(query).status_code == 200

    assert _definition_reads(captured) == 1


def test_a_write_that_does_not_carry_them_does_not_read_them(scim, people):
    body = patch({"op": "replace", "value": {"active": False, "title": "Lead"}})
    with CaptureQueriesContext(connection) as captured:
        assert scim.patch(f"Users/{people['ada']}", body).status_code == 200
        assert scim.put(f"Users/{people['bob']}", {"userName": "bob@acme.test"}).status_code == 200
        assert scim.post("Users", {"userName": "new@acme.test"}).status_code == 201

    assert _definition_reads(captured) == 0
    assert User.objects.get(public_id=people["bob"]).custom_attributes  # the PUT kept them
