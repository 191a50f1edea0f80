"""scim.filters: SCIM filters and sortBy over the real database, for Users and Groups.

One small organisation, built through accounts.services, is filtered with the shapes Okta and
Entra send and with the RFC 7644 examples; each case names exactly who must match.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.db.models import Q

from accounts import services
from accounts.models import Organisation, Team, TeamMembership, User
from scim import schema
from scim.errors import ScimError
from scim.filters import (
    GROUP_ATTRIBUTES,
    MAX_FILTER_LENGTH,
    USER_ATTRIBUTES,
    Complex,
    group_filter,
    group_ordering,
    user_filter,
    user_ordering,
)
from tests import factories
from tests.factories import SYSTEM

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
DEE_GUID = "8b1f3c2e-5d4a-4c7e-9f10-2a3b4c5d6e7f"  # an Entra objectId as externalId


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class Acme:
    """The people and teams every test filters, by short name."""

    organisation: Organisation
    people: dict[str, User]
    teams: dict[str, Team]

    def ids(self) -> dict[str, str]:
        """Placeholders for filter texts: {ada} is Ada's id, {research} the Research team's."""
        found = {name: str(user.public_id) for name, user in self.people.items()}
        found.update({name: str(team.public_id) for name, team in self.teams.items()})
        found["ada_upper"] = found["ada"].upper()
        found["ada_prefix"] = found["ada"][:8]
        found["ada_suffix"] = found["ada"][-12:]
        return found

    def users(self, text: str) -> set[str]:
        """Who a Users filter finds, as the SCIM view asks (this organisation, not deleted)."""
        rows = User.objects.for_organisation(self.organisation).not_deleted()
        found = list(rows.filter(user_filter(text.format(**self.ids()))))
        assert len(found) == len(set(found)), "a filter must never duplicate rows"
        return {self.name_of(user) for user in found}

    def groups(self, text: str) -> set[str]:
        rows = Team.objects.filter(organisation=self.organisation)
        found = list(rows.filter(group_filter(text.format(**self.ids()))))
        assert len(found) == len(set(found)), "a filter must never duplicate rows"
        return {self.name_of(team) for team in found}

    def name_of(self, row: User | Team) -> str:
        known = self.people if isinstance(row, User) else self.teams
        return next(name for name, each in known.items() if each.pk == row.pk)


@pytest.fixture
def acme(org, other_org) -> Acme:
    ada = factories.user(
        org,
        "Ada.Lovelace@Acme.test",
        email="ada@acme.test",
        given_name="Ada",
        family_name="Lovelace",
        display_name="Ada Lovelace",
        title="Engineer",
        locale="en-GB",
        timezone="Europe/London",
        external_id="00aa-Okta",
        employee_number="E100",
        department="Research",
        phone_numbers=[{"value": "+44 20 7946 0001", "type": "work"}],
    )
    bob = factories.user(
        org,
        "bob@acme.test",
        given_name="Bob",
        family_name="Builder",
        title="Engineer",
        timezone="Europe/Paris",
        external_id="bob-ext",
        employee_number="e200",
        department="Works",
    )
    cy = factories.user(org, "cy", email="", family_name="Lovelace", external_id=None)
    dee = factories.user(
        org,
        "dee@acme.test",
        email="dee@example.org",
        given_name="Dee",
        family_name="Doe",
        display_name="Dee Doe",
        title="Manager",
        locale="en-US",
        external_id=DEE_GUID,
        phone_numbers=[{"value": "+1 555 0100", "type": "work"}],
    )
    eve = factories.user(org, "eve@acme.test", given_name="Eve", title="Engineer")
    # Someone of another organisation with the same names must never show up.
    factories.user(other_org, "bob@acme.test", title="Engineer", external_id="bob-ext")

    services.user_set_manager(user=bob, actor=SYSTEM, manager=ada)
    services.user_set_manager(user=cy, actor=SYSTEM, manager=ada)
    services.user_set_manager(user=dee, actor=SYSTEM, manager=bob)
    services.user_deactivate(user=cy, actor=SYSTEM)

    research = factories.team(org, "Research", members=[ada, bob])
    works = factories.team(org, "Works", members=[bob, dee, eve])
    empty = factories.team(org, "Empty Team")
    services.team_update(team=research, actor=SYSTEM, external_id="grp-research")
    services.team_update(team=works, actor=SYSTEM, external_id="grp-works")
    services.user_delete(user=eve, actor=SYSTEM)  # a tombstone: not a visible member any more

    # No service sets timestamps (they are "now"); fix them so that the cases can name them.
    for user, created, modified in [
        (ada, "2024-01-01T00:00:00", "2024-05-01T12:00:00"),
        (bob, "2024-02-01T00:00:00", "2024-05-01T12:00:00.500000"),
        (cy, "2024-03-01T00:00:00", "2024-06-01T00:00:00"),
        (dee, "2024-04-01T00:00:00", "2024-04-15T08:30:00"),
    ]:
        User.objects.filter(pk=user.pk).update(created_at=_utc(created), updated_at=_utc(modified))
    for team, created in [
        (research, "2023-01-01T00:00:00"),
        (works, "2023-06-01T00:00:00"),
        (empty, "2024-01-01T00:00:00"),
    ]:
        moment = _utc(created)
        Team.objects.filter(pk=team.pk).update(
            created_at=moment, updated_at=moment, renamed_at=moment
        )
        TeamMembership.objects.filter(team=team).update(created_at=moment)  # joined then

    return Acme(
        organisation=org,
        people={"ada": ada, "bob": bob, "cy": cy, "dee": dee, "eve": eve},
        teams={"research": research, "works": works, "empty": empty},
    )


EVERYONE = {"ada", "bob", "cy", "dee"}
NOBODY: set[str] = set()


def _cases(*rows: tuple[str, set[str]]) -> list[object]:
    return [pytest.param(text, expected, id=text[:80]) for text, expected in rows]


# --- Users: one attribute at a time ------------------------------------------------------------

USER_CASES = _cases(
    # id: a UUID, case-exact; values that are not ours match nothing (Entra's connection test)
    ('id eq "{ada}"', {"ada"}),
    ('id eq "{ada_upper}"', {"ada"}),
    ('id eq "not-a-guid"', NOBODY),
    ('id eq "7f2b7a9e-0c1d-4e5f-8a9b-0c1d2e3f4a5b"', NOBODY),
    ('id eq ""', NOBODY),
    ('id ne "not-a-guid"', EVERYONE),
    ('id ne "{ada}"', {"bob", "cy", "dee"}),
    ('id sw "{ada_prefix}"', {"ada"}),
    ('id ew "{ada_suffix}"', {"ada"}),
    ('id co "{ada_prefix}"', {"ada"}),
    ('id co "zz"', NOBODY),
    ("id pr", EVERYONE),
    ('not (id eq "{ada}")', {"bob", "cy", "dee"}),
    (f'{CORE_USER}:id eq "{{ada}}"', {"ada"}),
    # externalId: case-exact and nullable
    ('externalId eq "bob-ext"', {"bob"}),
    ('externalId eq "BOB-EXT"', NOBODY),
    (f'externalId eq "{DEE_GUID}"', {"dee"}),
    ('externalId ne "bob-ext"', {"ada", "cy", "dee"}),
    ("externalId pr", {"ada", "bob", "dee"}),
    ("not (externalId pr)", {"cy"}),
    ("externalId eq null", {"cy"}),
    ("externalId ne null", {"ada", "bob", "dee"}),
    ('externalId sw "00aa"', {"ada"}),
    ('externalId sw "00AA"', NOBODY),
    ('externalId co "-ext"', {"bob"}),
    ('externalId co "-EXT"', NOBODY),
    ('externalId ew "Okta"', {"ada"}),
    ('externalId ew "okta"', NOBODY),
    ('externalId lt "00b"', {"ada"}),
    ('externalId ge "00b"', {"bob", "dee"}),
    ('externalId co ""', {"ada", "bob", "dee"}),
    # userName: compared ignoring case (Okta sends whatever case its profile has)
    ('userName eq "bob@acme.test"', {"bob"}),
    ('userName eq "BOB@ACME.TEST"', {"bob"}),
    ('userName eq "ada.lovelace@acme.test"', {"ada"}),
    ('USERNAME EQ "Ada.Lovelace@Acme.test"', {"ada"}),
    ('userName eq "nobody@acme.test"', NOBODY),
    ('userName ne "BOB@acme.test"', {"ada", "cy", "dee"}),
    ('userName co "ACME"', {"ada", "bob", "dee"}),
    ('userName sw "ada."', {"ada"}),
    ('userName ew "@ACME.test"', {"ada", "bob", "dee"}),
    ('userName co "%"', NOBODY),  # LIKE wildcards are escaped
    ('userName co "_"', NOBODY),
    ('userName gt "c"', {"cy", "dee"}),
    ('userName ge "CY"', {"cy", "dee"}),
    ('userName lt "B"', {"ada"}),
    ('userName le "bob@acme.test"', {"ada", "bob"}),
    ("userName pr", EVERYONE),
    ("userName eq null", NOBODY),
    (f'{CORE_USER}:userName eq "cy"', {"cy"}),
    (f'{CORE_USER.upper()}:UserName eq "cy"', {"cy"}),
    # name
    ('name.givenName eq "ada"', {"ada"}),
    ('name.givenName ne "Ada"', {"bob", "cy", "dee"}),
    ('name.givenName eq ""', NOBODY),
    ("name.givenName pr", {"ada", "bob", "dee"}),
    ("name.givenName eq null", {"cy"}),
    ('name.familyName eq "Lovelace"', {"ada", "cy"}),
    ('name.familyName sw "lo"', {"ada", "cy"}),
    ('Name.FamilyName eq "doe"', {"dee"}),
    ('name.familyName lt "C"', {"bob"}),
    ("name pr", EVERYONE),
    (f'{CORE_USER}:name.givenName eq "Bob"', {"bob"}),
    # displayName, title, locale, timezone: optional strings, ignoring case
    ('displayName eq "ada lovelace"', {"ada"}),
    ('displayName ew "DOE"', {"dee"}),
    ("displayName pr", {"ada", "dee"}),
    ("not (displayName pr)", {"bob", "cy"}),
    ('displayName ne "Dee Doe"', {"ada", "bob", "cy"}),
    ('title eq "engineer"', {"ada", "bob"}),
    ('title ne "Engineer"', {"cy", "dee"}),
    ('title co "gin"', {"ada", "bob"}),
    ('title co ""', {"ada", "bob", "dee"}),
    ('title gt "f"', {"dee"}),
    ('locale sw "en"', {"ada", "dee"}),
    ('locale eq "EN-gb"', {"ada"}),
    ('timezone sw "Europe/"', {"ada", "bob"}),
    ('timezone eq "europe/paris"', {"bob"}),
    # active: a boolean; deactivated people are still found
    ("active eq true", {"ada", "bob", "dee"}),
    ("active eq false", {"cy"}),
    ("Active EQ FALSE", {"cy"}),
    ("active ne true", {"cy"}),
    ("active ne false", {"ada", "bob", "dee"}),
    ('active eq "False"', {"cy"}),
    ("active pr", EVERYONE),
    ("not (active eq true)", {"cy"}),
    # emails: one row per value (ProfileValue)
    ('emails[type eq "work"].value eq "ADA@acme.test"', {"ada"}),
    ('Emails[Type eq "Work"].Value eq "bob@acme.test"', {"bob"}),
    ('emails.value eq "dee@example.org"', {"dee"}),
    ('emails co "acme.test"', {"ada", "bob"}),
    ('emails co "example.org" or emails co "acme.test"', {"ada", "bob", "dee"}),
    ("emails pr", {"ada", "bob", "dee"}),
    ("not (emails pr)", {"cy"}),
    ('emails[type eq "work"]', {"ada", "bob", "dee"}),
    ('emails[type eq "home"]', NOBODY),
    ('emails[type eq "work" and value co "acme"]', {"ada", "bob"}),
    ('emails[not (type eq "home")]', {"ada", "bob", "dee"}),
    ('emails[type eq "work"].value pr', {"ada", "bob", "dee"}),
    ('emails.value ne "ada@acme.test"', {"bob", "cy", "dee"}),
    ('emails.type eq "work"', {"ada", "bob", "dee"}),
    ("emails.value eq null", {"cy"}),
    # phoneNumbers: likewise
    ('phoneNumbers[type eq "work"].value eq "+44 20 7946 0001"', {"ada"}),
    ('phoneNumbers.value sw "+1"', {"dee"}),
    ("phoneNumbers pr", {"ada", "dee"}),
    # groups: through memberships
    ('groups.value eq "{research}"', {"ada", "bob"}),
    ('groups eq "{works}"', {"bob", "dee"}),
    ('groups[value eq "{works}"]', {"bob", "dee"}),
    ('groups.display eq "research"', {"ada", "bob"}),
    ('groups.display co "R"', {"ada", "bob", "dee"}),  # bob is in both: still one row
    ('groups.value ne "{works}"', {"ada", "cy"}),
    ('groups[value ne "{works}"]', {"ada", "bob"}),
    ('groups.value eq "not-a-guid"', NOBODY),
    ("groups pr", {"ada", "bob", "dee"}),
    ("not (groups pr)", {"cy"}),
    # the same membership must satisfy the whole bracket; without brackets, any one may
    ('groups[display eq "Works" and value eq "{research}"]', NOBODY),
    ('groups.display eq "Works" and groups.value eq "{research}"', {"bob"}),
    # meta: real date and time comparisons
    ('meta.created eq "2024-01-01T00:00:00Z"', {"ada"}),
    ('meta.created lt "2024-03-01T00:00:00Z"', {"ada", "bob"}),
    ('meta.created le "2024-03-01T00:00:00Z"', {"ada", "bob", "cy"}),
    ('meta.created ge "2024-03-01T00:00:00+00:00"', {"cy", "dee"}),
    ('meta.created gt "2024-03-01T01:00:00+02:00"', {"cy", "dee"}),  # 2024-02-29T23:00Z
    ('meta.created gt "2024-02-29T23:00:00-01:00"', {"dee"}),  # 2024-03-01T00:00Z
    ('meta.created lt "2024-02-01T00:00:00.000001Z"', {"ada", "bob"}),
    ('meta.lastModified gt "2024-05-01T12:00:00Z"', {"bob", "cy"}),
    ('meta.lastModified gt "2024-05-01T12:00:00.000Z"', {"bob", "cy"}),
    ('meta.lastModified eq "2024-05-01T12:00:00Z"', {"ada"}),
    ('meta.lastModified eq "2024-05-01T12:00:00.5Z"', {"bob"}),
    ('meta.lastModified eq "2024-05-01T12:00Z"', {"ada"}),
    ('meta.lastModified eq "2024-05-01T12:00:00.500000Z"', {"bob"}),
    ('meta.lastModified eq "2024-05-01T14:00:00.5+02:00"', {"bob"}),
    ('meta.lastModified gt "2024-05-01T12:00:00.5Z"', {"cy"}),
    ('meta.lastModified ge "2024-05-01T12:00:00.5000001Z"', {"bob", "cy"}),
    ('meta.lastModified ne "2024-05-01T12:00:00Z"', {"bob", "cy", "dee"}),
    ('meta.lastModified ge "2024-05-01T12:00:00"', {"ada", "bob", "cy"}),  # naive is UTC
    ('meta.lastModified lt "2024-05-01 12:00:00Z"', {"dee"}),
    ('meta.lastModified le "2024-04-15T08:30:00Z"', {"dee"}),
    ('meta.created lt "9999-12-31T23:59:59Z"', EVERYONE),
    ('meta.created le "9999-12-31T23:59:59.999999Z"', EVERYONE),
    ('meta.created gt "0001-01-01T00:00:00Z"', EVERYONE),
    ("meta.created pr", EVERYONE),
    ("not (meta.lastModified pr)", NOBODY),
    ('meta.resourceType eq "User"', EVERYONE),
    ('meta.resourceType eq "Group"', NOBODY),
    ('meta.resourceType ne "Group"', EVERYONE),
    ("meta pr", EVERYONE),
    # enterprise extension, qualified or not
    (f'{ENTERPRISE}:employeeNumber eq "E100"', {"ada"}),
    (f'{ENTERPRISE.lower()}:EMPLOYEENUMBER eq "e100"', {"ada"}),
    ('employeeNumber sw "e"', {"ada", "bob"}),
    ('department eq "research"', {"ada"}),
    (f"{ENTERPRISE}:department pr", {"ada", "bob"}),
    ('manager.value eq "{ada}"', {"bob", "cy"}),
    (f'{ENTERPRISE}:manager.value eq "{{bob}}"', {"dee"}),
    ('manager.value ne "{ada}"', {"ada", "dee"}),
    ('manager.value eq "garbage"', NOBODY),
    ("manager.value eq null", {"ada"}),
    ("manager.value pr", {"bob", "cy", "dee"}),
    ('manager.displayName eq "ADA@acme.test"', {"bob", "cy"}),
    ('manager.displayName ne "ada@acme.test"', {"ada", "dee"}),
    ('manager.displayName co "bob"', {"dee"}),
    ("manager pr", {"bob", "cy", "dee"}),
    ("not (manager pr)", {"ada"}),
    # logic: and binds tighter than or; not and parentheses
    ('title eq "Engineer" and not (name.givenName eq "Bob")', {"ada"}),
    ('title eq "Engineer" or active eq false and name.familyName eq "Doe"', {"ada", "bob"}),
    ('(title eq "Engineer" or active eq false) and name.familyName eq "Lovelace"', {"ada", "cy"}),
    ('not (title eq "Engineer" or active eq false)', {"dee"}),
    ('not(title eq "Engineer") and not (active eq false)', {"dee"}),
    ('not (not (userName eq "cy"))', {"cy"}),
    ('not (externalId eq "bob-ext")', {"ada", "cy", "dee"}),
    ('not (manager.displayName eq "ada@acme.test")', {"ada", "dee"}),
    ('not (groups.value eq "{research}") and not (emails pr)', {"cy"}),
    ('userName eq "x" or userName eq "y"', NOBODY),
    ('userName eq "cy" or userName eq "dee@acme.test" or id eq "{ada}"', {"ada", "cy", "dee"}),
    ('((userName eq "cy"))', {"cy"}),
)


@pytest.mark.parametrize(("text", "expected"), USER_CASES)
def test_user_filter_finds_exactly_the_matching_people(acme, text, expected):
    assert acme.users(text) == expected


ENTRA_AND_OKTA_USER_SHAPES = _cases(
    # Okta: import and "does this user exist" checks
    ('userName eq "Ada.Lovelace@Acme.test"', {"ada"}),
    ('userName eq "ADA.LOVELACE@ACME.TEST"', {"ada"}),
    ('userName eq "ghost@acme.test"', NOBODY),
    # Entra: matching by externalId (objectId), by work email, and the connection test
    (f'externalId eq "{DEE_GUID}"', {"dee"}),
    ('emails[type eq "work"].value eq "dee@example.org"', {"dee"}),
    (f'id eq "{uuid.uuid4()}"', NOBODY),
    ('id eq "b3d1c5f0-random-value"', NOBODY),
    ('displayName eq "Dee Doe"', {"dee"}),
)


@pytest.mark.parametrize(("text", "expected"), ENTRA_AND_OKTA_USER_SHAPES)
def test_user_filter_answers_the_shapes_okta_and_entra_send(acme, text, expected):
    assert acme.users(text) == expected


def test_deactivated_user_is_still_found_by_filter(acme):
    assert acme.users('userName eq "CY"') == {"cy"}


def test_filter_leaves_organisation_scoping_to_the_caller(acme):
    matching = User.objects.filter(user_filter('externalId eq "bob-ext"'))
    assert matching.count() == 2  # the same externalId in both organisations
    assert acme.users('externalId eq "bob-ext"') == {"bob"}


def test_building_a_filter_runs_no_query(acme, django_assert_num_queries):
    ids = acme.ids()
    with django_assert_num_queries(0):
        user_filter(f'groups[value eq "{ids["works"]}"] or manager.displayName co "a"')
        group_filter(f'members[value eq "{ids["bob"]}"]')


def test_member_filter_is_one_query_without_distinct(acme, django_assert_num_queries):
    rows = User.objects.filter(deleted_at__isnull=True).filter(user_filter('groups.display co "r"'))
    with django_assert_num_queries(1) as captured:
        assert len(list(rows)) == 3
    assert "DISTINCT" not in captured.captured_queries[0]["sql"].upper()


def test_username_eq_compares_lowercase_in_sql(acme):
    sql = str(User.objects.filter(user_filter('userName eq "Bob@Acme.test"')).query)
    assert 'LOWER("accounts_user"."username")' in sql
    assert "LIKE" not in sql.upper()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
def test_username_eq_can_use_the_functional_unique_index_on_postgresql(acme):
    # Without the organisation condition, so that no other index competes for the plan.
    rows = User.objects.filter(user_filter('userName eq "BOB@acme.test"'))
    sql, params = rows.query.sql_with_params()
    assert 'LOWER("accounts_user"."username") = (LOWER(' in sql
    with connection.cursor() as cursor:
        # A handful of rows would be read sequentially anyway; forbid that to see the index.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "user_username_ci_unique_per_organisation" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
def test_group_display_name_eq_can_use_the_functional_unique_index_on_postgresql(acme):
    rows = Team.objects.filter(group_filter('displayName eq "WORKS"'))
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "team_display_name_ci_unique_per_organisation" in plan


# --- Groups ------------------------------------------------------------------------------------

ALL_TEAMS = {"research", "works", "empty"}

GROUP_CASES = _cases(
    ('displayName eq "research"', {"research"}),
    ('displayName eq "WORKS"', {"works"}),
    ('DisplayName Eq "Empty Team"', {"empty"}),
    ('displayName ne "Works"', {"research", "empty"}),
    ('displayName sw "R"', {"research"}),
    ('displayName co "E"', {"research", "empty"}),
    ('displayName ew "TEAM"', {"empty"}),
    ('displayName gt "f"', {"research", "works"}),
    ("displayName pr", ALL_TEAMS),
    (f'{CORE_GROUP}:displayName eq "Works"', {"works"}),
    ('id eq "{research}"', {"research"}),
    ('id eq "random-value"', NOBODY),
    ('id ne "random-value"', ALL_TEAMS),
    ('externalId eq "grp-works"', {"works"}),
    ('externalId eq "GRP-WORKS"', NOBODY),
    ('externalId sw "grp-"', {"research", "works"}),
    ("externalId pr", {"research", "works"}),
    ('externalId ne "grp-works"', {"research", "empty"}),
    ("externalId eq null", {"empty"}),
    # members: through memberships; the deleted person is no longer a visible member
    ('members[value eq "{ada}"]', {"research"}),
    ('members[value eq "{bob}"]', {"research", "works"}),
    ('members.value eq "{dee}"', {"works"}),
    ('members eq "{dee}"', {"works"}),
    ('members[value eq "{eve}"]', NOBODY),
    ('members[value eq "not-a-guid"]', NOBODY),
    ('members[value eq "{ada}"] and members[value eq "{bob}"]', {"research"}),
    ('members[type eq "User"]', {"research", "works"}),
    ("members pr", {"research", "works"}),
    ("not (members pr)", {"empty"}),
    ('members.value ne "{bob}"', {"empty"}),
    ('members[value ne "{bob}"]', {"research", "works"}),
    ('meta.resourceType eq "Group"', ALL_TEAMS),
    ('meta.created lt "2024-01-01T00:00:00Z"', {"research", "works"}),
    ('meta.lastModified ge "2023-06-01T00:00:00Z"', {"works", "empty"}),
    # Entra checks membership with the group id and a members filter together
    ('id eq "{research}" and members[value eq "{bob}"]', {"research"}),
    ('id eq "{works}" and members[value eq "{ada}"]', NOBODY),
    ('displayName eq "Works" or not (externalId pr)', {"works", "empty"}),
)


@pytest.mark.parametrize(("text", "expected"), GROUP_CASES)
def test_group_filter_finds_exactly_the_matching_teams(acme, text, expected):
    assert acme.groups(text) == expected


@pytest.mark.parametrize(
    ("resource_type", "table"),
    [(schema.USER, USER_ATTRIBUTES), (schema.GROUP, GROUP_ATTRIBUTES)],
)
def test_every_attribute_of_the_schemas_is_mapped(resource_type, table):
    # A name missing from the table would silently become "cannot be filtered on".
    described = [*schema.COMMON_ATTRIBUTES]
    for each in (resource_type.schema, *resource_type.extensions):
        described.extend(each.attributes)
    assert {attribute.name for attribute in described} == set(table)
    for attribute in described:
        mapped = table[attribute.name]
        if attribute.sub_attributes:
            assert isinstance(mapped, Complex)
            assert {sub.name for sub in attribute.sub_attributes} == set(mapped.sub_attributes)
            assert mapped.multi_valued == attribute.multi_valued


# --- refusals ----------------------------------------------------------------------------------

BAD_USER_FILTERS = [
    # syntax
    "",
    "   ",
    "userName eq",
    'userName eq "x" and',
    'userName "x"',
    '(userName eq "x"',
    'userName eq "x")',
    "userName eq 'x'",
    'userName equals "x"',
    'emails[type eq "work"].value',
    'emails[value[type eq "x"]]',
    "userName eq 1e999",
    "not (" * 40 + 'userName eq "x"' + ")" * 40,
    'userName eq "x" or ' * 60 + 'userName eq "y"',  # longer than the maximum
    # unknown attributes
    'fooBar eq "x"',
    'password eq "x"',
    'name.nickName eq "x"',
    'userName.first eq "x"',
    'members[value eq "x"]',
    f'{ENTERPRISE}:userName eq "x"',
    "urn:example:params:scim:schemas:custom:2.0:User:shoeSize eq 42",
    f'{CORE_GROUP}:displayName eq "x"',
    'emails[kind eq "work"]',
    'emails[value.domain eq "x"]',
    'name.fullName eq "Ada Lovelace"',
    "emails[primary eq 1]",  # a boolean compared with a number
    # attributes we cannot filter on
    'meta.location co "Users"',
    'meta.version eq "W/\\"1\\""',
    'groups.$ref eq "https://x"',
    f"{ENTERPRISE}:manager.$ref pr",
    # wrong shape for the attribute
    'name eq "Ada"',
    'name[givenName eq "Ada"]',
    'manager[value eq "x"]',
    'userName[value eq "x"]',
    'meta eq "x"',
    # wrong operator or value for the type
    "active gt true",
    "active eq 1",
    'active co "t"',
    'active eq "yes"',
    "active eq null and active lt false",
    "userName eq 42",
    "userName eq true",
    "title gt null",
    "title co null",
    'id gt "abc"',
    "manager.value lt 5",
    "meta.resourceType eq 1",
    # dates
    'meta.created eq "yesterday"',
    'meta.created gt "2024-13-01T00:00:00Z"',
    'meta.lastModified gt "2024-05-01"',
    'meta.created co "2024"',
    "meta.created gt 2024",
    'meta.created gt "0001-01-01T00:00:00+05:00"',
    # values no database can hold
    'userName eq "a\\u0000b"',
    'title co "\\ud800"',
]


@pytest.mark.parametrize("text", BAD_USER_FILTERS)
def test_bad_user_filter_is_invalid_filter(db, text):
    with pytest.raises(ScimError) as caught:
        user_filter(text)
    assert caught.value.status == 400
    assert caught.value.scim_type == "invalidFilter"
    assert caught.value.detail.endswith(".")


BAD_GROUP_FILTERS = [
    'userName eq "x"',
    "displayName gt 5",
    'members.$ref eq "x"',
    'members[value gt "x"]',
    "members[display pr and primary eq true]",
    f'{ENTERPRISE}:department eq "x"',
    'members.type eq "Group" and members[type co 1]',
]


@pytest.mark.parametrize("text", BAD_GROUP_FILTERS)
def test_bad_group_filter_is_invalid_filter(db, text):
    with pytest.raises(ScimError) as caught:
        group_filter(text)
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidFilter")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('fooBar eq "x"', 'Unknown attribute "fooBar" in filter.'),
        ('emails[kind eq "work"]', 'Unknown attribute "emails.kind" in filter.'),
        ("active gt true", '"active" is a boolean: use eq, ne or pr with true or false.'),
        (
            'meta.lastModified gt "May 1st"',
            '"meta.lastModified" expects a date and time like "2024-05-01T12:00:00Z", '
            'not "May 1st".',
        ),
        ("x pr" + " " * MAX_FILTER_LENGTH, "The filter is longer than 1000 characters."),
        ('name.fullName eq "x"', 'Unknown attribute "name.fullName" in filter.'),
        (
            "USERNAME eq 42",
            '"userName" is a string: compare it with a value in double quotes, '
            'e.g. userName eq "text".',
        ),
        (
            'userName eq "x" and',
            "The filter is not valid SCIM filter syntax: invalid syntax at column 17.",
        ),
        (
            'manager[value eq "x"]',
            '"manager" is not multi-valued: filter on its sub-attributes instead, '
            "e.g. manager.value.",
        ),
        (
            'meta.created sw "2024"',
            '"meta.created" is a date and time: use eq, ne, gt, ge, lt, le or pr, not sw.',
        ),
    ],
)
def test_refusal_says_what_was_wrong(db, text, detail):
    with pytest.raises(ScimError) as caught:
        user_filter(text)
    assert caught.value.detail == detail


def test_filter_of_exactly_the_maximum_length_is_accepted(acme):
    text = 'userName eq "cy"'
    assert acme.users(text.ljust(MAX_FILTER_LENGTH)) == {"cy"}


def test_deep_but_allowed_nesting_is_accepted(acme):
    text = "not (" * 9 + 'userName eq "cy"' + ")" * 9
    assert acme.users(text) == {"ada", "bob", "dee"}
    assert acme.users("(" * 200 + 'userName eq "cy"' + ")" * 200) == {"cy"}


# --- sortBy / sortOrder ------------------------------------------------------------------------


def _sorted_users(acme: Acme, sort_by: str | None, sort_order: str | None) -> list[str]:
    org = acme.organisation
    rows = User.objects.for_organisation(org).not_deleted()
    ordered = rows.order_by(*user_ordering(sort_by, sort_order))
    return [acme.name_of(user) for user in ordered]


def _sorted_teams(acme: Acme, sort_by: str | None, sort_order: str | None) -> list[str]:
    org = acme.organisation
    ordered = Team.objects.filter(organisation=org).order_by(*group_ordering(sort_by, sort_order))
    return [acme.name_of(team) for team in ordered]


def test_default_ordering_is_the_immutable_pk():
    assert user_ordering(None, None) == ["pk"]
    assert group_ordering(None, "descending") == ["pk"]
    assert user_ordering("  ", None) == ["pk"]


@pytest.mark.parametrize("sort_by", ["userName", "displayName", "meta.created", "id", "active"])
@pytest.mark.parametrize("sort_order", [None, "ascending", "descending"])
def test_ordering_always_ends_with_the_pk_tie_breaker(sort_by, sort_order):
    assert user_ordering(sort_by, sort_order)[-1] == "pk"
    assert group_ordering("displayName", sort_order)[-1] == "pk"


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        ("userName", None, ["ada", "bob", "cy", "dee"]),
        ("userName", "ascending", ["ada", "bob", "cy", "dee"]),
        ("USERNAME", "descending", ["dee", "cy", "bob", "ada"]),
        (f"{CORE_USER}:userName", "Descending", ["dee", "cy", "bob", "ada"]),
        # absent values come last ascending and first descending (RFC 7644 §3.4.2.3); ties by pk
        ("displayName", "ascending", ["ada", "dee", "bob", "cy"]),
        ("displayname", "descending", ["bob", "cy", "dee", "ada"]),
        ("name.familyName", None, ["bob", "dee", "ada", "cy"]),
        ("Name.FamilyName", "descending", ["ada", "cy", "dee", "bob"]),
        ("meta.created", None, ["ada", "bob", "cy", "dee"]),
        ("meta.created", "descending", ["dee", "cy", "bob", "ada"]),
        ("meta.lastModified", "ascending", ["dee", "ada", "bob", "cy"]),
        ("META.LASTMODIFIED", "descending", ["cy", "bob", "ada", "dee"]),
        ("externalId", None, ["ada", "dee", "bob", "cy"]),
        ("externalId", "descending", ["cy", "bob", "dee", "ada"]),
        ("emails", None, ["ada", "bob", "dee", "cy"]),
        ("active", None, ["cy", "ada", "bob", "dee"]),
        (f"{ENTERPRISE}:department", None, ["ada", "bob", "cy", "dee"]),
    ],
)
def test_users_sort_by_attribute(acme, sort_by, sort_order, expected):
    assert _sorted_users(acme, sort_by, sort_order) == expected


def test_users_sort_by_id_follows_the_ids(acme):
    by_id = sorted(["ada", "bob", "cy", "dee"], key=lambda name: acme.people[name].public_id.hex)
    assert _sorted_users(acme, "id", None) == by_id
    assert _sorted_users(acme, "ID", "descending") == by_id[::-1]


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        ("displayName", None, ["empty", "research", "works"]),
        ("displayName", "descending", ["works", "research", "empty"]),
        ("externalId", None, ["research", "works", "empty"]),
        ("meta.created", "descending", ["empty", "works", "research"]),
        (None, None, ["research", "works", "empty"]),
    ],
)
def test_groups_sort_by_attribute(acme, sort_by, sort_order, expected):
    assert _sorted_teams(acme, sort_by, sort_order) == expected


@pytest.mark.parametrize(
    ("sort_by", "sort_order"),
    [
        ("fooBar", None),
        ("emails.type", None),
        ("groups", None),
        ("groups.display", None),
        ("manager.value", None),
        ("name", None),
        ("name.fullName", None),
        ("phoneNumbers", None),  # multi-valued: only emails sort, by the sign-in address
        ("addresses.locality", None),
        ('userName eq "x"', None),
        ('emails[type eq "work"]', None),
        ("user name", None),
        ("userName", "up"),
        ("userName", "asc"),
        (None, "sideways"),
        ("x" * 300, None),
    ],
)
def test_bad_sort_is_invalid_value(sort_by, sort_order):
    with pytest.raises(ScimError) as caught:
        user_ordering(sort_by, sort_order)
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidValue")


@pytest.mark.parametrize("sort_by", ["members", "members.value", "userName", "active"])
def test_bad_group_sort_is_invalid_value(sort_by):
    with pytest.raises(ScimError) as caught:
        group_ordering(sort_by, None)
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidValue")


def test_sort_refusal_names_the_attribute():
    with pytest.raises(ScimError) as caught:
        user_ordering("groups.display", None)
    assert caught.value.detail == '"groups.display" cannot be used to sort.'
    with pytest.raises(ScimError) as caught:
        user_ordering("userName", "up")
    assert caught.value.detail == 'sortOrder must be "ascending" or "descending", not "up".'


def test_filter_and_ordering_compose(acme):
    org = acme.organisation
    rows = (
        User.objects.for_organisation(org)
        .not_deleted()
        .filter(user_filter('title eq "engineer" or active eq false'))
        .order_by(*user_ordering("userName", "descending"))
    )
    assert [user.username for user in rows] == ["cy", "bob@acme.test", "Ada.Lovelace@Acme.test"]


def test_always_and_never_survive_negation(acme):
    # An empty Q() would vanish under ~ and match everyone; the module never returns one.
    assert acme.users('not (meta.resourceType eq "User")') == NOBODY
    assert acme.users('not (emails[type eq "home"])') == EVERYONE
    assert user_filter("id pr") != Q()
