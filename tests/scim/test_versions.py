"""meta.version and meta.lastModified change whenever the representation does (RFC 7644 §3.14,
DESIGN §5): team membership and team names included, for Users; deleted members, for Groups."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from tests import factories
from tests.scim.conftest import assert_scim_error

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def meta(scim, path: str) -> dict[str, Any]:
    response = scim.get(path)
    assert response.status_code == 200, response.content
    assert response["ETag"] == response.json()["meta"]["version"]
    return response.json()["meta"]


def later(scim, path: str, before: dict[str, Any]) -> dict[str, Any]:
    """The resource's meta now, which must show a change since ``before``."""
    after = meta(scim, path)
    assert after["version"] != before["version"]
    assert after["lastModified"] > before["lastModified"]
    return after


@pytest.fixture
def sales(org):
    return factories.team(org, "Sales")


def test_joining_and_leaving_a_team_changes_the_persons_version(scim, learner, sales):
    path = f"Users/{learner.public_id}"
    first = meta(scim, path)
    add = patch({"op": "add", "path": "members", "value": [{"value": str(learner.public_id)}]})
    assert scim.patch(f"Groups/{sales.public_id}", add).status_code == 204
    joined = later(scim, path, first)

    remove = patch({"op": "remove", "path": f'members[value eq "{learner.public_id}"]'})
    assert scim.patch(f"Groups/{sales.public_id}", remove).status_code == 204
    later(scim, path, joined)


def test_a_team_renamed_changes_its_members_versions_without_writing_their_rows(
    scim, org, learner, sales
):
    others = factories.many_users(org, 50)
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner, *others])
    path = f"Users/{learner.public_id}"
    before = meta(scim, path)
    rename = patch({"op": "replace", "value": {"id": str(sales.public_id), "displayName": "Won"}})

    with CaptureQueriesContext(connection) as captured:
        assert scim.patch(f"Groups/{sales.public_id}", rename).status_code == 204

    people_written = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "accounts_user"')
    ]
    assert people_written == []  # one team row, not 51 people
    after = later(scim, path, before)
    document = scim.get(path).json()
    assert [group["display"] for group in document["groups"]] == ["Won"]
    assert document["meta"] == after


def test_people_added_to_a_team_get_new_versions_without_their_rows_written(
    scim, org, learner, sales
):
    others = factories.many_users(org, 50)
    path = f"Users/{learner.public_id}"
    before = meta(scim, path)
    members = [{"value": str(person.public_id)} for person in [learner, *others]]

    with CaptureQueriesContext(connection) as captured:
        added = scim.patch(
            f"Groups/{sales.public_id}", patch({"op": "add", "path": "members", "value": members})
        )

    assert added.status_code == 204, added.content
    people_written = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "accounts_user"')
    ]
    assert people_written == []  # their memberships' beginning is their change (versions.py)
    after = later(scim, path, before)
    assert scim.get(path).json()["meta"] == after


def test_a_stale_version_after_a_membership_change_is_not_304_and_not_accepted(
    scim, learner, sales
):
    path = f"Users/{learner.public_id}"
    old = meta(scim, path)["version"]
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])

    response = scim.get(path, If_None_Match=old)
    assert response.status_code == 200
    assert [group["display"] for group in response.json()["groups"]] == ["Sales"]

    body = {"userName": learner.username, "title": "Stale"}
    assert_scim_error(scim.put(path, body, If_Match=old), 412)
    learner.refresh_from_db()
    assert learner.title == ""


def test_a_current_version_still_answers_304_and_is_accepted(scim, learner, sales):
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])
    services.team_update(team=sales, actor=factories.SYSTEM, display_name="Renamed")
    path = f"Users/{learner.public_id}"
    current = meta(scim, path)["version"]

    assert scim.get(path, If_None_Match=current).status_code == 304
    response = scim.put(path, {"userName": learner.username, "title": "Now"}, If_Match=current)
    assert response.status_code == 200, response.content


def _since(moment: str) -> str:
    return f'Users?filter=meta.lastModified gt "{moment}"'


def test_an_incremental_import_finds_the_members_of_a_renamed_team(scim, org, learner, sales):
    bystander = factories.user(org, "bystander@acme.test")
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])
    checkpoint = max(
        meta(scim, f"Users/{p.public_id}")["lastModified"] for p in [learner, bystander]
    )
    assert scim.get(_since(checkpoint)).json()["totalResults"] == 0

    services.team_update(team=sales, actor=factories.SYSTEM, display_name="Renamed")

    found = scim.get(_since(checkpoint)).json()
    assert [person["userName"] for person in found["Resources"]] == [learner.username]
    renamed = found["Resources"][0]["meta"]["lastModified"]
    assert scim.get(_since(renamed)).json()["totalResults"] == 0
    exact = scim.get(f'Users?filter=meta.lastModified eq "{renamed}"').json()
    assert [person["userName"] for person in exact["Resources"]] == [learner.username]
    before = scim.get(f'Users?filter=meta.lastModified lt "{renamed}"').json()
    assert {person["userName"] for person in before["Resources"]} == {bystander.username}
    newest_first = scim.get("Users?sortBy=meta.lastModified&sortOrder=descending").json()
    assert newest_first["Resources"][0]["userName"] == learner.username


