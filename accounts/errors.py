"""Domain errors raised by accounts.services.

Field values that fail validation raise Django's ``ValidationError`` (forms show it next to the
field; SCIM turns it into ``invalidValue``). The errors below are about the state of the
organisation, not the shape of a value.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User


class AccountsError(Exception):
    """Base class; ``str(error)`` is a sentence fit to show to an admin or an API client."""


class OrganisationSlugTaken(AccountsError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"An organisation with the slug {slug!r} already exists.")
        self.slug = slug


class UserConflict(AccountsError):
    """Another user of the organisation already has this userName or externalId.

    ``existing`` is that user when known (None when a concurrent insert won the race), so a
    caller such as SCIM POST can revive an inactive or deleted match instead of failing.
    """

    def __init__(self, *, field: str, value: str, existing: "User | None") -> None:
        super().__init__(f"A user with {field} {value!r} already exists in this organisation.")
        self.field = field
        self.value = value
        self.existing = existing


class TeamNameTaken(AccountsError):
    def __init__(self, display_name: str) -> None:
        super().__init__(f"A team named {display_name!r} already exists in this organisation.")
        self.display_name = display_name


class ManagerRefused(AccountsError):
    """The manager asked for would break a rule: another organisation, or a cycle."""


class MembersRefused(AccountsError):
    """Some users asked to join a team are not people of the team's organisation."""


class RoleRefused(AccountsError):
    """The person cannot take a role: support staff, or someone inactive."""


class UserDeleted(AccountsError):
    def __init__(self, user: "User") -> None:
        super().__init__(f"User {user.username!r} is deleted; restore (revive) them first.")
        self.user = user


class CustomAttributeRefused(AccountsError):
    """An attribute of the organisation's own that cannot be defined as asked: a name outside
    SCIM's attribute grammar, an unknown type, a description too long. ``field`` names the input
    at fault, for forms."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CustomAttributeNameTaken(CustomAttributeRefused):
    def __init__(self, name: str) -> None:
        super().__init__(
            "name",
            f"This organisation already has an attribute named {name!r} "
            "(SCIM compares attribute names ignoring case).",
        )
        self.name = name
