"""Deleted people in teams and as managers (DESIGN §4): hidden, their links kept for revival,
and a removal always succeeds, whatever state the person is in."""

import uuid
from typing import Any

import pytest

from accounts import services
from accounts.models import AuditEvent, Team, TeamMembership, User
from tests import factories
from tests.scim.conftest import assert_scim_error

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def okta_remove(person_id: str) -> dict[str, Any]:
    return {"op": "remove", "path": f'members[value eq "{person_id}"]'}


def entra_remove(*person_ids: str) -> dict[str, Any]:
    return {"op": "Remove", "path": "members", "value": [{"value": i} for i in person_ids]}


def member_ids(team: Team) -> set[str]:
    return {str(pk) for pk in team.members.values_list("public_id", flat=True)}


def revive(scim, person: User):
    """The identity provider assigns the person again: a POST of the same userName."""
    response = scim.post("Users", {"userName": person.username, "active": True})
    assert response.status_code == 201, response.content
    assert response.json()["id"] == str(person.public_id)  # the same row, not a new person
    return response.json()


def shown_teams(document: dict[str, Any]) -> set[str]:
    return {group["display"] for group in document.get("groups", [])}


@pytest.fixture
def gone(org):
    """A person deleted by Entra (SCIM DELETE) while a member of Sales."""
    return factories.user(org, "gone@acme.test")


@pytest.fixture
def sales(org, gone, learner):
    team = factories.team(org, "Sales", members=[gone, learner])
    services.user_delete(user=gone, actor=factories.SYSTEM)
    return team


@pytest.mark.parametrize("shape", ["okta", "entra"])
def test_a_deleted_member_can_be_removed_and_stays_removed_after_revival(
    scim, org, sales, gone, learner, shape
):
    operation = (
        okta_remove(str(gone.public_id)) if shape == "okta" else entra_remove(str(gone.public_id))
    )
    response = scim.patch(f"Groups/{sales.public_id}", patch(operation))

    assert response.status_code == 204, response.content
    assert member_ids(sales) == {str(learner.public_id)}
    assert not shown_teams(revive(scim, gone))  # the IdP removed it: it does not come back
    assert member_ids(sales) == {str(learner.public_id)}


def test_revival_brings_back_only_the_teams_nobody_removed_the_person_from(scim, org, sales, gone):
    kept = factories.team(org, "Kept")
    services.team_add_members(team=kept, actor=factories.SYSTEM, users=[gone])
    services.user_delete(user=gone, actor=factories.SYSTEM)
    scim.patch(f"Groups/{sales.public_id}", patch(okta_remove(str(gone.public_id))))

    assert shown_teams(revive(scim, gone)) == {"Kept"}


def test_a_replace_of_members_that_leaves_out_a_deleted_member_removes_them(
    scim, sales, gone, learner
):
    body = patch({"op": "replace", "path": "members", "value": [{"value": str(learner.public_id)}]})
    assert scim.patch(f"Groups/{sales.public_id}", body).status_code == 204

    assert not TeamMembership.objects.filter(team=sales, user=gone).exists()
    assert not shown_teams(revive(scim, gone))


def test_a_deleted_member_is_not_shown_but_comes_back_with_revival(scim, sales, gone, learner):
    shown = scim.get(f"Groups/{sales.public_id}").json()["members"]
    assert [member["value"] for member in shown] == [str(learner.public_id)]
    listed = scim.get(f'Groups?filter=members.value eq "{gone.public_id}"').json()
    assert listed["totalResults"] == 0

    assert shown_teams(revive(scim, gone)) == {"Sales"}
    shown = scim.get(f"Groups/{sales.public_id}").json()["members"]
    assert {member["value"] for member in shown} == {str(learner.public_id), str(gone.public_id)}


