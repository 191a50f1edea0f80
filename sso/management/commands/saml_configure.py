from io import BufferedReader
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.audit import Actor
from accounts.models import Organisation
from sso import services
from sso.fetch import fetch_metadata
from sso.forms import LoadedMetadata, MetadataRefused, Upload, load_metadata
from sso.models import ProviderKind
from sso.settings_views import RELAY_STATE

# "other" is what the settings pages call a generic SAML 2.0 provider.
PROVIDERS = {
    "okta": ProviderKind.OKTA,
    "entra": ProviderKind.ENTRA,
    "google": ProviderKind.GOOGLE,
    "other": ProviderKind.SAML,
}
ACTOR = Actor.system("manage.py saml_configure")

# The network, replaceable in tests (our checks and parsing stay as they are).
fetch = fetch_metadata


class Command(BaseCommand):
    help = (
        "Configure an organisation's SAML connection from its identity provider's metadata, "
        "checked exactly as the SAML settings tab checks an upload, and print the values to give "
        "the identity provider: entity_id, acs_url, relay_state, sp_metadata_url and login_url, "
        "one name=value line each. Nothing is saved if the metadata is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The organisation's slug, e.g. acme")
        parser.add_argument("--provider", required=True, choices=list(PROVIDERS))
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--metadata-file", type=Path, help="The IdP metadata XML file")
        source.add_argument("--metadata-url", help="The IdP metadata URL (https)")
        parser.add_argument(
            "--allow-idp-initiated",
            action="store_true",
            default=None,
            help="Accept sign-ins started at the identity provider (the Okta tile)",
        )
        parser.add_argument(
            "--no-allow-idp-initiated", dest="allow_idp_initiated", action="store_false"
        )
        parser.add_argument(
            "--jit",
            action="store_true",
            default=None,
            help="Create unknown people at their first sign-in (not while SCIM is on)",
        )
        parser.add_argument("--no-jit", dest="jit", action="store_false")
        parser.add_argument("--enable", action="store_true", help="Turn single sign-on on")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["slug"]).first()
        if organisation is None:
            raise CommandError(f"There is no organisation with the slug {options['slug']!r}.")
        if options["jit"] and organisation.scim_enabled:
            raise CommandError(
                "--jit is refused while SCIM is on: SCIM decides who has an account."
            )
        loaded = self._load(options["metadata_file"], options["metadata_url"])
        with transaction.atomic():
            connection = services.connection_for(
                organisation=organisation, provider=PROVIDERS[options["provider"]]
            )
            services.connection_configure(
                connection=connection,
                actor=ACTOR,
                metadata=loaded.metadata,
                metadata_xml=loaded.xml,
                metadata_url=loaded.url,
            )
            services.connection_switches(
                connection=connection,
                actor=ACTOR,
                enabled=options["enable"] or connection.enabled,
                allow_idp_initiated=_given(
                    options["allow_idp_initiated"], connection.allow_idp_initiated
                ),
                jit_provisioning=_given(options["jit"], connection.jit_provisioning),
            )
        # Exactly these lines, so that scripts can read them.
        for name, value in [
            ("entity_id", connection.sp_entity_id),
            ("acs_url", connection.acs_url),
            ("relay_state", RELAY_STATE),
            ("sp_metadata_url", connection.sp_entity_id),
            ("login_url", connection.login_url),
        ]:
            self.stdout.write(f"{name}={value}")

    def _load(self, path: Path | None, url: str | None) -> LoadedMetadata:
        try:
            if path is None:
                return load_metadata(url=url or "", fetch=fetch)
            with _opened(path) as stream:
                return load_metadata(upload=Upload(size=path.stat().st_size, read=stream.read))
        except MetadataRefused as refused:
            raise CommandError(refused.message) from None


def _given(value: bool | None, current: bool) -> bool:
    return current if value is None else value


def _opened(path: Path) -> BufferedReader:
    try:
        return path.open("rb")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
