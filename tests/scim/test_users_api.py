"""/Users as Okta (both app kinds) and Microsoft Entra ID really use it."""

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import AuditEvent, User
from scim.schema import ENTERPRISE_USER
from tests import factories
from tests.scim.conftest import assert_scim_error

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def okta_user(username: str, **extra):
    """What Okta sends to create a user (Okta SCIM 2.0 guide), including its random password."""
    body = {
        "schemas": [CORE],
        "userName": username,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "displayName": "Jane Doe",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    body.update(extra)
    return body


def entra_user(username: str, **extra):
    """What Entra sends to create a user (Microsoft's SCIM guide): capitalised values, a meta
    block, an empty roles list."""
    body = {
        "schemas": [CORE, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": username,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": username}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Jane Doe", "familyName": "Doe", "givenName": "Jane"},
        "roles": [],
    }
    body.update(extra)
    return body


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


# --- reading -------------------------------------------------------------------------------


def test_okta_connection_test_lists_the_first_two_users(scim, org):
    for n in range(3):
        factories.user(org, f"p{n}@acme.test")
    response = scim.get("Users?startIndex=1&count=2")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/scim+json")
    document = response.json()
    assert document["schemas"] == [LIST]
    assert document["totalResults"] == 3
    assert document["startIndex"] == 1
    assert document["itemsPerPage"] == 2
    assert [r["userName"] for r in document["Resources"]] == ["p0@acme.test", "p1@acme.test"]


@pytest.mark.parametrize(
    "query",
    [
        'userName eq "non-existent user"',  # Okta
        'userName eq "6d4c0c3a-9e4f-4f2f-8d0e-7fd8a1b9f0a3"',  # Entra's random GUID
        'externalId eq "6d4c0c3a-9e4f-4f2f-8d0e-7fd8a1b9f0a3"',
        'id eq "6d4c0c3a-9e4f-4f2f-8d0e-7fd8a1b9f0a3"',
    ],
)
def test_filter_without_match_is_an_empty_list(scim, learner, query):
    response = scim.get(f"Users?filter={query}")
    assert response.status_code == 200
    assert response.json() == {
        "schemas": [LIST],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_username_filter_ignores_case_and_returns_the_stored_spelling(scim, org):
    factories.user(org, "Jane.Doe@Acme.test")
    response = scim.get('Users?filter=userName eq "JANE.DOE@ACME.TEST"')
    resources = response.json()["Resources"]
    assert [r["userName"] for r in resources] == ["Jane.Doe@Acme.test"]


def test_deactivated_user_is_still_found_by_filter_with_active_false(scim, learner):
    services.user_deactivate(user=learner, actor=factories.SYSTEM)
    resources = scim.get(f'Users?filter=userName eq "{learner.username}"').json()["Resources"]
    assert len(resources) == 1
    assert resources[0]["active"] is False


def test_get_user_returns_the_whole_document(scim, org):
    boss = factories.user(org, "boss@acme.test", given_name="Bo", family_name="Ss")
    team = factories.team(org, "Sales")
    user = factories.user(
        org,
        "jane@acme.test",
        given_name="Jane",
        family_name="Doe",
        display_name="Jane D",
        title="Engineer",
        external_id="00u1",
        department="R&D",
        employee_number="42",
        phone_numbers=[{"value": "+44 20 7946 0000", "type": "work"}],
        locale="en-GB",
        timezone="Europe/London",
    )
    services.user_set_manager(user=user, actor=factories.SYSTEM, manager=boss)
    services.team_add_members(team=team, actor=factories.SYSTEM, users=[user])
    user.refresh_from_db()

    response = scim.get(f"Users/{user.public_id}")
    assert response.status_code == 200
    document = response.json()
    base = f"http://127.0.0.1:8000/scim/v2/{org.public_id}"
    meta = document.pop("meta")
    assert document == {
        "schemas": [CORE, ENTERPRISE],
        "id": str(user.public_id),
        "externalId": "00u1",
        "userName": "jane@acme.test",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "displayName": "Jane D",
        "title": "Engineer",
        "emails": [{"value": "jane@acme.test", "type": "work"}],
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}],
        "locale": "en-GB",
        "timezone": "Europe/London",
        "active": True,
        "groups": [
            {
                "value": str(team.public_id),
                "$ref": f"{base}/Groups/{team.public_id}",
                "display": "Sales",
            }
        ],
        ENTERPRISE: {
            "employeeNumber": "42",
            "department": "R&D",
            "manager": {
                "value": str(boss.public_id),
                "$ref": f"{base}/Users/{boss.public_id}",
                "displayName": "boss@acme.test",
            },
        },
    }
    assert meta["resourceType"] == "User"
    assert meta["location"] == f"{base}/Users/{user.public_id}"
    assert meta["version"] == response["ETag"]
    assert meta["created"].endswith("Z") and meta["lastModified"].endswith("Z")


