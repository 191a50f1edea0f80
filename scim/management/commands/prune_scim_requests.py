from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scim import activity


class Command(BaseCommand):
    help = (
        "Delete SCIM request log entries (the Activity tab) older than --days days; the default "
        "is SCIM_REQUEST_RETENTION_DAYS. Meant to run daily, e.g. from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days (default {settings.SCIM_REQUEST_RETENTION_DAYS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = (
            settings.SCIM_REQUEST_RETENTION_DAYS if options["days"] is None else options["days"]
        )
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = activity.prune(older_than_days=days)
        entries = "entry" if deleted == 1 else "entries"
        self.stdout.write(
            f"Deleted {deleted} SCIM request log {entries} older than {days} "
            f"day{'' if days == 1 else 's'}."
        )
