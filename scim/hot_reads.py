"""The reads Okta and Entra send most, by SQL compiled once per process
(auzlearn/compiled_reads.py): GET /Users/{id}, the lookup they make before every create or
update (``GET /Users?filter=userName eq "…"``), the locked read of a PUT, PATCH or DELETE, and
the pages of an import. Each is the query the general path builds (scim.users.for_rendering
over the same conditions; tests/scim/test_hot_reads.py compares the answers), without building
and compiling it again on every request, which took 0.7 ms of Python a request (bench/README.md,
issue 15)."""

import re
import uuid
from collections.abc import Mapping
from functools import lru_cache

from django.db import connection
from django.db.models import QuerySet, Subquery

from accounts.models import Organisation, PeopleCount, User
from auzlearn.compiled_reads import CompiledRead
from scim import filters
from scim.query import Page, Projection, page_of
from scim.schema import CORE_USER
from scim.users import for_rendering, with_last_modified

# The lookup as Okta and Entra write it. Anything else takes the general path: other spacing,
# a value with a quote or a backslash (a JSON escape, which its parser decodes) or a control
# character, and a filter longer than filters.MAX_FILTER_LENGTH (which it refuses).
USERNAME_EQ = re.compile(
    r'(?:urn:ietf:params:scim:schemas:core:2\.0:User:)?userName eq "([^"\\\x00-\x1f\x7f]*)"',
    re.IGNORECASE,
)
# What a lookup may say besides its filter (names compare ignoring case, as scim.query's).
LOOKUP_PARAMETERS = {"filter", "startindex", "count", "attributes", "excludedattributes"}
# What the first page of an import may say: everyone, in the default order (scim.filters).
FIRST_PAGE_PARAMETERS = LOOKUP_PARAMETERS - {"filter"}

WITH_GROUPS = Projection()
WITHOUT_GROUPS = Projection(excluded=frozenset({(CORE_USER, "groups", "")}))


def _people(organisation_id: int) -> QuerySet[User]:
    return User.objects.get_queryset().not_deleted().filter(organisation_id=organisation_id)


def _by_id(projection: Projection) -> CompiledRead[User]:
    return CompiledRead(
        lambda organisation_id, public_id: for_rendering(
            _people(organisation_id).filter(public_id=public_id), projection, one=True
        )[:1],
        organisation_id=-1,
        public_id=uuid.UUID(int=0xC0DE),
    )


def _by_username(projection: Projection) -> CompiledRead[User]:
    return CompiledRead(
        lambda organisation_id, username: for_rendering(
            _people(organisation_id).filter(filters.user_filter(f'userName eq "{username}"')),
            projection,
            one=True,
        )[:2],
        organisation_id=-1,
        username="compiled-read-marker",
    )


def _locked(rendered: bool) -> CompiledRead[User]:
    """FOR NO KEY UPDATE: a concurrent change that names the person as a manager only needs the
    foreign key's KEY SHARE lock, which this does not block (accounts.services tells why)."""

    def build(organisation_id: int, public_id: uuid.UUID) -> QuerySet[User]:
        people = _people(organisation_id).filter(public_id=public_id)
        if rendered:
            people = for_rendering(people, WITH_GROUPS, one=True)
        else:
            people = with_last_modified(people)
        return people.select_for_update(no_key=True, of=("self",))[:1]

    return CompiledRead(build, organisation_id=-1, public_id=uuid.UUID(int=0xC0DE))


# Keyed by whether the answer shows the person's groups: the only thing in a projection that
# changes the query (scim.users.for_rendering).
_BY_ID = {True: _by_id(WITH_GROUPS), False: _by_id(WITHOUT_GROUPS)}
_BY_USERNAME = {True: _by_username(WITH_GROUPS), False: _by_username(WITHOUT_GROUPS)}
# PUT and PATCH (rendered: the answer and the PATCH's before-image come from this row), DELETE.
_LOCKED = {True: _locked(rendered=True), False: _locked(rendered=False)}


def by_id(organisation: Organisation, resource_id: str, projection: Projection) -> User | None:
    """The organisation's person with this SCIM id, not deleted, with what render() needs
    (their teams too on PostgreSQL: attach_teams then reads none); None also for an id that is
    not a UUID at all (Okta probes with ids like 010101001010101011001010101011)."""
    public_id = _uuid(resource_id)
    if public_id is None:
        return None
    read = _BY_ID[projection.wants(CORE_USER, "groups")]
    found = read(organisation_id=organisation.pk, public_id=public_id)
    return found[0] if found else None