@pytest.mark.parametrize(
    "resource_id",
    ["010101001010101011001010101011", "not-a-uuid", "6d4c0c3a-9e4f-4f2f-8d0e-7fd8a1b9f0a3"],
)
def test_unknown_or_malformed_id_is_a_scim_404(scim, resource_id):
    assert_scim_error(scim.get(f"Users/{resource_id}"), 404)


def test_deleted_user_is_404_and_skipped_by_filters(scim, learner):
    services.user_delete(user=learner, actor=factories.SYSTEM)
    assert_scim_error(scim.get(f"Users/{learner.public_id}"), 404)
    assert scim.get(f'Users?filter=userName eq "{learner.username}"').json()["totalResults"] == 0


def test_pagination_visits_everyone_exactly_once(scim, org):
    created = {factories.user(org, f"u{n:02}@acme.test").username for n in range(23)}
    seen: list[str] = []
    start = 1
    while True:
        document = scim.get(f"Users?startIndex={start}&count=5").json()
        assert document["totalResults"] == 23
        assert document["itemsPerPage"] == len(document["Resources"])
        if not document["Resources"]:
            break
        seen += [r["userName"] for r in document["Resources"]]
        start += document["itemsPerPage"]
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_count_is_capped_and_count_zero_gives_only_the_total(scim, org):
    factories.user(org)
    assert scim.get("Users?count=0").json()["itemsPerPage"] == 0
    assert scim.get("Users?count=0").json()["totalResults"] == 1
    assert_scim_error(scim.get("Users?count=many"), 400, "invalidValue")


def test_attributes_and_excluded_attributes(scim, learner):
    only = scim.get(f"Users/{learner.public_id}?attributes=userName,name.givenName").json()
    assert only == {
        "schemas": [CORE, ENTERPRISE],
        "id": str(learner.public_id),
        "userName": learner.username,
        "name": {"givenName": "Lee"},
    }
    without = scim.get(f"Users/{learner.public_id}?excludedAttributes=emails,meta").json()
    assert "emails" not in without and "meta" not in without
    assert without["userName"] == learner.username


def test_if_none_match_gives_304_and_if_match_mismatch_gives_412(scim, learner):
    response = scim.get(f"Users/{learner.public_id}")
    version = response["ETag"]
    assert scim.get(f"Users/{learner.public_id}", if_none_match=version).status_code == 304
    stale = 'W/"stale"'
    body = patch({"op": "replace", "value": {"title": "x"}})
    assert_scim_error(scim.patch(f"Users/{learner.public_id}", body, if_match=stale), 412)
    learner.refresh_from_db()
    assert learner.title == ""
    ok = scim.patch(f"Users/{learner.public_id}", body, if_match=version)
    assert ok.status_code == 200
    assert ok["ETag"] != version


# --- creating ------------------------------------------------------------------------------


@pytest.mark.parametrize("body_for", [okta_user, entra_user])
def test_lookup_then_create(scim, org, body_for):
    username = "jane@acme.test"
    assert scim.get(f'Users?filter=userName eq "{username}"').json()["totalResults"] == 0
    response = scim.post("Users", body_for(username))
    assert response.status_code == 201
    document = response.json()
    user = User.objects.get(organisation=org, public_id=document["id"])
    assert response["Location"] == document["meta"]["location"]
    assert (user.username, user.email, user.given_name, user.family_name) == (
        username,
        username,
        "Jane",
        "Doe",
    )
    assert user.is_active
    assert not user.has_usable_password()  # Okta's random password is ignored
    assert document["userName"] == username and document["active"] is True
    event = AuditEvent.objects.get(action="user.create", target_id=str(user.public_id))
    assert event.actor_kind == "scim" and event.actor_label.startswith("SCIM key ")


