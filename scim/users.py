"""The SCIM User resource: people as SCIM documents, and documents back into service calls."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import F, FilteredRelation, Func, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from accounts import custom_attributes, services
from accounts.audit import Actor
from accounts.models import CustomAttribute, Organisation, TeamMembership, User
from accounts.services import ManagerReference, UserFields
from accounts.versions import membership_changed, user_last_modified
from auzlearn.compiled_reads import CompiledValues
from scim import fields
from scim.documents import (
    as_bool,
    as_text,
    get_ci,
    resource_meta,
    version_of,
)
from scim.errors import invalid_value
from scim.query import Projection
from scim.schema import (
    CORE_USER,
    CUSTOM_USER,
    ENTERPRISE_USER,
    USER,
    Attribute,
    ResourceType,
    Schema,
    custom_user_schema,
    user_type,
)

# What for_rendering, with_last_modified and attach_teams add to each person, read back by
# render and version.
TEAMS = "scim_teams"
MANAGER_ID = "scim_manager_id"
MANAGER_EMAIL = "scim_manager_email"
MANAGER_USERNAME = "scim_manager_username"
LAST_MODIFIED = "scim_last_modified"
TEAMS_READ = "scim_teams_read"  # with_teams: the teams read in the person's own row


def with_last_modified(people: QuerySet[User]) -> QuerySet[User]:
    """What version() needs, in the query that reads the people: when each person's
    representation last changed, their teams' names included (accounts.versions). When their
    teams are read anyway, attach_teams works it out from them instead."""
    return people.annotate(**{LAST_MODIFIED: user_last_modified()})


def for_rendering(
    people: QuerySet[User], projection: Projection, *, one: bool = False
) -> QuerySet[User]:
    """What render() needs besides what attach_teams adds, in the query that reads the people:
    the manager's id, email and userName by a join (three columns rather than a whole second
    person per row), and the last change when the answer has no teams (attach_teams then reads
    none). A deleted manager is shown as nobody's (DESIGN §4): the link stays, for revival, but
    the join does not follow it.

    ``one``: the query reads a single person (scim.hot_reads: by id or userName, or locked for
    a change). On PostgreSQL their teams come in the same statement, as one array
    (``with_teams``): one round trip fewer for a GET, a lookup, a PUT and a PATCH."""
    if one and connection.vendor == "postgresql" and projection.wants(CORE_USER, "groups"):
        people = with_teams(people)
    elif not projection.wants(CORE_USER, "groups"):
        people = with_last_modified(people)
    return people.annotate(
        live_manager=FilteredRelation("manager", condition=Q(manager__deleted_at__isnull=True)),
        **{
            MANAGER_ID: F("live_manager__public_id"),
            MANAGER_EMAIL: F("live_manager__email"),
            MANAGER_USERNAME: F("live_manager__username"),
        },
    )


def with_teams(people: QuerySet[User]) -> QuerySet[User]:
    """Each person's teams in their own row, as an array of [id, name, changed] that
    attach_teams reads instead of querying (PostgreSQL only: ARRAY(SELECT ...) has no SQLite
    form); changed (accounts.versions.membership_changed) as JSON spells it, ISO 8601 whatever
    the session's DateStyle. One correlated lookup of a handful of membership rows: cheaper than
    a second round trip for one person, dearer for a page of 100, which keeps attach_teams's one
    query for all."""
    teams = TeamMembership.objects.filter(user=OuterRef("pk")).values(
        row=Func(
            Cast("team__public_id", TextField()),
            "team__display_name",
            Func(membership_changed(), template="(to_json(%(expressions)s) #>> '{}')"),
            template="ARRAY[%(expressions)s]",
            arg_joiner=", ",
            output_field=ArrayField(TextField()),
        )
    )
    return people.annotate(
        **{TEAMS_READ: ArraySubquery(teams, output_field=ArrayField(ArrayField(TextField())))}
    )


def last_modified(user: User) -> datetime:
    last: datetime = getattr(user, LAST_MODIFIED)  # with_last_modified or attach_teams put it
    return last


def version(user: User) -> str:
    return version_of(user.pk, last_modified(user))


def as_created(user: User) -> User:
    """A person user_create just wrote, with what render() needs and no read: no teams, no
    manager yet, and their creation is their last change."""
    setattr(user, TEAMS, [])
    setattr(user, LAST_MODIFIED, user.updated_at)
    for name in (MANAGER_ID, MANAGER_EMAIL, MANAGER_USERNAME):
        setattr(user, name, None)
    return user


def note_change(user: User) -> None:
    """A person's last change once this request changed their row (``updated_at``) after
    reading it with their teams."""
    setattr(user, LAST_MODIFIED, max(last_modified(user), user.updated_at))


def manager_link(user: User) -> tuple[int | None, str, str]:
    """Whom the person's manager is, or the reference waiting for them, as their row says."""
    return user.manager_id, user.pending_manager_value, user.pending_manager_display


