"""/Groups: team push from Okta (OIN PATCH and AIW PUT) and Entra."""

import pytest

from accounts import services
from accounts.models import Team, TeamMembership
from tests import factories
from tests.scim.conftest import assert_scim_error

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def members(*people):
    return [{"value": str(person.public_id), "display": person.username} for person in people]


def member_ids(team: Team) -> set[str]:
    return {str(pk) for pk in team.members.values_list("public_id", flat=True)}


@pytest.fixture
def people(org):
    return [factories.user(org, f"m{n}@acme.test") for n in range(3)]


def test_okta_group_push_creates_the_team_with_members(scim, org, people):
    response = scim.post(
        "Groups", {"schemas": [GROUP], "displayName": "Sales", "members": members(*people[:2])}
    )
    assert response.status_code == 201
    document = response.json()
    team = Team.objects.get(organisation=org, public_id=document["id"])
    assert team.display_name == "Sales"
    assert member_ids(team) == {str(p.public_id) for p in people[:2]}
    assert document["displayName"] == "Sales"
    assert {m["value"] for m in document["members"]} == member_ids(team)
    assert response["Location"] == document["meta"]["location"]


def test_entra_group_create_with_its_own_schema_uri(entra, org):
    body = {
        "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Engineering",
        "meta": {"resourceType": "Group"},
    }
    response = entra.post("Groups", body)
    assert response.status_code == 201
    team = Team.objects.get(organisation=org)
    assert team.external_id == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"


def test_duplicate_team_name_is_409(scim, org):
    factories.team(org, "Sales")
    assert_scim_error(scim.post("Groups", {"displayName": "SALES"}), 409, "uniqueness")


def test_okta_rename_carries_the_id_and_membership_updates(scim, org, people):
    team = factories.team(org, "Sales", members=[people[0]])
    body = patch(
        {"op": "replace", "value": {"id": str(team.public_id), "displayName": "Sales EMEA"}},
        {"op": "add", "path": "members", "value": members(people[1])},
    )
    response = scim.patch(f"Groups/{team.public_id}", body)
    assert response.status_code == 204
    team.refresh_from_db()
    assert team.display_name == "Sales EMEA"
    assert member_ids(team) == {str(people[0].public_id), str(people[1].public_id)}


def test_okta_removes_one_member_with_a_value_filter(scim, org, people):
    team = factories.team(org, "Sales", members=people)
    body = patch({"op": "remove", "path": f'members[value eq "{people[1].public_id}"]'})
    assert scim.patch(f"Groups/{team.public_id}", body).status_code == 204
    assert member_ids(team) == {str(people[0].public_id), str(people[2].public_id)}


def test_entra_remove_with_a_value_list_removes_exactly_those(entra, org, people):
    team = factories.team(org, "Sales", members=people)
    body = patch(
        {
            "op": "Remove",
            "path": "members",
            "value": [{"$ref": None, "value": str(people[0].public_id)}],
        }
    )
    assert entra.patch(f"Groups/{team.public_id}", body).status_code == 204
    assert member_ids(team) == {str(people[1].public_id), str(people[2].public_id)}
    assert Team.objects.filter(pk=team.pk).exists()


def test_entra_add_member_and_rename(entra, org, people):
    team = factories.team(org, "Sales")
    body = patch(
        {
            "op": "Add",
            "path": "members",
            "value": [{"$ref": None, "value": str(people[2].public_id)}],
        },
        {"op": "Replace", "path": "displayName", "value": "Sales UK"},
    )
    assert entra.patch(f"Groups/{team.public_id}", body).status_code == 204
    team.refresh_from_db()
    assert team.display_name == "Sales UK"
    assert member_ids(team) == {str(people[2].public_id)}


def test_replace_members_sets_the_exact_list(scim, org, people):
    team = factories.team(org, "Sales", members=people[:2])
    body = patch({"op": "replace", "path": "members", "value": members(people[2])})
    scim.patch(f"Groups/{team.public_id}", body)
    assert member_ids(team) == {str(people[2].public_id)}


