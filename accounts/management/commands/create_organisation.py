import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import services
from accounts.audit import Actor
from accounts.errors import AccountsError
from accounts.models import Role, User


class Command(BaseCommand):
    help = (
        "Create an organisation and its primary admin, and print the organisation's public id. "
        "Without --admin-password a random password is generated and shown once on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Short lowercase name, e.g. acme")
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Acme Ltd'")
        parser.add_argument(
            "--admin-email", required=True, help="Primary admin's email (also their userName)"
        )
        parser.add_argument("--admin-password", help="Primary admin's password")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("manage.py create_organisation")
        email: str = options["admin_email"]
        password: str | None = options["admin_password"]
        generated = password is None
        if password is None:
            password = secrets.token_urlsafe(18)
        try:
            # Checked against the admin's own email, as Django's password forms do.
            validate_password(password, user=User(username=email, email=email))
            with transaction.atomic():
                organisation = services.organisation_create(
                    actor=actor, slug=options["slug"], name=options["name"]
                )
                services.user_create(
                    organisation=organisation,
                    actor=actor,
                    username=email,
                    email=email,
                    role=Role.PRIMARY_ADMIN,
                    password=password,
                )
        except AccountsError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(_describe(error)) from None
        self.stdout.write(organisation.public_id)
        if generated:
            self.stderr.write(f"Generated password for {email} (shown once): {password}")


def _describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