def attach_teams(people: Sequence[User], projection: Projection) -> None:
    """The teams of the people read, for render, and with them each person's last change (the
    latest of their own and their teams' renaming, as accounts.versions has it): one query for
    all of them; none when with_teams read them with the people, when nobody was found (most
    lookups before a create) or when the answer leaves groups out (for_rendering then read the
    last change). Plain values rather than a prefetch: no model objects for a page of 100
    people's memberships.

    The last change is worked out here rather than by a correlated subquery in the query that
    reads the people: for a page of 100, PostgreSQL hashed the team table once per person, 5 of
    the page's 22 ms (bench/README.md, issue 15), and these rows are read anyway."""
    if not people or not projection.wants(CORE_USER, "groups"):
        return
    memberships: Iterable[tuple[int, Any, str, datetime]]
    if hasattr(people[0], TEAMS_READ):  # with_teams read them with the people
        memberships = [
            (person.pk, team_id, name, datetime.fromisoformat(changed_at))
            for person in people
            for team_id, name, changed_at in getattr(person, TEAMS_READ)
        ]
    else:
        memberships = _memberships_of([person.pk for person in people])
    teams: dict[int, list[tuple[str, str]]] = defaultdict(list)
    changed: dict[int, datetime] = {}  # by their teams' renaming or their joining
    for user_id, team_id, name, membership_changed_at in memberships:
        teams[user_id].append((str(team_id), name))
        latest = changed.get(user_id, membership_changed_at)
        changed[user_id] = max(membership_changed_at, latest)
    for person in people:
        own = person.updated_at
        setattr(person, LAST_MODIFIED, max(own, changed.get(person.pk, own)))
        setattr(person, TEAMS, _by_name(teams[person.pk]))


def _memberships(user_ids: list[int]) -> QuerySet[TeamMembership, tuple[Any, ...]]:
    return TeamMembership.objects.filter(user__any=user_ids).values_list(
        "user_id", "team__public_id", "team__display_name", membership_changed()
    )


# Compiled once on PostgreSQL (auzlearn/compiled_reads.py): building and compiling this
# queryset was a tenth of a page of 100 people (cProfile, bench/README.md). Elsewhere __any is
# a parameter per id, so the SQL differs with the page's length and the ORM builds it each time.
_MEMBERSHIPS = CompiledValues(_memberships, user_ids=[-1])


def _memberships_of(user_ids: list[int]) -> Iterable[tuple[Any, ...]]:
    if connection.vendor == "postgresql":
        return _MEMBERSHIPS(user_ids=user_ids)
    return _memberships(user_ids)


