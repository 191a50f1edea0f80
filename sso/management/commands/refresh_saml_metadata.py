from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from sso import services
from sso.fetch import fetch_metadata
from sso.forms import MetadataRefused, load_metadata
from sso.models import SamlConnection

ACTOR = Actor.system("manage.py refresh_saml_metadata")

# The network, replaceable in tests (our checks and parsing stay as they are).
fetch = fetch_metadata


class Command(BaseCommand):
    help = (
        "Fetch the metadata URL of every SAML connection that has one and take the new "
        "configuration (new certificates are recorded in the audit log). A connection whose "
        "metadata cannot be fetched or read keeps its last good configuration, and the error is "
        "shown on its SAML tab. One line per connection; exit status 1 if any failed. For cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        connections = (
            SamlConnection.objects.exclude(metadata_url="")
            .select_related("organisation")
            .order_by("organisation__slug", "provider")
        )
        failed = 0
        for connection in connections:
            name = f"{connection.organisation.slug} {connection.provider}"
            error = _refresh(connection)
            if error is None:
                count = len(connection.certificates)
                self.stdout.write(
                    f"{name}: refreshed from {connection.metadata_url} "
                    f"({count} signing certificate{'' if count == 1 else 's'})"
                )
            else:
                failed += 1
                self.stdout.write(f"{name}: FAILED, kept the last good configuration: {error}")
        if failed:
            raise CommandError(f"{failed} of {len(connections)} metadata refreshes failed.")


def _refresh(connection: SamlConnection) -> str | None:
    """Refresh one connection; the error in plain words, or None when it worked."""
    try:
        # Fetched and parsed exactly as an upload of the URL on the SAML tab is.
        loaded = load_metadata(url=connection.metadata_url, fetch=fetch)
    except MetadataRefused as refused:
        services.connection_refresh_failed(connection=connection, error=refused.message)
        return refused.message
    services.connection_configure(
        connection=connection,
        actor=ACTOR,
        metadata=loaded.metadata,
        metadata_xml=loaded.xml,
        metadata_url=loaded.url,
    )
    return None
