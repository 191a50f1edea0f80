"""Builders for test data. They go through accounts.services, as production code does, so tests
see the same invariants and audit rows."""

from itertools import count
from typing import Any

from accounts import services
from accounts.audit import Actor
from accounts.models import Organisation, Role, Team, User

SYSTEM = Actor.system("tests")
PASSWORD = "correct-horse-battery-staple"
_serial = count(1)


def organisation(slug: str | None = None, **extra: object) -> Organisation:
    n = next(_serial)
    org = services.organisation_create(
        actor=SYSTEM, slug=slug or f"org-{n}", name=f"Organisation {n}"
    )
    if extra:
        Organisation.objects.filter(pk=org.pk).update(**extra)
        org.refresh_from_db()
    return org


def user(
    org: Organisation,
    username: str | None = None,
    *,
    role: str = Role.LEARNER,
    password: str | None = PASSWORD,
    **fields: object,
) -> User:
    n = next(_serial)
    username = username or f"person{n}@example.com"
    fields.setdefault("email", username if "@" in username else f"{username}@example.com")
    return services.user_create(
        organisation=org,
        actor=SYSTEM,
        username=username,
        password=password,
        role=role,
        **fields,  # type: ignore[arg-type]
    )


def team(
    org: Organisation, display_name: str | None = None, members: list[User] | None = None
) -> Team:
    n = next(_serial)
    return services.team_create(
        organisation=org,
        actor=SYSTEM,
        display_name=display_name or f"Team {n}",
        members=members or [],
    )


def staff(username: str = "support") -> User:
    return services.staff_create(
        username=username, password=PASSWORD, email=f"{username}@auzlearn.test"
    )


def many_users(org: Organisation, n: int, prefix: str = "bulk") -> list[User]:
    """Many people in one insert, for query-count tests; reloaded so they carry primary keys."""
    created = User.objects.bulk_create(
        [User(organisation=org, username=f"{prefix}{i}@{org.slug}.test") for i in range(n)]
    )
    return list(User.objects.filter(organisation=org, username__in=[u.username for u in created]))


def saml_connection(
    org: Organisation,
    idp: Any,
    *,
    provider: str = "okta",
    enabled: bool = True,
    allow_idp_initiated: bool = True,
    jit: bool = False,
    actor: Actor = SYSTEM,
) -> Any:
    """A SAML connection configured from a test IdP's metadata, as the SAML tab makes one (and
    as the benchmark does, with its own actor)."""
    from sso import services as sso_services
    from sso.metadata import parse_metadata

    connection = sso_services.connection_for(organisation=org, provider=provider)
    xml = idp.metadata_xml()
    sso_services.connection_configure(
        connection=connection, actor=actor, metadata=parse_metadata(xml), metadata_xml=xml.decode()
    )
    return sso_services.connection_switches(
        connection=connection,
        actor=actor,
        enabled=enabled,
        allow_idp_initiated=allow_idp_initiated,
        jit_provisioning=jit,
    )