def test_duplicate_active_username_is_a_409_and_changes_nothing(scim, learner):
    body = okta_user(learner.username.upper())
    assert_scim_error(scim.post("Users", body), 409, "uniqueness")
    assert User.objects.filter(organisation=learner.organisation).count() == 1


def test_post_revives_a_deactivated_user_as_the_same_row(scim, learner):
    services.user_deactivate(user=learner, actor=factories.SYSTEM)
    response = scim.post("Users", okta_user(learner.username, externalId="00uNEW"))
    assert response.status_code == 201
    assert response.json()["id"] == str(learner.public_id)
    learner.refresh_from_db()
    assert learner.is_active and learner.external_id == "00uNEW"


def test_post_revives_a_deleted_user_with_teams_and_history(scim, org, learner):
    team = factories.team(org, "Sales", members=[learner])
    services.user_delete(user=learner, actor=factories.SYSTEM)
    response = scim.post("Users", entra_user(learner.username))
    assert response.status_code == 201
    assert response.json()["id"] == str(learner.public_id)
    learner.refresh_from_db()
    assert learner.is_active and not learner.is_deleted
    assert list(team.members.all()) == [learner]
    assert AuditEvent.objects.filter(
        target_id=str(learner.public_id), action="user.revive"
    ).exists()


def test_post_without_username_is_400(scim):
    body = okta_user("x@acme.test")
    del body["userName"]
    assert_scim_error(scim.post("Users", body), 400, "invalidValue")


@pytest.mark.parametrize(
    ("raw", "scim_type"),
    [("{not json", "invalidSyntax"), ("[1, 2]", "invalidValue"), ('"text"', "invalidValue")],
)
def test_malformed_bodies_are_400_and_change_nothing(scim, raw, scim_type):
    assert_scim_error(scim.request("POST", "Users", raw=raw), 400, scim_type)
    assert not User.objects.filter(organisation=scim.organisation).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"userName": 42},
        {"name": "Jane Doe"},
        {"emails": "jane@acme.test"},
        {"active": "maybe"},
        {"emails": [{"value": "not an email", "type": "work"}]},
    ],
)
def test_wrong_types_are_invalid_value_and_change_nothing(scim, change):
    assert_scim_error(scim.post("Users", okta_user("x@acme.test", **change)), 400, "invalidValue")
    assert not User.objects.filter(organisation=scim.organisation).exists()


def test_application_json_is_accepted_and_scim_json_is_answered(scim):
    response = scim.post("Users", okta_user("j@acme.test"), content_type="application/json")
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/scim+json")


def test_unknown_schema_uris_and_attributes_are_ignored(scim):
    body = entra_user("j@acme.test")
    body["schemas"].append("http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/User")
    body["addresses"] = [{"type": "work", "formatted": "1 Main St"}]
    assert scim.post("Users", body).status_code == 201


# --- managers ------------------------------------------------------------------------------


def test_report_sent_before_their_manager_is_linked_when_the_manager_arrives(scim, org):
    report = okta_user("report@acme.test", externalId="00uREPORT")
    report[ENTERPRISE] = {"manager": {"value": "00uBOSS", "displayName": "boss@acme.test"}}
    report["schemas"] = [CORE, ENTERPRISE]
    report_id = scim.post("Users", report).json()["id"]
    # Until the manager arrives, the reference is shown as sent.
    waiting = scim.get(f"Users/{report_id}").json()[ENTERPRISE]["manager"]
    assert waiting == {"value": "00uBOSS", "displayName": "boss@acme.test"}

    boss_id = scim.post("Users", okta_user("boss@acme.test", externalId="00uBOSS")).json()["id"]
    manager = scim.get(f"Users/{report_id}").json()[ENTERPRISE]["manager"]
    assert manager["value"] == boss_id
    assert manager["displayName"] == "boss@acme.test"


def test_entra_manager_as_a_bare_id_string(entra, org):
    boss = factories.user(org, "boss@acme.test")
    user = factories.user(org, "jane@acme.test")
    body = patch(
        {
            "op": "Add",
            "path": f"{ENTERPRISE}:manager",
            "value": str(boss.public_id),
        }
    )
    response = entra.patch(f"Users/{user.public_id}", body)
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.manager == boss


