from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models.functions import Lower

from accounts import services
from accounts.audit import Actor
from accounts.errors import CustomAttributeRefused
from accounts.models import AttributeType, CustomAttribute, Organisation
from scim.schema import CUSTOM_USER

ACTOR = "manage.py scim_attributes"


class Command(BaseCommand):
    help = (
        "An organisation's own attributes, which SCIM publishes and accepts in the schema "
        f"extension {CUSTOM_USER}: add one, list them, or remove one (which deletes every "
        "person's value of it), as the SCIM tab does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The organisation's slug, e.g. acme")
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list,remove}")
        add = actions.add_parser("add", help="Add an attribute")
        add.add_argument("name", help="Letters, digits, '-' and '_', starting with a letter")
        add.add_argument(
            "--type",
            required=True,
            help=f"One of {', '.join(AttributeType.values)}",
        )
        add.add_argument("--description", default="", help="What it holds, for the admins")
        actions.add_parser("list", help="List the attributes: name, type, description")
        remove = actions.add_parser("remove", help="Remove an attribute and its values")
        remove.add_argument("name", help="The attribute's name (case does not matter)")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise CommandError(f"There is no organisation with the slug {slug!r}.")
        if options["action"] == "add":
            self._add(organisation, options["name"], options["type"], options["description"])
        elif options["action"] == "remove":
            self._remove(organisation, options["name"])
        else:
            self._list(organisation)

    def _add(self, organisation: Organisation, name: str, type_: str, description: str) -> None:
        try:
            added = services.custom_attribute_add(
                organisation=organisation,
                actor=Actor.system(ACTOR),
                name=name,
                type=type_,
                description=description,
            )
        except CustomAttributeRefused as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(f"Added {added.name} ({added.type}) to {organisation.slug}.")

    def _list(self, organisation: Organisation) -> None:
        attributes = CustomAttribute.objects.filter(organisation=organisation).order_by(
            Lower("name")
        )
        if not attributes:
            self.stdout.write(f"{organisation.slug} has no attributes of its own.")
            return
        for attribute in attributes:
            line = f"{attribute.name}\t{attribute.type}"
            self.stdout.write(f"{line}\t{attribute.description}" if attribute.description else line)

    def _remove(self, organisation: Organisation, name: str) -> None:
        attribute = next(
            (
                attribute
                for attribute in CustomAttribute.objects.filter(organisation=organisation)
                if attribute.name.lower() == name.lower()
            ),
            None,
        )
        if attribute is None:
            raise CommandError(f"{organisation.slug} has no attribute named {name!r}.")
        deleted = services.custom_attribute_remove(attribute=attribute, actor=Actor.system(ACTOR))
        values = "1 person's value" if deleted == 1 else f"{deleted} people's values"
        self.stdout.write(f"Removed {attribute.name} from {organisation.slug}; {values} deleted.")
