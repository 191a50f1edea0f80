"""The SCIM User resource: people as SCIM documents, and documents back into service calls."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, FilteredRelation, Q, QuerySet

from accounts import services
from accounts.audit import Actor
from accounts.models import TeamMembership, User
from accounts.services import ManagerReference, UserFields
from accounts.versions import user_last_modified
from scim.documents import (
    as_bool,
    as_text,
    get_ci,
    pick_value,
    resource_meta,
    version_of,
)
from scim.errors import invalid_value
from scim.query import Projection
from scim.schema import CORE_USER, ENTERPRISE_USER, USER

# What for_rendering, with_last_modified and attach_teams add to each person, read back by
# render and version.
TEAMS = "scim_teams"
MANAGER_ID = "scim_manager_id"
MANAGER_EMAIL = "scim_manager_email"
MANAGER_USERNAME = "scim_manager_username"
LAST_MODIFIED = "scim_last_modified"


def with_last_modified(people: QuerySet[User]) -> QuerySet[User]:
    """What version() needs: when each person's representation last changed, their teams'
    names included (accounts.versions), in the query that reads them."""
    return people.annotate(**{LAST_MODIFIED: user_last_modified()})


def for_rendering(people: QuerySet[User]) -> QuerySet[User]:
    """What render() needs besides the teams, in the query that reads the people: the
    manager's id, email and userName by a join (three columns rather than a whole second
    person per row) and the last change. A deleted manager is shown as nobody's (DESIGN §4):
    the link stays, for revival, but the join does not follow it."""
    return with_last_modified(people).annotate(
        live_manager=FilteredRelation("manager", condition=Q(manager__deleted_at__isnull=True)),
        **{
            MANAGER_ID: F("live_manager__public_id"),
            MANAGER_EMAIL: F("live_manager__email"),
            MANAGER_USERNAME: F("live_manager__username"),
        },
    )


def last_modified(user: User) -> datetime:
    last: datetime = getattr(user, LAST_MODIFIED)  # with_last_modified put it there
    return last


def version(user: User) -> str:
    return version_of(user.pk, last_modified(user))


def attach_teams(people: Sequence[User], projection: Projection) -> None:
    """The teams of the people read, for render: one query for all of them, and none when
    nobody was found (most lookups before a create) or the response leaves groups out. Plain
    values rather than a prefetch: no model objects for a page of 100 people's memberships."""
    if not people or not projection.wants(CORE_USER, "groups"):
        return
    teams: dict[int, list[tuple[str, str]]] = defaultdict(list)
    memberships = TeamMembership.objects.filter(user__in=people).values_list(
        "user_id", "team__public_id", "team__display_name"
    )
    for user_id, team_id, name in memberships:
        teams[user_id].append((str(team_id), name))
    for person in people:
        setattr(person, TEAMS, sorted(teams[person.pk], key=lambda team: (team[1].lower(), team)))


def render(user: User, *, tenant_url: str, projection: Projection) -> dict[str, Any]:
    location = f"{tenant_url}/Users/{user.public_id}"
    document: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "id": str(user.public_id),
        "externalId": user.external_id,
        "userName": user.username,
        "name": _without_empty({"givenName": user.given_name, "familyName": user.family_name}),
        "displayName": user.display_name,
        "title": user.title,
        "emails": [{"value": user.email, "type": "work"}] if user.email else None,
        "phoneNumbers": (
            [{"value": user.phone_number, "type": "work"}] if user.phone_number else None
        ),
        "locale": user.locale,
        "timezone": user.timezone,
        "active": user.is_active,
        ENTERPRISE_USER: _without_empty(
            {
                "employeeNumber": user.employee_number,
                "department": user.department,
                "manager": _manager(user, tenant_url),
            }
        ),
        "meta": resource_meta(
            "User", user.created_at, last_modified(user), location, version(user)
        ),
    }
    if projection.wants(CORE_USER, "groups"):
        document["groups"] = [
            {
                "value": team_id,
                "$ref": f"{tenant_url}/Groups/{team_id}",
                "display": name,
            }
            for team_id, name in getattr(user, TEAMS)  # attach_teams put them there
        ] or None
    return projection.apply(_without_empty(document), USER)


def _manager(user: User, tenant_url: str) -> dict[str, str] | None:
    """A linked manager as our id, its URI and the manager's email, whatever the client sent
    (DESIGN §4). A reference still waiting for its manager is returned as the client sent it,
    so the client sees what it asked for and does not send it again and again."""
    manager_id = getattr(user, MANAGER_ID)
    if manager_id is None and user.manager_id is not None:
        return None  # a deleted manager: hidden until they are revived
    if manager_id is None:
        waiting = {
            "value": user.pending_manager_value,
            "displayName": user.pending_manager_display,
        }
        return _without_empty(waiting) or None
    return {
        "value": str(manager_id),
        "$ref": f"{tenant_url}/Users/{manager_id}",
        "displayName": getattr(user, MANAGER_EMAIL) or getattr(user, MANAGER_USERNAME),
    }


