"""Loading the organisations quickly and in bulk: PostgreSQL COPY into the product's tables
(bench.bulk), with every constraint, index and trigger in place, each value prepared by its
model field as the ORM's INSERT prepares it, so that a loaded database is one the product
could have written. The organisations themselves are created through the service, as support
staff would; their teams with bulk_create (a few hundred rows).

Row triggers fire for COPY as for INSERT: whatever the person table's triggers keep (such as
PeopleCount, an organisation's number of people) is kept by the load too, in the same
transactions, of 10,000 rows each (bench.bulk.copy says why not one). Commits do not wait for
the disk while loading (``synchronous_commit`` off for this session only, as for any bulk
load: a crash would lose the last ones, and the run with them).
"""

import random
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, UNUSABLE_PASSWORD_SUFFIX_LENGTH
from django.db import ProgrammingError, connection
from django.db.models import Model
from django.utils import timezone
from django.utils.crypto import RANDOM_STRING_CHARS

from accounts import profile_values, services
from accounts.audit import Actor
from accounts.models import Organisation, ProfileValue, Team, TeamMembership, User
from bench import bulk, layout, progress
from bench.layout import OrganisationPlan

ACTOR = Actor.system("bench")

# What differs from one person to the next; every other column is the same for everyone in an
# organisation and taken from one unsaved User (its defaults included), prepared once.
PERSON_COLUMNS = (
    "id",
    "public_id",
    "password",
    "manager_id",
    "username",
    "external_id",
    "email",
    "emails",
    "given_name",
    "family_name",
    "display_name",
    "department",
    "employee_number",
)
# The same for everyone, as services.user_create leaves the people Okta sends.
PERSON_CONSTANTS: dict[str, Any] = {
    "title": "Learner",
    "locale": "en-GB",
    "timezone": "Europe/London",
}


def is_loaded(plans: Sequence[OrganisationPlan]) -> bool:
    """Whether a reused database holds these organisations (their size is in their name)."""
    names = dict(Organisation.objects.values_list("slug", "name"))
    return all(names.get(plan.slug) == plan.name for plan in plans)


def load(plan: OrganisationPlan, rng: random.Random, *, bars: bool = True) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")  # this session only (see the module)
    try:
        organisation = services.organisation_create(actor=ACTOR, slug=plan.slug, name=plan.name)
        pks, public_ids = _people(organisation, plan, rng, bars)
        if plan.teams:
            _teams(organisation, plan, pks, public_ids, rng, bars)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def person(plan: OrganisationPlan, index: int) -> dict[str, Any]:
    """Person ``index``'s profile as the product stores what Okta sends for them (the request
    builders send the same: bench.tenants reads it back)."""
    given, family = layout.given_name(index), layout.family_name(index)
    username = layout.username(plan, index)
    return {
        "username": username,
        "external_id": f"00u{index:017d}",  # Okta's user ids look like this
        "email": username.lower(),
        # As Okta sends it (bench.scenarios), so that a PUT of the same person leaves it as is.
        "emails": [{"primary": True, "value": username.lower(), "type": "work"}],
        "given_name": given,
        "family_name": family,
        "display_name": f"{given} {family}",
        "department": layout.DEPARTMENTS[index % len(layout.DEPARTMENTS)],
        "employee_number": str(100_000 + index),
    }


def manager_index(index: int) -> int | None:
    """Person i reports to person i // REPORTS_PER_MANAGER: nobody to themselves, no cycle."""
    return index // layout.REPORTS_PER_MANAGER if index else None


def unusable_password(rng: random.Random) -> str:
    """What make_password(None) stores for people who sign in only by SSO (as user_create
    leaves those SCIM sends): "!" and 40 random characters. Drawn from the seeded generator,
    not the secrets module, which took a minute a million: nothing ever compares with it."""
    return UNUSABLE_PASSWORD_PREFIX + "".join(
        rng.choices(RANDOM_STRING_CHARS, k=UNUSABLE_PASSWORD_SUFFIX_LENGTH)
    )


def _constants(model: type[Model], instance: Model, varying: Sequence[str]) -> dict[str, Any]:
    """Every other concrete column's value in ``instance``, as its INSERT would take it (but
    an unset primary key, which the table's sequence gives, as for an INSERT)."""
    return {
        field.attname: field.pre_save(instance, add=True)
        for field in model._meta.concrete_fields
        if field.attname not in varying and not (field.primary_key and instance.pk is None)
    }