def _by_name(teams: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(teams, key=lambda team: (team[1].lower(), team))


# render() reads each group of columns with one attrgetter call: a page renders 100 people.
_NAME = tuple(text.sub for text in fields.CORE_TEXT if text.sub)
_NAME_FIELDS = attrgetter(*(text.field for text in fields.CORE_TEXT if text.sub))
_CORE = tuple(text.attribute for text in fields.CORE_TEXT if not text.sub)
_CORE_FIELDS = attrgetter(*(text.field for text in fields.CORE_TEXT if not text.sub))
_ENTERPRISE = tuple(text.attribute for text in fields.ENTERPRISE_TEXT)
_ENTERPRISE_FIELDS = attrgetter(*(text.field for text in fields.ENTERPRISE_TEXT))
_LISTS = tuple(fields.LISTS)
_LIST_FIELDS = attrgetter(*fields.LISTS.values())


def render(user: User, *, tenant_url: str, projection: Projection) -> dict[str, Any]:
    """The person as SCIM shows them: every attribute as it was sent, from the one row read
    (the organisation's own attributes too, as ``custom_attributes`` holds them: rendering
    needs no definition of them)."""
    public_id = str(user.public_id)  # once: a page renders 100 people
    location = f"{tenant_url}/Users/{public_id}"
    document: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE_USER, CUSTOM_USER]
        if user.custom_attributes
        else [CORE_USER, ENTERPRISE_USER],
        "id": public_id,
        "externalId": user.external_id,
        "userName": user.username,
        "name": _present(_NAME, _NAME_FIELDS(user)),
        **_present(_CORE, _CORE_FIELDS(user)),
        "active": user.is_active,
        **_present(_LISTS, _LIST_FIELDS(user)),
    }
    enterprise = _present(_ENTERPRISE, _ENTERPRISE_FIELDS(user))
    manager = _manager(user, tenant_url)
    if manager:
        enterprise["manager"] = manager
    document[ENTERPRISE_USER] = enterprise
    document[CUSTOM_USER] = user.custom_attributes
    document["meta"] = resource_meta(
        "User", user.created_at, last_modified(user), location, version(user)
    )
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