def _without_empty(document: dict[str, Any]) -> dict[str, Any]:
    """SCIM leaves unassigned attributes out rather than sending nulls or empty strings."""
    return {key: value for key, value in document.items() if value not in (None, "", [], {})}


@dataclass
class UserInput:
    """A User document turned into what the services take."""

    username: str
    fields: UserFields = field(default_factory=lambda: UserFields())
    active: bool | None = None  # None: not said
    manager: ManagerReference | None = None  # None: the extension did not say
    ignored: list[str] = field(default_factory=list)


def parse(document: dict[str, Any]) -> UserInput:
    """Read a POST or PUT body (or a patched document). Names are matched ignoring case;
    attributes we do not store are ignored; ``password`` is ignored (Okta sends a random one)."""
    username = as_text(get_ci(document, "userName"), "userName")
    if not username:
        raise invalid_value('"userName" is required and must not be empty.')
    name = get_ci(document, "name") or {}
    if not isinstance(name, dict):
        raise invalid_value('"name" must be an object with givenName and familyName.')
    external_id = as_text(get_ci(document, "externalId"), "externalId")
    fields = UserFields(
        external_id=external_id or None,
        email=pick_value(get_ci(document, "emails"), "emails"),
        given_name=as_text(get_ci(name, "givenName"), "name.givenName"),
        family_name=as_text(get_ci(name, "familyName"), "name.familyName"),
        display_name=as_text(get_ci(document, "displayName"), "displayName"),
        title=as_text(get_ci(document, "title"), "title"),
        locale=as_text(get_ci(document, "locale"), "locale"),
        timezone=as_text(get_ci(document, "timezone"), "timezone"),
        phone_number=pick_value(get_ci(document, "phoneNumbers"), "phoneNumbers"),
    )
    active = get_ci(document, "active")
    user_input = UserInput(
        username=username,
        fields=fields,
        active=None if active is None else as_bool(active, "active"),
        ignored=[key for key in document if _is_ignored(key)],
    )
    enterprise = get_ci(document, ENTERPRISE_USER)
    if enterprise is not None:
        if not isinstance(enterprise, dict):
            raise invalid_value(f'"{ENTERPRISE_USER}" must be an object.')
        fields["employee_number"] = as_text(get_ci(enterprise, "employeeNumber"), "employeeNumber")
        fields["department"] = as_text(get_ci(enterprise, "department"), "department")
        user_input.manager = manager_reference(get_ci(enterprise, "manager"))
    return user_input


# Not stored, and not worth a note: Okta's random password, and what the server sets itself.
_SKIPPED_SILENTLY = {"password", "schemas", "id", "meta", "groups"}


def _is_ignored(key: str) -> bool:
    """Whether a top-level key of a body names nothing we store (Entra sends addresses, roles,
    its own schema URNs), so that the Activity tab can say so."""
    if key.lower() in _SKIPPED_SILENTLY or key.lower() == ENTERPRISE_USER.lower():
        return False
    return USER.find(key) is None


def manager_reference(value: Any) -> ManagerReference:
    """Okta sends {"value", "displayName"}; Entra may send the id as a bare string."""
    if value is None or value == "":
        return ManagerReference()
    if isinstance(value, str):
        return ManagerReference(value=value)
    if not isinstance(value, dict):
        raise invalid_value('"manager" must be an object with "value" and "displayName".')
    return ManagerReference(
        value=as_text(get_ci(value, "value"), "manager.value"),
        display_name=as_text(get_ci(value, "displayName"), "manager.displayName"),
    )


def apply(user: User, user_input: UserInput, *, actor: Actor, touch_manager: bool) -> User:
    """Make ``user`` what the document says, through the services (the caller holds the
    transaction, so a refusal anywhere changes nothing)."""
    services.user_update(user=user, actor=actor, username=user_input.username, **user_input.fields)
    if user_input.active is False:
        services.user_deactivate(user=user, actor=actor)
    elif user_input.active is True:
        services.user_reactivate(user=user, actor=actor)
    if touch_manager:
        services.user_set_manager_reference(
            user=user, actor=actor, reference=user_input.manager or ManagerReference()
        )
    return user


def manager_part(document: dict[str, Any]) -> Any:
    """The manager as a document states it, to tell whether a PATCH touched it."""
    enterprise = get_ci(document, ENTERPRISE_USER)
    return get_ci(enterprise, "manager") if isinstance(enterprise, dict) else None