def test_an_incremental_import_finds_who_joined_a_team_and_who_left(scim, org, learner, sales):
    stays = factories.user(org, "stays@acme.test")
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[stays])
    checkpoint = max(meta(scim, f"Users/{p.public_id}")["lastModified"] for p in [learner, stays])
    assert scim.get(_since(checkpoint)).json()["totalResults"] == 0

    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])

    found = scim.get(_since(checkpoint)).json()
    assert [person["userName"] for person in found["Resources"]] == [learner.username]
    joined = found["Resources"][0]["meta"]["lastModified"]
    before = scim.get(f'Users?filter=meta.lastModified lt "{joined}"').json()
    assert {person["userName"] for person in before["Resources"]} == {stays.username}

    services.team_remove_members(team=sales, actor=factories.SYSTEM, users=[learner])
    left = scim.get(_since(joined)).json()
    assert [person["userName"] for person in left["Resources"]] == [learner.username]


def test_a_members_deletion_and_revival_change_the_teams_version(scim, learner, sales):
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])
    path = f"Groups/{sales.public_id}"
    first = meta(scim, path)

    assert scim.delete(f"Users/{learner.public_id}").status_code == 204
    deleted = later(scim, path, first)
    assert "members" not in scim.get(path).json()

    assert scim.post("Users", {"userName": learner.username}).status_code == 201
    later(scim, path, deleted)


def test_a_managers_new_email_or_deletion_changes_the_reports_version(scim, org, learner):
    boss = factories.user(org, "boss@acme.test")
    services.user_set_manager(user=learner, actor=factories.SYSTEM, manager=boss)
    path = f"Users/{learner.public_id}"
    first = meta(scim, path)

    email = patch({"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@acme.test"})
    assert scim.patch(f"Users/{boss.public_id}", email).status_code == 200
    renamed = later(scim, path, first)
    assert scim.get(path).json()[ENTERPRISE]["manager"]["displayName"] == "b@acme.test"

    assert scim.delete(f"Users/{boss.public_id}").status_code == 204
    later(scim, path, renamed)


def test_a_deleted_team_changes_its_members_versions(scim, learner, sales):
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])
    path = f"Users/{learner.public_id}"
    before = meta(scim, path)
    assert scim.delete(f"Groups/{sales.public_id}").status_code == 204
    later(scim, path, before)
    assert "groups" not in scim.get(path).json()


def test_renaming_or_filling_a_team_costs_the_same_statements_at_any_size(scim, org):
    assert scim.get("Groups?count=0").status_code == 200  # the key's use is noted once a minute
    counts = {}
    for size in (1, 200):
        team = factories.team(org, f"Team of {size}")
        people = factories.many_users(org, size, prefix=f"size{size}-")
        add = patch(
            {"op": "add", "path": "members", "value": [{"value": str(p.public_id)} for p in people]}
        )
        rename = patch({"op": "replace", "path": "displayName", "value": f"Renamed {size}"})
        with CaptureQueriesContext(connection) as adding:
            assert scim.patch(f"Groups/{team.public_id}", add).status_code == 204
        with CaptureQueriesContext(connection) as renaming:
            assert scim.patch(f"Groups/{team.public_id}", rename).status_code == 204
        counts[size] = (len(adding), len(renaming))
    assert counts[1] == counts[200]
    # Adding: the key, the team, the people named, the members present, the insert, the team's
    # and the people's updated_at, the audit row, and the log entry (with SET LOCAL), plus the
    # test transaction's savepoints around the request's and the log's.
    assert counts[1][0] <= 14


def test_every_read_of_a_person_shows_the_same_version_with_or_without_their_teams(
    scim, org, learner, sales
):
    """lastModified comes from the teams read for the answer (scim.users.attach_teams), or from
    the person's query when the answer has no teams: both must agree, before and after a
    rename of one of their teams."""
    services.team_add_members(team=sales, actor=factories.SYSTEM, users=[learner])
    factories.user(org, "other@acme.test")  # on the same page, in no team

    def versions() -> set[str]:
        one = f"Users/{learner.public_id}"
        seen = {
            meta(scim, one)["version"],
            meta(scim, f"{one}?excludedAttributes=groups")["version"],
        }
        found = f'Users?filter=userName eq "{learner.username}"'
        for listing in (found, f"{found}&excludedAttributes=groups", "Users?count=10"):
            people = scim.get(listing).json()["Resources"]
            seen |= {p["meta"]["version"] for p in people if p["id"] == str(learner.public_id)}
        return seen

    before = versions()
    assert len(before) == 1
    rename = patch({"op": "replace", "value": {"id": str(sales.public_id), "displayName": "Won"}})
    assert scim.patch(f"Groups/{sales.public_id}", rename).status_code == 204
    after = versions()
    assert len(after) == 1 and after != before
