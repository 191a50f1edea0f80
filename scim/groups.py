"""The SCIM Group resource: the organisation's teams as SCIM documents, and member lists."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from accounts.models import Organisation, Team, TeamMembership, User
from scim.documents import as_text, get_ci, resource_meta, version_of
from scim.errors import invalid_value
from scim.query import Projection
from scim.schema import CORE_GROUP, GROUP

MAX_MEMBERS_PER_REQUEST = 10_000


def members_of(teams: Iterable[Team]) -> dict[int, list[str]]:
    """Every team's members' ids, as text, in one query, whatever their number, from the
    memberships alone (membership_live_members_idx: no read of the people, whose index grows
    with the directory). Deleted people keep their membership (it comes back when they are
    revived) but SCIM does not show them.

    The ids come from the database as text, not as UUIDs: a 10,000-member team made 10,000
    UUID objects and turned each into text twice (its value and its $ref), which was a third
    of the time of its GET in-process (cProfile)."""
    by_team: dict[int, list[str]] = defaultdict(list)
    ids = [team.pk for team in teams]
    if not ids:
        return by_team
    # One team (a GET) by equality, whose index scan comes in member order: no sort of its
    # members (10,000: 6 → 2.3 ms, EXPLAIN ANALYZE); a page of teams by one array.
    which = Q(team_id=ids[0]) if len(ids) == 1 else Q(team__any=ids)
    rows = (
        TeamMembership.objects.filter(which, user_deleted=False)
        .order_by("user_id")
        .values_list("team_id", Cast("user_public_id", output_field=CharField()))
    )
    if connection.vendor == "postgresql":  # uuid::varchar is the canonical 8-4-4-4-12 form
        for team_id, public_id in rows:
            by_team[team_id].append(public_id)
    else:  # SQLite keeps UUIDs as 32 hex digits
        for team_id, digits in rows:
            by_team[team_id].append(
                f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
            )
    return by_team


def version(team: Team) -> str:
    """The team's ETag. Its updated_at moves with every change of what it shows: its name,
    its members, and a member's deletion or revival (accounts.services)."""
    return version_of(team.pk, team.updated_at)


def render(
    team: Team, members: list[str] | None, *, tenant_url: str, projection: Projection
) -> dict[str, Any]:
    location = f"{tenant_url}/Groups/{team.public_id}"
    document: dict[str, Any] = {
        "schemas": [CORE_GROUP],
        "id": str(team.public_id),
        "displayName": team.display_name,
        "meta": resource_meta("Group", team.created_at, team.updated_at, location, version(team)),
    }
    if team.external_id:
        document["externalId"] = team.external_id
    if members:
        users_url = f"{tenant_url}/Users/"
        document["members"] = [
            {"value": public_id, "$ref": users_url + public_id, "type": "User"}
            for public_id in members
        ]
    return projection.apply(document, GROUP)


@dataclass
class GroupInput:
    display_name: str
    external_id: str | None
    member_ids: list[str] | None = field(default=None)  # None: the body has no "members"


def parse(document: dict[str, Any]) -> GroupInput:
    display_name = as_text(get_ci(document, "displayName"), "displayName").strip()
    if not display_name:
        raise invalid_value('"displayName" is required and must not be empty.')
    members = get_ci(document, "members")
    return GroupInput(
        display_name=display_name,
        external_id=as_text(get_ci(document, "externalId"), "externalId") or None,
        member_ids=None if members is None else member_ids(members),
    )


def member_ids(members: Any) -> list[str]:
    """Member references as Okta and Entra send them: objects with a "value" (or bare ids)."""
    if not isinstance(members, list):
        raise invalid_value('"members" must be a list of objects with a "value".')
    ids: list[str] = []
    for member in members:
        value = get_ci(member, "value") if isinstance(member, dict) else member
        if not isinstance(value, str) or not value:
            raise invalid_value('Each member must be an object with a "value" holding a user id.')
        ids.append(value)
    return ids


def resolve(
    organisation: Organisation, *, joining: Iterable[str], leaving: Iterable[str] = ()
) -> dict[str, User]:
    """Map member ids to people of the organisation, in one query.

    Every id in ``joining`` (added, or named in a full member list) must be one of its live
    people: any other id makes the whole request fail, so nothing is applied. An id in
    ``leaving`` may name anyone or nobody: a removal always succeeds (DESIGN §4), so a deleted
    person can be taken out of a team, and an id nobody has is simply not a member. Ids of
    another organisation's people are treated exactly as ids nobody has.

    When some leave, the people named are locked (in id order) by this same query, and the
    caller calls this before it locks the team: a person's deletion locks the person, then
    their teams (to move their versions), so taking the people first here too means the two
    wait for each other instead of deadlocking (Entra deletes a person and takes them out of
    their groups at the same moment)."""
    joining, leaving = list(dict.fromkeys(joining)), list(dict.fromkeys(leaving))
    how_many = len(set(joining) | set(leaving))
    if how_many > MAX_MEMBERS_PER_REQUEST:
        raise invalid_value(
            f"A request may name at most {MAX_MEMBERS_PER_REQUEST} members; "
            f"this one names {how_many}."
        )
    parsed = {text: _uuid(text) for text in [*joining, *leaving]}
    # Only what a membership change reads of each person (accounts.services: the id, the
    # organisation, the userName for an error, the SCIM id for the audit), not 45 columns
    # each of up to 10,000 people.
    named = (
        User.objects.for_organisation(organisation)
        .filter(public_id__any={u for u in parsed.values() if u is not None})
        .only("pk", "public_id", "organisation_id", "username", "deleted_at")
    )
    if leaving:
        named = named.order_by("pk").select_for_update(no_key=True)
    people = {user.public_id: user for user in named}
    found = {text: people[u] for text, u in parsed.items() if u in people}
    unknown = [text for text in joining if text not in found or found[text].is_deleted]
    if unknown:
        shown = ", ".join(f'"{text[:64]}"' for text in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise invalid_value(
            f"These member ids are not users of this organisation: {shown}{more}. "
            "Provision the users first; nothing was changed."
        )
    return found


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