def test_manager_cycle_is_400_and_changes_nothing(scim, org):
    boss = factories.user(org, "boss@acme.test")
    report = factories.user(org, "report@acme.test")
    services.user_set_manager(user=report, actor=factories.SYSTEM, manager=boss)
    body = patch(
        {
            "op": "replace",
            "path": f"{ENTERPRISE}:manager",
            "value": {"value": str(report.public_id)},
        }
    )
    assert_scim_error(scim.patch(f"Users/{boss.public_id}", body), 400, "invalidValue")
    boss.refresh_from_db()
    assert boss.manager is None


# --- Okta OIN (PATCH) lifecycle ------------------------------------------------------------


def test_okta_patch_lifecycle_deactivate_and_reactivate(scim, org):
    user_id = scim.post("Users", okta_user("jane@acme.test")).json()["id"]
    off = scim.patch(f"Users/{user_id}", patch({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200 and off.json()["active"] is False
    user = User.objects.get(public_id=user_id)
    assert not user.is_active and user.deactivated_at is not None

    on = scim.patch(f"Users/{user_id}", patch({"op": "replace", "value": {"active": True}}))
    assert on.json()["active"] is True
    user.refresh_from_db()
    assert user.is_active and user.pk == User.objects.get(public_id=user_id).pk


def test_okta_profile_update_with_dotted_keys(scim, learner):
    body = patch({"op": "replace", "value": {"name.givenName": "Leigh", "title": "Lead"}})
    response = scim.patch(f"Users/{learner.public_id}", body)
    assert response.status_code == 200
    learner.refresh_from_db()
    assert (learner.given_name, learner.title) == ("Leigh", "Lead")


# --- Okta App Integration Wizard (PUT only) lifecycle --------------------------------------


def test_aiw_put_only_lifecycle(scim, org):
    user_id = scim.post("Users", okta_user("jane@acme.test")).json()["id"]
    full = scim.get(f"Users/{user_id}").json()

    full["name"]["givenName"] = "Janet"
    full["active"] = False
    response = scim.put(f"Users/{user_id}", full)
    assert response.status_code == 200
    user = User.objects.get(public_id=user_id)
    assert user.given_name == "Janet" and not user.is_active

    full["active"] = True
    scim.put(f"Users/{user_id}", full)
    user.refresh_from_db()
    assert user.is_active


def test_put_clears_attributes_it_leaves_out(scim, org):
    user = factories.user(org, "jane@acme.test", title="Engineer", given_name="Jane")
    response = scim.put(
        f"Users/{user.public_id}", {"schemas": [CORE], "userName": "jane@acme.test"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.title == "" and user.given_name == ""


def test_put_without_the_enterprise_extension_keeps_the_manager(scim, org):
    boss = factories.user(org, "boss@acme.test")
    user = factories.user(org, "jane@acme.test")
    services.user_set_manager(user=user, actor=factories.SYSTEM, manager=boss)
    scim.put(f"Users/{user.public_id}", {"schemas": [CORE], "userName": "jane@acme.test"})
    user.refresh_from_db()
    assert user.manager == boss


# --- Entra ---------------------------------------------------------------------------------


def test_entra_patch_with_capitalised_ops_string_booleans_and_filtered_paths(entra, org):
    user = factories.user(org, "jane@acme.test")
    body = patch(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "j.doe@acme.test"},
        {"op": "Replace", "path": "name.familyName", "value": "Doe"},
        {"op": "Replace", "path": "active", "value": "False"},
    )
    response = entra.patch(f"Users/{user.public_id}", body)
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.email, user.family_name, user.is_active) == ("j.doe@acme.test", "Doe", False)


def test_entra_delete_then_404_and_the_row_stays(entra, learner):
    response = entra.delete(f"Users/{learner.public_id}")
    assert response.status_code == 204
    assert_scim_error(entra.get(f"Users/{learner.public_id}"), 404)
    learner.refresh_from_db()
    assert learner.is_deleted
    assert_scim_error(entra.delete(f"Users/{learner.public_id}"), 404)


def test_patch_is_atomic_a_bad_operation_changes_nothing(scim, learner):
    body = patch(
        {"op": "replace", "path": "title", "value": "Lead"},
        {"op": "replace", "path": "active", "value": "perhaps"},
    )
    assert_scim_error(scim.patch(f"Users/{learner.public_id}", body), 400, "invalidValue")
    learner.refresh_from_db()
    assert learner.title == "" and learner.is_active


def test_patch_to_a_taken_username_is_409_and_changes_nothing(scim, org, learner, primary_admin):
    body = patch({"op": "replace", "path": "userName", "value": primary_admin.username})
    assert_scim_error(scim.patch(f"Users/{learner.public_id}", body), 409, "uniqueness")
    learner.refresh_from_db()
    assert learner.username == "lee@acme.test"


# --- queries -------------------------------------------------------------------------------


# One statement for a person and their teams on PostgreSQL (scim.users.with_teams), two on SQLite.
PERSON_AND_TEAMS = (
    ["accounts_user"]
    if connection.vendor == "postgresql"
    else ["accounts_user", "accounts_teammembership"]
)


def _first_request(scim):
    """What only a first request does: note the key's use (once a minute)."""
    assert scim.get("Users?count=0").status_code == 200


def _reads(captured) -> list[str]:
    """The table each SELECT reads from first (its own FROM, not a subquery's)."""
    return [
        _outer_from(query["sql"])
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT")
    ]


def _outer_from(sql: str) -> str:
    depth = 0
    for index, char in enumerate(sql):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and sql.startswith(" FROM ", index):
            return sql[index + len(" FROM ") :].split()[0].strip('"')
    raise AssertionError(f"no FROM in {sql}")


@pytest.mark.parametrize("size", [1, 100])
def test_listing_costs_the_same_queries_at_any_page_size(
    scim, org, size, django_assert_max_num_queries
):
    team = factories.team(org, "Everyone")
    boss = factories.user(org, "boss@acme.test")
    people = [factories.user(org, f"p{n}@acme.test") for n in range(size)]
    for person in people:
        services.user_set_manager(user=person, actor=factories.SYSTEM, manager=boss)
    services.team_add_members(team=team, actor=factories.SYSTEM, users=people)
    _first_request(scim)
    # The key, one page with each person's manager in it, their teams, the COUNT (the page is
    # full), and the log entry: in a savepoint here, inside the test's transaction, and on
    # PostgreSQL after the statement that lets it commit without waiting for the disk.
    with django_assert_max_num_queries(8):
        response = scim.get(f"Users?count={size + 1}")
    assert response.json()["itemsPerPage"] == size + 1
    assert all(len(person["groups"]) == 1 for person in response.json()["Resources"][1:])


def test_a_username_lookup_reads_the_person_with_their_teams(
    scim, org, learner, django_assert_max_num_queries
):
    boss = factories.user(org, "boss@acme.test")
    services.user_set_manager(user=learner, actor=factories.SYSTEM, manager=boss)
    for name in ("works", "Research", "Art", "Zoology", "Maths"):  # ids in random order
        factories.team(org, name, members=[learner])

    _first_request(scim)
    with django_assert_max_num_queries(7) as captured:  # the log's as above
        response = scim.get(f'Users?filter=userName eq "{learner.username.upper()}"')

    person = response.json()["Resources"][0]
    assert [team["display"] for team in person["groups"]] == [
        "Art",
        "Maths",
        "Research",
        "works",
        "Zoology",
    ]
    assert person[ENTERPRISE_USER]["manager"]["displayName"] == "boss@acme.test"
    assert _reads(captured) == ["scim_scimkey", *PERSON_AND_TEAMS]


def test_a_get_by_id_reads_the_person_with_their_teams(scim, org, learner):
    for name in ("works", "Art"):
        factories.team(org, name, members=[learner])
    _first_request(scim)

    with CaptureQueriesContext(connection) as captured:
        response = scim.get(f"Users/{learner.public_id}")

    assert response.status_code == 200
    assert [team["display"] for team in response.json()["groups"]] == ["Art", "works"]
    assert _reads(captured) == ["scim_scimkey", *PERSON_AND_TEAMS]


def test_a_page_of_many_reads_their_teams_in_one_statement_for_all(scim, org):
    team = factories.team(org, "Everyone")
    people = [factories.user(org, f"p{n}@acme.test") for n in range(3)]
    services.team_add_members(team=team, actor=factories.SYSTEM, users=people)
    _first_request(scim)

    with CaptureQueriesContext(connection) as captured:
        response = scim.get('Users?filter=userName sw "p"')

    assert [len(person["groups"]) for person in response.json()["Resources"]] == [1, 1, 1]
    # Not a subquery per person: for a page of 100 that costs more than one more statement.
    assert _reads(captured) == ["scim_scimkey", "accounts_user", "accounts_teammembership"]
    assert not any("ARRAY(" in query["sql"] for query in captured.captured_queries)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('filter=userName eq "nobody@acme.test"', 0),  # most lookups before a create
        ('filter=userName eq "lee@acme.test"&excludedAttributes=groups', 1),  # Entra's way
    ],
)
def test_a_read_that_returns_no_groups_reads_no_teams(scim, org, learner, query, found):
    factories.team(org, "Research", members=[learner])
    _first_request(scim)

    with CaptureQueriesContext(connection) as captured:
        response = scim.get(f"Users?{query}")

    assert response.json()["totalResults"] == found
    assert all("groups" not in person for person in response.json()["Resources"])
    assert _reads(captured) == ["scim_scimkey", "accounts_user"]


def test_a_patch_changes_only_what_it_names(scim, org):
    boss = factories.user(org, "boss@acme.test")
    user = factories.user(
        org,
        "Jane.Doe@Acme.test",
        email="jane@acme.test",
        given_name="Jane",
        external_id="00u9",
        phone_numbers=[{"value": "+1 555", "type": "work"}],
        department="R&D",
    )
    services.user_set_manager(user=user, actor=factories.SYSTEM, manager=boss)
    before = AuditEvent.objects.count()
    body = patch({"op": "replace", "value": {"active": False}})
    assert scim.patch(f"Users/{user.public_id}", body).status_code == 200
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[before:])
    assert actions == ["user.deactivate"]


