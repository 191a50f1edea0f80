"""Where each attribute of a SCIM User is kept on ``accounts.models.User``: one table that
parsing, rendering, filters, error messages and /scim/limits/ all read, so that an attribute
described in /Schemas cannot be parsed and then dropped."""

from dataclasses import dataclass

from scim.schema import CORE_USER, ENTERPRISE_USER


@dataclass(frozen=True)
class Text:
    """A single-valued string attribute stored in one column; "" when absent. ``sub`` names
    the sub-attribute of a complex attribute (name.givenName)."""

    schema: str
    attribute: str
    sub: str
    field: str

    @property
    def label(self) -> str:
        """The attribute as clients write it, for messages: "name.givenName"."""
        return f"{self.attribute}.{self.sub}" if self.sub else self.attribute


TEXT = (
    Text(CORE_USER, "name", "formatted", "formatted_name"),
    Text(CORE_USER, "name", "familyName", "family_name"),
    Text(CORE_USER, "name", "givenName", "given_name"),
    Text(CORE_USER, "name", "middleName", "middle_name"),
    Text(CORE_USER, "name", "honorificPrefix", "honorific_prefix"),
    Text(CORE_USER, "name", "honorificSuffix", "honorific_suffix"),
    Text(CORE_USER, "displayName", "", "display_name"),
    Text(CORE_USER, "nickName", "", "nick_name"),
    Text(CORE_USER, "profileUrl", "", "profile_url"),
    Text(CORE_USER, "title", "", "title"),
    Text(CORE_USER, "userType", "", "user_type"),
    Text(CORE_USER, "preferredLanguage", "", "preferred_language"),
    Text(CORE_USER, "locale", "", "locale"),
    Text(CORE_USER, "timezone", "", "timezone"),
    Text(ENTERPRISE_USER, "employeeNumber", "", "employee_number"),
    Text(ENTERPRISE_USER, "costCenter", "", "cost_center"),
    Text(ENTERPRISE_USER, "organization", "", "company"),
    Text(ENTERPRISE_USER, "division", "", "division"),
    Text(ENTERPRISE_USER, "department", "", "department"),
)
CORE_TEXT = tuple(text for text in TEXT if text.schema == CORE_USER)
ENTERPRISE_TEXT = tuple(text for text in TEXT if text.schema == ENTERPRISE_USER)

# The multi-valued attributes: SCIM's name and the User column holding its list (the sub-
# attributes each keeps are accounts.models.PROFILE_LISTS).
LISTS = {
    "emails": "emails",
    "phoneNumbers": "phone_numbers",
    "addresses": "addresses",
    "photos": "photos",
}

# User fields as clients name them, for validation messages (scim.handlers).
SCIM_NAMES = {
    "username": "userName",
    "external_id": "externalId",
    "email": "emails.value",
    **{text.field: text.label for text in TEXT},
    **{field: name for name, field in LISTS.items()},
}
