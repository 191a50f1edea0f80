"""Each loaded organisation as the load generator sees it: its SCIM Tenant URL and a fresh
Secret Key, its people in load order, its teams, and its SAML connection."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q

from accounts import services as accounts_services
from accounts.models import Organisation, Team, User
from bench import layout
from bench.layout import OrganisationPlan
from bench.populate import ACTOR
from scim import keys
from sso.models import SamlConnection
from tests import factories
from tests.sso.idp import TestIdP


@dataclass(frozen=True)
class Person:
    public_id: str
    username: str
    given_name: str
    family_name: str
    email: str
    external_id: str = ""


@dataclass
class Tenant:
    plan: OrganisationPlan
    organisation_pk: int
    public_id: str
    people: list[Person]  # in load order: people[i] is person i of bench.layout
    teams: dict[str, str]  # display name -> SCIM id
    scim_key: str
    connection_id: str = ""  # the SAML connection, when it has one
    acs_path: str = ""
    created: list[str] = field(default_factory=list)  # userNames POSTed by this run

    @property
    def slug(self) -> str:
        return self.plan.slug

    @property
    def size(self) -> int:
        return len(self.people)

    @property
    def scim_path(self) -> str:
        return f"/scim/v2/{self.public_id}"

    def pool(self, name: str) -> list[Person]:
        return [self.people[i] for i in layout.pool(self.size, name)]

    def members(self, indices: range) -> list[Person]:
        return [self.people[i] for i in indices]

    @property
    def regular_teams(self) -> list[str]:
        special = {layout.BIG_TEAM, layout.SMALL_TEAM, layout.ADD_TEAM}
        return [team_id for name, team_id in self.teams.items() if name not in special]


def prepare(plan: OrganisationPlan, idp: TestIdP | None) -> Tenant:
    """SCIM on with a new key (the key of an earlier run stops working), and, given an IdP, a
    SAML connection configured from its metadata and switched on."""
    organisation = Organisation.objects.get(slug=plan.slug)
    with transaction.atomic():
        accounts_services.organisation_update(
            organisation=organisation, actor=ACTOR, scim_enabled=True
        )
        issued = keys.issue(organisation=organisation, actor=ACTOR, created_by=None)
    tenant = Tenant(
        plan=plan,
        organisation_pk=organisation.pk,
        public_id=organisation.public_id,
        people=_people(organisation),
        teams={
            name: str(public_id)
            for name, public_id in Team.objects.filter(organisation=organisation).values_list(
                "display_name", "public_id"
            )
        },
        scim_key=issued.secret,
    )
    if idp is not None:
        # Configured the way a primary admin does it: the IdP's metadata uploaded, then SSO
        # on with IdP-initiated sign-in allowed (the Okta tile).
        connection = factories.saml_connection(organisation, idp, actor=ACTOR)
        tenant.connection_id = connection.public_id
        tenant.acs_path = urlsplit(connection.acs_url).path
    return tenant


def _people(organisation: Organisation) -> list[Person]:
    """The loaded people, not those an earlier run of a reused database created over SCIM."""
    rows = (
        User.objects.for_organisation(organisation)
        .filter(~Q(username__startswith="new-"))
        .order_by("pk")
        .values_list("public_id", "username", "given_name", "family_name", "email", "external_id")
    )
    return [
        Person(str(public_id), username, given, family, email, external_id or "")
        for public_id, username, given, family, email, external_id in rows
    ]


def connection_of(tenant: Tenant) -> SamlConnection:
    return SamlConnection.objects.select_related("organisation").get(public_id=tenant.connection_id)