def test_aiw_put_sets_the_full_membership(scim, org, people):
    team = factories.team(org, "Sales", members=people[:2])
    body = {
        "schemas": [GROUP],
        "id": str(team.public_id),
        "displayName": "Sales",
        "members": members(people[1], people[2]),
    }
    response = scim.put(f"Groups/{team.public_id}", body)
    assert response.status_code == 200
    assert member_ids(team) == {str(people[1].public_id), str(people[2].public_id)}


def test_unknown_member_is_400_and_nothing_is_applied(scim, org, other_org, people):
    team = factories.team(org, "Sales", members=[people[0]])
    stranger = factories.user(other_org, "stranger@globex.test")
    body = patch(
        {"op": "replace", "value": {"displayName": "Renamed"}},
        {"op": "add", "path": "members", "value": members(people[1], stranger)},
    )
    document = assert_scim_error(scim.patch(f"Groups/{team.public_id}", body), 400, "invalidValue")
    assert str(stranger.public_id) in document["detail"]
    team.refresh_from_db()
    assert team.display_name == "Sales"
    assert member_ids(team) == {str(people[0].public_id)}


def test_excluded_members_are_not_returned(entra, org, people):
    team = factories.team(org, "Sales", members=people)
    document = entra.get(f"Groups/{team.public_id}?excludedAttributes=members").json()
    assert "members" not in document
    listed = entra.get('Groups?excludedAttributes=members&filter=displayName eq "sales"').json()
    assert listed["totalResults"] == 1
    assert "members" not in listed["Resources"][0]


def test_group_filter_by_member(scim, org, people):
    factories.team(org, "Sales", members=[people[0]])
    factories.team(org, "Support", members=[people[1]])
    found = scim.get(f'Groups?filter=members[value eq "{people[1].public_id}"]').json()
    assert [g["displayName"] for g in found["Resources"]] == ["Support"]


def test_delete_group_removes_the_team_and_its_memberships_but_not_the_people(scim, org, people):
    team = factories.team(org, "Sales", members=people)
    assert scim.delete(f"Groups/{team.public_id}").status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not TeamMembership.objects.filter(user__in=people).exists()
    assert all(p.__class__.objects.filter(pk=p.pk).exists() for p in people)
    assert_scim_error(scim.get(f"Groups/{team.public_id}"), 404)


def test_a_full_replace_that_leaves_out_a_deleted_member_removes_them(scim, org, people):
    # DESIGN §4: a deleted person is hidden, and a membership the identity provider removed,
    # here by a full list without them, never comes back when they are revived.
    team = factories.team(org, "Sales", members=people)
    services.user_delete(user=people[0], actor=factories.SYSTEM)
    shown = scim.get(f"Groups/{team.public_id}").json()["members"]
    assert str(people[0].public_id) not in {m["value"] for m in shown}
    scim.put(f"Groups/{team.public_id}", {"displayName": "Sales", "members": members(people[1])})
    assert member_ids(team) == {str(people[1].public_id)}


@pytest.mark.parametrize("size", [1, 500])
def test_group_read_costs_the_same_queries_at_any_member_count(
    scim, org, size, django_assert_max_num_queries
):
    people = factories.many_users(org, size)
    team = factories.team(org, "Big", members=people)
    assert scim.get("Groups?count=0").status_code == 200  # the key's use is noted once a minute
    # The key, the team, its members, and the log entry (in a savepoint of its own; on
    # PostgreSQL one more statement lets it commit without waiting for the disk).
    with django_assert_max_num_queries(7):
        response = scim.get(f"Groups/{team.public_id}")
    assert len(response.json()["members"]) == size
    with django_assert_max_num_queries(7):
        listed = scim.get("Groups")
    assert listed.json()["totalResults"] == 1


def test_adding_256_members_costs_a_constant_number_of_queries(
    scim, org, django_assert_max_num_queries
):
    team = factories.team(org, "Big")
    people = factories.many_users(org, 256)
    body = patch({"op": "add", "path": "members", "value": members(*people)})
    with django_assert_max_num_queries(17):
        assert scim.patch(f"Groups/{team.public_id}", body).status_code == 204
    assert team.members.count() == 256