@pytest.mark.parametrize("teams", [1, 10])
def test_patch_costs_the_same_queries_whatever_the_number_of_teams(
    scim, org, learner, teams, django_assert_max_num_queries
):
    for n in range(teams):
        factories.team(org, f"Team {n}", members=[learner])
    body = patch({"op": "replace", "value": {"active": False}})
    with django_assert_max_num_queries(26):
        assert scim.patch(f"Users/{learner.public_id}", body).status_code == 200


def test_deep_pages_come_back_in_order_with_everything_rendered(scim, org):
    boss = factories.user(org, "boss@acme.test")
    team = factories.team(org, "All")
    people = [factories.user(org, f"p{n:02}@acme.test") for n in range(12)]
    services.team_add_members(team=team, actor=factories.SYSTEM, users=people)
    for person in people:
        services.user_set_manager(user=person, actor=factories.SYSTEM, manager=boss)
    page = scim.get("Users?startIndex=5&count=4").json()
    assert [r["userName"] for r in page["Resources"]] == [f"p{n:02}@acme.test" for n in range(3, 7)]
    assert all(r["groups"][0]["display"] == "All" for r in page["Resources"])
    assert all(r[ENTERPRISE]["manager"]["value"] == str(boss.public_id) for r in page["Resources"])


@pytest.mark.parametrize(
    "username",
    ["ﬁona@x.example", "\uff21\uff44\uff41@x.example", "e\u0301mile@x.example", "ǅemal@x.example"],
)
def test_a_username_is_stored_and_found_exactly_as_sent(scim, org, username):
    # No NFKC (Django's default for usernames): Okta filters for what it sent, and must find
    # it, or it POSTs again into a 409, forever (DESIGN §4).
    created = scim.post("Users", {"userName": username})
    assert created.status_code == 201, created.content
    assert created.json()["userName"] == username
    assert User.objects.get(organisation=org, public_id=created.json()["id"]).username == username

    found = scim.get("Users?filter=" + quote(f'userName eq "{username}"'))
    assert found.json()["totalResults"] == 1
    again = scim.post("Users", {"userName": username})
    assert_scim_error(again, 409, "uniqueness")


def test_false_and_zero_are_shown_and_empty_values_are_not(scim, org):
    from tests.scim.test_custom_attributes_api import CUSTOM, define

    define(org)
    person = factories.user(org, "zero@acme.test", title="", emails=[])
    services.user_set_custom_attributes(
        user=person, actor=factories.SYSTEM, values={"mentor": False, "level": 0, "fte": 0.0}
    )

    document = scim.get(f"Users/{person.public_id}").json()

    assert document[CUSTOM] == {"mentor": False, "level": 0, "fte": 0.0}
    assert document["active"] is True
    assert "title" not in document and "emails" not in document and "groups" not in document
    assert ENTERPRISE_USER not in document  # nothing in it: left out, as empty values are