def locked(organisation: Organisation, resource_id: str, *, rendered: bool) -> User | None:
    """The person by_id reads, locked for the rest of the transaction; ``rendered``: with what
    render() needs, else with their last change only (their version)."""
    public_id = _uuid(resource_id)
    if public_id is None:
        return None
    found = _LOCKED[rendered](organisation_id=organisation.pk, public_id=public_id)
    return found[0] if found else None


def username_lookup(params: Mapping[str, str]) -> tuple[str, Page] | None:
    """The userName and page of a list request that is only a lookup by userName, on the
    first page; None for anything else (sorting, a cursor, another filter), which the general
    path answers."""
    text = next((value for name, value in params.items() if name.lower() == "filter"), "")
    match = USERNAME_EQ.fullmatch(text) if len(text) <= filters.MAX_FILTER_LENGTH else None
    if match is None:  # before the page: a bad filter is told before a bad count, as ever
        return None
    page = _first_page_saying_only(params, LOOKUP_PARAMETERS)
    return None if page is None else (match.group(1), page)


def first_page_of_everyone(params: Mapping[str, str]) -> Page | None:
    """The page of a list request for the first page of everyone in the default order (Okta's
    "Import users" starts so, and so does Entra's first sync), else None."""
    return _first_page_saying_only(params, FIRST_PAGE_PARAMETERS)


def _first_page_saying_only(params: Mapping[str, str], allowed: set[str]) -> Page | None:
    """The page asked for, when it is a first page of at least one and the request names
    only ``allowed`` parameters."""
    if any(name.lower() not in allowed for name in params):
        return None
    page = page_of(params)
    return page if page.start_index == 1 and page.count >= 1 else None


def _uuid(resource_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        return None


@lru_cache(maxsize=16)
def _first_page(groups: bool, count: int) -> CompiledRead[User]:
    """The query scim.query.page_rows sends for a first page (LIMIT is part of its text, so one
    compiled read per page size: Okta's and Entra's are 100 and 200, and a few more at most),
    each row with the organisation's number of people (PeopleCount, as the general path counts
    them): a subquery PostgreSQL runs once, which saves the page a round trip of its own."""
    projection = WITH_GROUPS if groups else WITHOUT_GROUPS

    def build(organisation_id: int) -> QuerySet[User]:
        people = for_rendering(_people(organisation_id).order_by("pk"), projection)
        total = Subquery(PeopleCount.total_in(organisation_id))
        return people.annotate(scim_people_total=total)[:count]

    return CompiledRead(build, repeated=("organisation_id",), organisation_id=-1)


def first_page(
    organisation: Organisation, count: int, projection: Projection
) -> tuple[list[User], int]:
    """The first ``count`` people of the organisation in the default order, as the general
    path reads them (their teams are attach_teams's), and how many people it has."""
    read = _first_page(projection.wants(CORE_USER, "groups"), count)
    people = read(organisation_id=organisation.pk)
    # No one read: the organisation has no one (the count and the people are one snapshot).
    return people, int(people[0].scim_people_total or 0) if people else 0  # type: ignore[attr-defined]


def _by_ids(groups: bool) -> CompiledRead[User]:
    projection = WITH_GROUPS if groups else WITHOUT_GROUPS
    return CompiledRead(
        lambda ids: for_rendering(User.objects.filter(pk__any=ids), projection), ids=[-1]
    )


# A deeper page of an import (scim.query.page_rows takes its ids first, then the people): on
# PostgreSQL the ids are one array parameter (auzlearn/lookups.py), so the SQL is the same for
# every page. Elsewhere they are a parameter each, and the general path reads them.
_BY_IDS = {True: _by_ids(groups=True), False: _by_ids(groups=False)}


def by_ids(ids: list[int], projection: Projection) -> list[User]:
    """These people (by primary key, none of them filtered out), as a page's general path reads
    them, in no particular order."""
    if connection.vendor != "postgresql":
        return list(for_rendering(User.objects.filter(pk__any=ids), projection))
    return _BY_IDS[projection.wants(CORE_USER, "groups")](ids=ids)


def by_username(organisation: Organisation, username: str, projection: Projection) -> list[User]:
    """The organisation's person with this userName (ignoring case), if any, as by_id reads."""
    read = _BY_USERNAME[projection.wants(CORE_USER, "groups")]
    return read(organisation_id=organisation.pk, username=username)
