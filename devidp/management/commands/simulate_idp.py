from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import transaction

from accounts.audit import Actor
from accounts.models import Organisation
from devidp import directory, simulation
from devidp.progress import Progress
from devidp.scim_http import ScimHttp, Unreachable
from devidp.vendors import Entra, IdentityProvider, Okta
from scim.tenant import tenant_url


class Command(BaseCommand):
    help = (
        "Act as Okta or Microsoft Entra ID provisioning an organisation: real SCIM requests to "
        "PUBLIC_BASE_URL (the server must be running, e.g. `make run`), in the vendor's own "
        "shapes, for a made-up directory (the same one for the same seed and sizes): people with "
        "titles, departments and managers, teams, a few people deactivated, assigned again and "
        "(Entra) deleted. Turns SCIM on and issues a key when needed. Running it again updates "
        "the same people. DEBUG only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("vendor", choices=["okta", "entra"])
        parser.add_argument("organisation", help="The organisation's slug, e.g. demo")
        parser.add_argument("--people", type=int, default=40, help="People in the directory")
        parser.add_argument("--teams", type=int, default=4, help="Teams (groups) pushed")
        parser.add_argument(
            "--seed", type=int, default=14, help="Another seed gives another directory"
        )
        parser.add_argument(
            "--okta-app",
            choices=["catalog", "aiw"],
            default="catalog",
            help=(
                "Okta's catalog app (PATCH for deactivation and groups) or an App Integration "
                "Wizard app (every change a PUT)"
            ),
        )
        parser.add_argument(
            "--domain", help="Email domain of the people (default: <organisation>.test)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "simulate_idp makes up people in an organisation and takes over its SCIM key; "
                "it runs only with DEBUG on."
            )
        if options["people"] < 1 or options["teams"] < 0:
            raise CommandError("--people must be at least 1 and --teams at least 0.")
        slug: str = options["organisation"]
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise CommandError(f"There is no organisation with the slug {slug!r}.")

        # stderr carries the progress and notes, not only errors: plain, with failures in red.
        self.stderr.style_func = None
        with transaction.atomic():
            key, how = simulation.scim_key(organisation, Actor.system(simulation.ACTOR))
        self.stderr.write(how)
        made_up = directory.build(
            vendor=options["vendor"],
            seed=options["seed"],
            people=options["people"],
            teams=options["teams"],
            domain=options["domain"] or f"{organisation.slug}.test",
        )
        idp = self._identity_provider(options, tenant_url(organisation), key)
        progress = Progress(
            simulation.steps(idp, made_up), _Unended(self.stderr), title=options["vendor"]
        )
        idp.http.on_failure = lambda failure: progress.note(self.style.ERROR(str(failure)))
        self.stderr.write(f"{idp.name} provisioning {organisation.name} at {idp.http.tenant_url}")
        try:
            summary = simulation.Simulation(idp, made_up, progress).run()
        except Unreachable as unreachable:
            raise CommandError(f"{unreachable} Is the server running (make run)?") from None
        self.stdout.write("\n".join(summary.lines()))
        if summary.failures:
            raise CommandError(
                f"{len(summary.failures)} request(s) failed (above, and on the Activity tab)."
            )

    def _identity_provider(self, options: dict[str, Any], url: str, key: str) -> IdentityProvider:
        vendor = Okta if options["vendor"] == "okta" else Entra
        http = ScimHttp(url, key, vendor.user_agent)
        if vendor is Okta:
            return Okta(http, options["seed"], app=options["okta_app"])
        return Entra(http, options["seed"])


class _Unended:
    """The command's stderr as the progress bar writes to it: text as given, so that "\r"
    redraws a line (the command's own writes end every message with a newline)."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()
