"""The simulated directory: deterministic, realistic, and shaped for each vendor."""

import re
import uuid

import pytest

from devidp import directory


def build(vendor: directory.Vendor = "okta", **sizes: int) -> directory.Directory:
    options = {"seed": 14, "people": 40, "teams": 4, **sizes}
    return directory.build(vendor=vendor, domain="acme.test", **options)


def test_the_same_seed_gives_the_same_directory_and_another_seed_another() -> None:
    assert build() == build()
    assert build(seed=15) != build()


def test_both_vendors_have_the_same_people_with_their_own_kind_of_id() -> None:
    okta, entra = build("okta"), build("entra")

    assert [p.username for p in okta.people] == [p.username for p in entra.people]
    assert all(re.fullmatch(r"00u[0-9A-Za-z]{17}", p.external_id) for p in okta.people)
    assert all(uuid.UUID(p.external_id).version == 4 for p in entra.people)
    assert okta.gone == () and entra.gone


def test_people_have_unique_ascii_usernames_titles_departments_and_managers() -> None:
    built = build(people=120)

    usernames = [p.username for p in built.people]
    assert len(set(usernames)) == 120
    assert all(re.fullmatch(r"[a-z0-9.]+@acme\.test", u) for u in usernames)
    assert all(p.title and p.department and p.employee_number for p in built.people)
    assert [p.index for p in built.people if p.manager is None] == [0]
    for person in built.people:  # every chain ends at the chief executive: no cycles
        seen = set()
        while person.manager is not None:
            assert person.index not in seen
            seen.add(person.index)
            person = built.people[person.manager]
        assert person.index == 0


@pytest.mark.parametrize("seed", range(20))
def test_some_report_arrives_before_their_manager(seed: int) -> None:
    built = build(seed=seed, people=6)
    position = {index: order for order, index in enumerate(built.arrival)}

    assert sorted(built.arrival) == list(range(6))
    assert any(
        position[p.index] < position[p.manager] for p in built.people if p.manager is not None
    )


def test_leavers_returners_and_the_deleted_are_nobodys_managers_and_distinct() -> None:
    built = build("entra")
    managers = {p.manager for p in built.people}
    events = [*built.leavers, *built.returners, *built.gone, *built.promotions]

    assert len(events) == len(set(events)) == 8
    assert not managers & set(events)
    for index in built.promotions:
        promoted = built.people[index]
        assert promoted.title == f"Senior {promoted.first_title}"


def test_teams_are_departments_first_then_others_and_someone_moves() -> None:
    built = build(teams=9)

    assert [t.name for t in built.teams][:7] == [
        "Engineering", "Sales", "Marketing", "Customer Success", "Finance", "People", "Leadership"
    ]  # fmt: skip
    assert len({t.name for t in built.teams}) == 9
    move = built.move
    assert move is not None
    assert move.person in built.teams[move.from_team].members
    assert move.person not in built.teams[move.to_team].members


def test_a_directory_of_one() -> None:
    built = build(people=1, teams=1)
    assert len(built.people) == 1 and built.people[0].manager is None
