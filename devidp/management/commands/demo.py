from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.audit import Actor
from accounts.models import Organisation, Role, Team, User
from devidp import connections as dev_idp

DEMO_SLUG = "demo"
# Local demo only: the command refuses to run with DEBUG off.
DEMO_PASSWORD = "auzlearn-demo"  # noqa: S105
ADMIN = "admin@demo.test"
PEOPLE = [
    # username, given name, family name, role
    ("ada@demo.test", "Ada", "Lovelace", Role.MANAGER),
    ("ben@demo.test", "Ben", "Okafor", Role.LEARNER),
    ("cleo@demo.test", "Cleo", "Martin", Role.LEARNER),
]
TEAM = "Onboarding"
STAFF = "support"


class Command(BaseCommand):
    help = (
        "Create (or leave as it is) a demo organisation with people, a manager link and a team, "
        "its Okta connection signing in through the development identity provider (/dev-idp/)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "The demo data has well-known passwords; it is only created with DEBUG on."
            )
        actor = Actor.system("manage.py demo")
        with transaction.atomic():
            organisation = _organisation(actor)
            _person(organisation, actor, ADMIN, "Avery", "Admin", Role.PRIMARY_ADMIN)
            people = [_person(organisation, actor, *person) for person in PEOPLE]
            manager, *reports = people
            for report in reports:
                services.user_set_manager(user=report, actor=actor, manager=manager)
            team = Team.objects.filter(organisation=organisation, display_name=TEAM).first()
            if team is None:
                team = services.team_create(
                    organisation=organisation, actor=actor, display_name=TEAM
                )
            services.team_set_members(team=team, actor=actor, users=people)
            if not User.objects.support_staff().with_username(STAFF).exists():
                services.staff_create(username=STAFF, password=DEMO_PASSWORD)
            # Single sign-on working without an Okta tenant: the Okta connection trusts the
            # development IdP, sign-in is on, the Okta tile's kind of sign-in is allowed.
            dev_idp.connect(organisation=organisation, actor=actor)
        self._print_instructions()

    def _print_instructions(self) -> None:
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(
            "\n".join(
                [
                    "Demo organisation ready.",
                    f"  Sign in:        {base}/sign-in/?organisation={DEMO_SLUG}",
                    f"  Organisation:   {DEMO_SLUG}",
                    f"  Primary admin:  {ADMIN} / {DEMO_PASSWORD}",
                    f"  Learners:       {', '.join(p[0] for p in PEOPLE)} / {DEMO_PASSWORD}",
                    f"  Single Sign-on: {base}/settings/sso/",
                    f"  Support admin:  {base}/admin/ as {STAFF} / {DEMO_PASSWORD}",
                    f"  Okta sign-in:   {base}/{dev_idp.PREFIX} (the development IdP: choose a "
                    "person)",
                    f"                  or {base}/sso/ with {DEMO_SLUG}",
                    "  Provisioning:   DEBUG=true .venv/bin/python manage.py simulate_idp okta "
                    f"{DEMO_SLUG}   (or entra)",
                ]
            )
        )


def _organisation(actor: Actor) -> Organisation:
    existing = Organisation.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return existing
    return services.organisation_create(actor=actor, slug=DEMO_SLUG, name="Demo Organisation")


def _person(
    organisation: Organisation, actor: Actor, username: str, given: str, family: str, role: str
) -> User:
    existing = User.objects.for_organisation(organisation).with_username(username).first()
    if existing is not None:
        return existing
    return services.user_create(
        organisation=organisation,
        actor=actor,
        username=username,
        email=username,
        given_name=given,
        family_name=family,
        role=role,
        password=DEMO_PASSWORD,
    )
