"""bench.layout and the loader's pure parts: who is where, as functions of the size."""

import random

import pytest

from bench import layout, populate


@pytest.mark.parametrize("people", [1_000, 2_000, 20_000, 100_000, 1_000_000])
def test_pools_are_disjoint_where_they_must_be(people):
    """The writes of one phase must never touch another phase's people, nor the team that
    add_members adds them to."""
    disjoint = ["put", "deactivate", "saml", "add_members"]
    seen: set[int] = set()
    for name in disjoint:
        pool = set(layout.pool(people, name))
        assert pool, name
        assert not pool & seen, name
        seen |= pool
    assert not set(layout.add_team_members(people)) & set(layout.pool(people, "add_members"))
    assert all(0 <= i < people for i in seen)


@pytest.mark.parametrize("people", [1_000, 20_000, 1_000_000])
def test_the_big_team_is_ten_thousand_whenever_the_organisation_has_twenty(people):
    assert len(layout.big_team_members(people)) == min(10_000, people // 2)


def test_usernames_are_unique_case_insensitively_and_keep_their_capitals():
    plan = layout.plans(1_000_000)[0]
    names = [layout.username(plan, i) for i in (0, 1, 999_999)]
    assert names[0] == "Ada.Achebe.000000@bench-a.example"
    assert names[2] == "Tove.Tan.999999@bench-a.example"
    sample = [layout.username(plan, i).lower() for i in range(0, 1_000_000, 997)]
    assert len(set(sample)) == len(sample)


def test_the_size_is_in_the_names_so_a_reused_database_is_known_to_fit():
    assert [plan.name for plan in layout.plans(20_000)][:2] == [
        "Bench A (20000 people)",
        "Bench B (20000 people)",
    ]
    assert layout.plans(20_000)[2].people == layout.SMALL_ORGANISATION_PEOPLE


def test_many_plans_have_their_own_slugs_and_domains():
    plans = layout.many_plans(1_000, 1_000)
    assert len({plan.slug for plan in plans}) == 1_000
    assert len({plan.domain for plan in plans}) == 1_000
    assert not {plan.slug for plan in plans} & {plan.slug for plan in layout.plans(1_000)}
    assert all(plan.teams == layout.SMALL_ORGANISATION_TEAMS for plan in plans)
    # Too few people for the regular teams' sizes (20 to people // 20): none.
    assert all(plan.teams == 0 for plan in layout.many_plans(3, 399))


def test_managers_form_a_tree_without_cycles():
    people = 100_000
    assert populate.manager_index(0) is None
    for index in random.Random(1).sample(range(1, people), 2_000):  # noqa: S311 (a sample)
        manager = populate.manager_index(index)
        assert manager is not None and manager < index  # up the tree, never to oneself
    depth, index = 0, people - 1
    while (manager := populate.manager_index(index)) is not None:
        index, depth = manager, depth + 1
    assert index == 0 and depth == 4


def test_unusable_passwords_look_like_djangos():
    password = populate.unusable_password(random.Random(1))  # noqa: S311 (what the loader uses)
    assert password.startswith("!") and len(password) == 41
    assert password[1:].isalnum()