def _people(
    organisation: Organisation, plan: OrganisationPlan, rng: random.Random, bars: bool
) -> tuple[list[int], list[uuid.UUID]]:
    """The people, then one ProfileValue row per email (as services.user_create writes them);
    ids taken from the table's sequence first, so that each row names its manager. Their ids
    and SCIM ids, which their memberships keep too."""
    pks = bulk.reserve_ids(User, plan.people)
    new_public_id = User._meta.get_field("public_id").get_default  # a new uuid4 each
    public_ids = [new_public_id() for _ in pks]
    now = timezone.now()
    prototype = User(organisation=organisation, created_at=now, updated_at=now, **PERSON_CONSTANTS)
    people = bulk.Columns(User, PERSON_COLUMNS, _constants(User, prototype, PERSON_COLUMNS))
    # Its own generator, so that the teams draw what they drew before (the same data per seed).
    passwords = random.Random(plan.slug)  # noqa: S311 (see unusable_password)

    def rows() -> Iterator[list[Any]]:
        for index, pk in enumerate(pks):
            manager = manager_index(index)
            values = person(plan, index)
            yield [
                pk,
                public_ids[index],
                unusable_password(passwords),
                None if manager is None else pks[manager],
                *(values[name] for name in PERSON_COLUMNS[4:]),
            ]

    with progress.bar(plan.people, f"{plan.slug}: people", "person", leave=True, show=bars) as bar:
        bulk.copy(people, rows(), on_rows=bar.update)

    # The one email each, as profile_values.rows_of makes its row: the rest from that row.
    email_columns = ("user_id", "value")
    sample = profile_values.rows_of(User(emails=person(plan, 0)["emails"]), ["emails"])[0]
    emails = bulk.Columns(
        ProfileValue, email_columns, _constants(ProfileValue, sample, email_columns)
    )
    with progress.bar(plan.people, f"{plan.slug}: emails", "email", leave=True, show=bars) as bar:
        bulk.copy(
            emails,
            ([pk, layout.username(plan, index).lower()] for index, pk in enumerate(pks)),
            on_rows=bar.update,
        )
    return pks, public_ids


def _teams(
    organisation: Organisation,
    plan: OrganisationPlan,
    pks: list[int],
    public_ids: list[uuid.UUID],
    rng: random.Random,
    bars: bool,
) -> None:
    people = plan.people
    members: dict[str, Sequence[int]] = {
        layout.BIG_TEAM: layout.big_team_members(people),
        layout.SMALL_TEAM: layout.small_team_members(people),
        layout.ADD_TEAM: layout.add_team_members(people),
    }
    low, high = layout.REGULAR_TEAM_SIZES
    for number in range(len(members), plan.teams):
        size = rng.randint(low, min(high, people // 20))  # about one team a person
        members[layout.regular_team_name(number)] = rng.sample(range(people), size)
    now = timezone.now()
    teams = Team.objects.bulk_create(
        [
            Team(
                organisation=organisation,
                display_name=name,
                external_id=f"00g{number:017d}",
                created_at=now,
                updated_at=now,
            )
            for number, name in enumerate(members)
        ]
    )
    memberships = bulk.Columns(
        TeamMembership,
        ("team_id", "user_id", "user_public_id"),
        {"created_at": now, "user_deleted": False},
    )
    total = sum(len(indices) for indices in members.values())
    with progress.bar(total, f"{plan.slug}: team members", "member", leave=True, show=bars) as bar:
        bulk.copy(
            memberships,
            (
                [team.pk, pks[i], public_ids[i]]
                for team in teams
                for i in members[team.display_name]
            ),
            on_rows=bar.update,
        )


def analyse() -> None:
    """VACUUM ANALYZE the loaded tables, as autovacuum would have long since done on a
    production database: planner statistics, and visibility maps for index-only scans. Then a
    CHECKPOINT, which writes the load's dirty pages to disk now, as a production database
    would long since have, rather than during the measurements that follow (after a million
    people, the floor itself measured 1.42x slower than before them)."""
    models = (User, ProfileValue, Team, TeamMembership, Organisation)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        try:
            cursor.execute("CHECKPOINT")
        except ProgrammingError:  # a role without pg_checkpoint: the measurements still run
            print("No CHECKPOINT after the load (the role may not); the first figures may pay it")
