from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import services
from accounts.audit import Actor
from accounts.models import Organisation
from scim import keys
from scim.tenant import tenant_url


class Command(BaseCommand):
    help = (
        "Turn SCIM on for an organisation if it is off, issue a new Secret Key and print two "
        "lines: tenant_url=<Tenant URL> and key=<Secret Key>. The key is shown once. By default "
        "the old key stops working at once; with --rotate it keeps working until the new key is "
        "first used, or for SCIM_KEY_OVERLAP_HOURS at most (as Generate Key on the SCIM tab). "
        "With --revoke, stop every key of the organisation instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The organisation's slug, e.g. acme")
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--rotate",
            action="store_true",
            help=(
                "Keep the current key working until the new key is first used, or "
                f"{settings.SCIM_KEY_OVERLAP_HOURS} hours at most"
            ),
        )
        action.add_argument("--revoke", action="store_true", help="Revoke every key and issue none")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise CommandError(f"There is no organisation with the slug {slug!r}.")
        actor = Actor.system("manage.py scim_key")
        if options["revoke"]:
            self._revoke(organisation, actor)
        else:
            self._issue(organisation, actor, rotate=options["rotate"])

    def _issue(self, organisation: Organisation, actor: Actor, *, rotate: bool) -> None:
        new_key = keys.rotate if rotate else keys.issue
        with transaction.atomic():
            services.organisation_update(organisation=organisation, actor=actor, scim_enabled=True)
            issued = new_key(organisation=organisation, actor=actor, created_by=None)
        # Exactly these two lines, so that scripts can read them.
        self.stdout.write(f"tenant_url={tenant_url(organisation)}")
        self.stdout.write(f"key={issued.secret}")

    def _revoke(self, organisation: Organisation, actor: Actor) -> None:
        revoked = keys.revoke(organisation=organisation, actor=actor)
        if revoked:
            prefixes = ", ".join(f"{prefix}…" for prefix in revoked)
            self.stdout.write(f"Revoked the SCIM key {prefixes} of {organisation.slug}.")
        else:
            self.stdout.write(f"{organisation.slug} has no active SCIM key; nothing was revoked.")