def _present(names: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    """The attributes that have a value ("" and [] are none)."""
    return {name: value for name, value in zip(names, values, strict=True) if value}


def _manager(user: User, tenant_url: str) -> dict[str, str] | None:
    """A linked manager as our id, its URI and the manager's email, whatever the client sent
    (DESIGN §4). A reference still waiting for its manager is returned as the client sent it,
    so the client sees what it asked for and does not send it again and again."""
    manager_id = getattr(user, MANAGER_ID)
    if manager_id is None and user.manager_id is not None:
        return None  # a deleted manager: hidden until they are revived
    if manager_id is None:
        if not user.pending_manager_value and not user.pending_manager_display:
            return None
        waiting = {
            "value": user.pending_manager_value,
            "displayName": user.pending_manager_display,
        }
        return _without_empty(waiting) or None
    manager = str(manager_id)
    return {
        "value": manager,
        "$ref": f"{tenant_url}/Users/{manager}",
        "displayName": getattr(user, MANAGER_EMAIL) or getattr(user, MANAGER_USERNAME),
    }


def _without_empty(document: dict[str, Any]) -> dict[str, Any]:
    """SCIM leaves unassigned attributes out rather than sending nulls or empty strings: of the
    falsy JSON values, None, "", [] and {} go, False and 0 stay. (Asked that way rather than as
    ``not in (None, "", [], {})``, which compared every value with all four: a third of the
    time of rendering a page of 100.)"""
    return {key: value for key, value in document.items() if value or value is False or value == 0}


@dataclass
class UserInput:
    """A User document turned into what the services take."""

    username: str
    fields: UserFields = field(default_factory=lambda: UserFields())
    active: bool | None = None  # None: not said
    manager: ManagerReference | None = None  # None: the extension did not say
    # The organisation's own attributes by their names, None for "no value"; None when the
    # document had no CUSTOM_USER extension (a PUT without it leaves them as they are).
    custom: dict[str, custom_attributes.JsonValue | None] | None = None
    ignored: list[str] = field(default_factory=list)


def parse(document: dict[str, Any], resource_type: ResourceType = USER) -> UserInput:
    """Read a POST or PUT body (or a patched document). Names are matched ignoring case;
    attributes we do not store are ignored and noted; ``password`` is ignored (Okta sends a
    random one). The organisation's own attributes are read (``resource_type`` loads their
    definitions) only when the document has their extension."""
    username = as_text(get_ci(document, "userName"), "userName")
    if not username:
        raise invalid_value('"userName" is required and must not be empty.')
    ignored = [key for key in document if _is_ignored(key)]
    name = get_ci(document, "name") or {}
    if not isinstance(name, dict):
        raise invalid_value('"name" must be an object with givenName, familyName and so on.')
    _note_unknown(name, USER.schema.attribute("name"), "name", ignored)
    external_id = as_text(get_ci(document, "externalId"), "externalId")
    # By field name (scim.fields), so a plain dict: what the services take is UserFields.
    profile: dict[str, Any] = {"external_id": external_id or None}
    for text in fields.CORE_TEXT:
        holder = name if text.sub else document
        profile[text.field] = as_text(get_ci(holder, text.sub or text.attribute), text.label)
    for attribute, column in fields.LISTS.items():
        profile[column] = _values(get_ci(document, attribute), attribute, ignored)
    manager = None
    enterprise = get_ci(document, ENTERPRISE_USER)
    if enterprise is not None:
        if not isinstance(enterprise, dict):
            raise invalid_value(f'"{ENTERPRISE_USER}" must be an object.')
        for text in fields.ENTERPRISE_TEXT:
            profile[text.field] = as_text(get_ci(enterprise, text.attribute), text.label)
        manager = manager_reference(get_ci(enterprise, "manager"))
        ignored += [f"{ENTERPRISE_USER}:{key}" for key in enterprise if not _in_enterprise(key)]
    custom = get_ci(document, CUSTOM_USER)
    active = get_ci(document, "active")
    return UserInput(
        username=username,
        fields=cast(UserFields, profile),
        active=None if active is None else as_bool(active, "active"),
        manager=manager,
        custom=None if custom is None else custom_values(custom, resource_type, ignored),
        ignored=ignored,
    )


def _in_enterprise(key: str) -> bool:
    return USER.find(key, ENTERPRISE_USER) is not None


def _values(values: Any, attribute: str, ignored: list[str]) -> list[dict[str, Any]]:
    """A multi-valued attribute's values as sent, with canonical sub-attribute names and real
    booleans. Sub-attributes we do not keep are noted; a value without its "value" (or an
    address without any part) is no value."""
    if values is None or values == "":
        return []
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise invalid_value(f'"{attribute}" must be a list of objects.')
    described = USER.schema.attribute(attribute)
    assert described is not None  # fields.LISTS names attributes of the core schema
    kept = []
    for element in values:
        value: dict[str, Any] = {}
        for key, raw in element.items():
            sub = described.sub_attribute(key)
            if sub is None:
                _note(ignored, f"{attribute}.{key}")
            elif raw is None or raw == "":
                continue
            elif sub.type == "boolean":
                value[sub.name] = as_bool(raw, f"{attribute}.{sub.name}")
            else:
                value[sub.name] = as_text(raw, f"{attribute}.{sub.name}")
        if _has_value(described, value):
            kept.append(value)
    return kept


def _has_value(attribute: Attribute, value: dict[str, Any]) -> bool:
    """An email, phone number or photo needs its "value"; an address needs some part."""
    if attribute.sub_attribute("value") is not None:
        return bool(value.get("value"))
    return any(name not in ("type", "primary") for name in value)


def custom_values(
    values: Any, resource_type: ResourceType, ignored: list[str]
) -> dict[str, custom_attributes.JsonValue | None] | None:
    """The organisation's own attributes in a document's CUSTOM_USER object, each as its
    declared type, by the name the organisation gave it; None when it has none at all. Entra
    sends booleans and numbers as text at times ("True", "42"): accounts.custom_attributes
    reads those. A name the organisation does not have is ignored and noted; a value of the
    wrong type is refused."""
    if not isinstance(values, dict):
        raise invalid_value(f'"{CUSTOM_USER}" must be an object.')
    schema = resource_type.schema_for(CUSTOM_USER)
    typed: dict[str, custom_attributes.JsonValue | None] = {}
    for key, raw in values.items():
        attribute = schema.attribute(key) if schema is not None else None
        if attribute is None:
            _note(ignored, f"{CUSTOM_USER}:{key}")
            continue
        typed[attribute.name] = custom_value(attribute, raw)
    return typed if schema is not None and schema.attributes else None


_TYPE_WORDS = {str(type_): words for type_, words in custom_attributes.TYPE_WORDS.items()}


def custom_value(attribute: Attribute, raw: Any) -> custom_attributes.JsonValue | None:
    try:
        return custom_attributes.typed_value(attribute.type, raw)
    except custom_attributes.ValueRefused as refused:
        words = _TYPE_WORDS.get(attribute.type, attribute.type)
        raise invalid_value(
            f'"{CUSTOM_USER}:{attribute.name}" must be {words}: {refused}'
        ) from None


def custom_changes(
    before: dict[str, Any], after: Any
) -> dict[str, custom_attributes.JsonValue | None] | None:
    """What a PATCH did to the organisation's own attributes: the new value of each one it
    changed (None: removed), from the resource before and its CUSTOM_USER object after; None
    when it changed none."""
    old = before.get(CUSTOM_USER) or {}
    new = after if isinstance(after, dict) else {}
    changed = {name: new.get(name) for name in {*old, *new} if old.get(name) != new.get(name)}
    return changed or None


def user_type_of(organisation: Organisation) -> ResourceType:
    """User as this organisation has it, its own attributes read when first needed."""
    return user_type(lambda: organisation_schema(organisation))


def organisation_schema(organisation: Organisation) -> Schema:
    """The organisation's own attributes as the CUSTOM_USER extension: one query."""
    rows = (
        CustomAttribute.objects.filter(organisation=organisation)
        .order_by("name")
        .values_list("name", "type", "description")
    )
    return custom_user_schema(rows)


# Not stored, and not worth a note: Okta's random password, and what the server sets itself.
_SKIPPED_SILENTLY = {"password", "schemas", "id", "meta", "groups"}
_EXTENSIONS = {ENTERPRISE_USER.lower(), CUSTOM_USER.lower()}


def _is_ignored(key: str) -> bool:
    """Whether a top-level key of a body names nothing we store (Entra sends roles, its own
    schema URNs), so that the Activity tab can say so."""
    if key.lower() in _SKIPPED_SILENTLY or key.lower() in _EXTENSIONS:
        return False
    return USER.find(key) is None


def _note_unknown(
    value: dict[str, Any], attribute: Attribute | None, where: str, ignored: list[str]
) -> None:
    for key in value:
        if attribute is None or attribute.sub_attribute(key) is None:
            _note(ignored, f"{where}.{key}")


def _note(ignored: list[str], where: str) -> None:
    if where not in ignored:
        ignored.append(where)


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


def apply(
    user: User,
    user_input: UserInput,
    *,
    actor: Actor,
    touch_manager: bool,
    replace_custom: bool = True,
) -> User:
    """Make ``user`` what the document says, through the services (the caller holds the
    transaction, so a refusal anywhere changes nothing). The organisation's own attributes
    change only when the document had their extension: all of them (``replace_custom``, PUT)
    or those it names (PATCH)."""
    services.user_update(user=user, actor=actor, username=user_input.username, **user_input.fields)
    if user_input.custom is not None:
        services.user_set_custom_attributes(
            user=user, actor=actor, values=user_input.custom, replace=replace_custom
        )
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