@pytest.mark.parametrize(
    "stranger",
    ["random", "other organisation", "not an id"],
)
def test_removing_someone_who_is_no_member_of_ours_succeeds_and_changes_nothing(
    scim, other_org, sales, learner, stranger
):
    value = {
        "random": str(uuid.uuid4()),
        "other organisation": str(factories.user(other_org, "x@globex.test").public_id),
        "not an id": "00u1abcd",
    }[stranger]
    events = AuditEvent.objects.count()
    for operation in (okta_remove(value), entra_remove(value)):
        response = scim.patch(f"Groups/{sales.public_id}", patch(operation))
        assert response.status_code == 204, response.content
    assert TeamMembership.objects.filter(team=sales).count() == 2  # learner, and gone (hidden)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("op", ["add", "replace"])
def test_adding_a_deleted_person_is_refused_and_nothing_changes(scim, sales, gone, learner, op):
    newcomer = factories.user(sales.organisation, "new@acme.test")
    body = patch(
        {
            "op": op,
            "path": "members",
            "value": [{"value": str(newcomer.public_id)}, {"value": str(gone.public_id)}],
        }
    )
    before = set(TeamMembership.objects.values_list("team_id", "user_id"))
    events = AuditEvent.objects.count()

    document = assert_scim_error(scim.patch(f"Groups/{sales.public_id}", body), 400, "invalidValue")

    assert str(gone.public_id) in document["detail"]
    assert set(TeamMembership.objects.values_list("team_id", "user_id")) == before
    assert AuditEvent.objects.count() == events


# --- managers ---------------------------------------------------------------------------


@pytest.fixture
def boss(org):
    return factories.user(org, "boss@acme.test")


@pytest.fixture
def report(org, boss):
    person = factories.user(org, "report@acme.test")
    services.user_set_manager(user=person, actor=factories.SYSTEM, manager=boss)
    return person


def manager_of(scim, person: User):
    return scim.get(f"Users/{person.public_id}").json().get(ENTERPRISE, {}).get("manager")


def test_a_deleted_manager_is_shown_as_nobodys_and_comes_back_with_revival(scim, boss, report):
    assert scim.delete(f"Users/{boss.public_id}").status_code == 204

    assert manager_of(scim, report) is None
    found = scim.get(f'Users?filter=manager.value eq "{boss.public_id}"').json()
    assert found["totalResults"] == 0
    assert scim.get("Users?filter=manager pr").json()["totalResults"] == 0
    report.refresh_from_db()
    assert report.manager_id == boss.pk  # the link stays, for revival

    revive(scim, boss)
    assert manager_of(scim, report)["value"] == str(boss.public_id)
    assert scim.get("Users?filter=manager pr").json()["totalResults"] == 1


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": f"{ENTERPRISE}:manager"},
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""},
        {"op": "replace", "value": {f"{ENTERPRISE}:manager": None}},
    ],
)
def test_removing_a_deleted_manager_succeeds_and_the_link_stays_removed(
    scim, boss, report, operation
):
    services.user_delete(user=boss, actor=factories.SYSTEM)

    response = scim.patch(f"Users/{report.public_id}", patch(operation))

    assert response.status_code == 200, response.content
    report.refresh_from_db()
    assert report.manager_id is None
    revive(scim, boss)
    assert manager_of(scim, report) is None


def test_the_home_page_shows_no_deleted_manager(client, org, boss, report):
    services.user_delete(user=boss, actor=factories.SYSTEM)
    client.force_login(report)
    assert "boss@acme.test" not in client.get("/").content.decode()


@pytest.mark.parametrize("whose", ["random", "other organisation"])
def test_a_manager_id_of_another_organisation_is_answered_as_a_random_one(
    scim, other_org, learner, whose
):
    # No existence oracle across tenants: both are remembered as a manager still to come.
    value = {
        "random": str(uuid.uuid4()),
        "other organisation": str(factories.user(other_org, "x@globex.test").public_id),
    }[whose]
    body = patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": value}})

    response = scim.patch(f"Users/{learner.public_id}", body)

    assert response.status_code == 200, response.content
    assert response.json()[ENTERPRISE]["manager"] == {"value": value}
    learner.refresh_from_db()
    assert learner.manager_id is None and learner.pending_manager_value == value
