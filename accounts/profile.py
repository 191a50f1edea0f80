"""What the landing page, /me.json and the Django admin show of a person's profile: every
attribute the identity provider keeps up to date, the organisation's own attributes with their
values written for people (by their types), the manager and the teams."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from accounts.models import AttributeType, CustomAttribute, User


@dataclass(frozen=True)
class Fact:
    """One line of a profile as people read it."""

    label: str
    value: str


# The single-valued attributes shown, in the order people read them, with their labels.
DETAILS = (
    ("honorific_prefix", "Honorific prefix"),
    ("given_name", "Given name"),
    ("middle_name", "Middle name"),
    ("family_name", "Family name"),
    ("honorific_suffix", "Honorific suffix"),
    ("formatted_name", "Full name as sent"),
    ("display_name", "Display name"),
    ("nick_name", "Nickname"),
    ("title", "Job title"),
    ("user_type", "Kind of worker"),
    ("preferred_language", "Preferred language"),
    ("locale", "Locale"),
    ("timezone", "Time zone"),
    ("profile_url", "Profile page"),
)
WORK = (
    ("employee_number", "Employee number"),
    ("company", "Organization"),
    ("division", "Division"),
    ("department", "Department"),
    ("cost_center", "Cost centre"),
)
LISTS = (
    ("emails", "Email"),
    ("phone_numbers", "Phone"),
    ("addresses", "Address"),
    ("photos", "Photo"),
)
_ADDRESS_PARTS = ("streetAddress", "locality", "region", "postalCode", "country")


@dataclass(frozen=True)
class CustomValue:
    """A person's value of one of the organisation's own attributes."""

    name: str
    type: str  # accounts.models.AttributeType, or "" for a value no definition describes
    value: Any  # as stored: text, true or false, a number, or a UTC dateTime in ISO 8601

    @property
    def text(self) -> str:
        return custom_text(self.type, self.value)


@dataclass(frozen=True)
class Profile:
    user: User
    manager: User | None
    teams: list[str]
    custom: list[CustomValue] = field(default_factory=list)

    @property
    def details(self) -> list[Fact]:
        return _facts(self.user, DETAILS)

    @property
    def work(self) -> list[Fact]:
        return _facts(self.user, WORK)

    @property
    def contacts(self) -> list[Fact]:
        return contact_facts(self.user)

    def as_json(self) -> dict[str, Any]:
        user, manager = self.user, self.manager
        return {
            "organisation": user.organisation.slug if user.organisation else None,
            "username": user.username,
            "email": user.email,
            "first_name": user.given_name,
            "last_name": user.family_name,
            "manager": None
            if manager is None
            else {
                "username": manager.username,
                "email": manager.email,
                "name": manager.get_full_name(),
            },
            "teams": self.teams,
            # Everything else, by the names the model gives it; absent values left out.
            "profile": {
                name: getattr(user, name)
                for name, _ in (*DETAILS, *WORK, *LISTS)
                if getattr(user, name)
            },
            "custom_attributes": [
                {"name": value.name, "type": value.type, "value": value.value}
                for value in self.custom
            ],
        }


def profile_of(user: User) -> Profile:
    manager = None
    if user.manager_id is not None:
        # A deleted manager is shown as nobody's (DESIGN §4); the link stays for their revival.
        manager = User.objects.filter(pk=user.manager_id, deleted_at__isnull=True).first()
    teams = sorted(user.teams.values_list("display_name", flat=True), key=str.lower)
    return Profile(user=user, manager=manager, teams=teams, custom=custom_values_of(user))


def custom_values_of(user: User) -> list[CustomValue]:
    """The person's values of the organisation's own attributes, by name, each with its type:
    one query, and none for a person without such values."""
    if not user.custom_attributes or user.organisation_id is None:
        return []
    types = dict(
        CustomAttribute.objects.filter(organisation_id=user.organisation_id).values_list(
            "name", "type"
        )
    )
    return [
        CustomValue(name, types.get(name, ""), value)
        for name, value in sorted(user.custom_attributes.items(), key=lambda item: item[0].lower())
    ]


def custom_text(attribute_type: str, value: Any) -> str:
    """A value written for people: Yes or No, numbers in full (no exponent), a date and time
    in UTC (a date alone when it is midnight, as for a hire date)."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and attribute_type != AttributeType.STRING:
        try:
            return format(Decimal(repr(value)), "f")
        except InvalidOperation:
            return str(value)
    if attribute_type == AttributeType.DATETIME and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return value
        if moment.time() == datetime.min.time():
            return f"{moment.day} {moment:%b %Y}"
        shown = "%H:%M:%S" if moment.second or moment.microsecond else "%H:%M"
        return f"{moment.day} {moment:%b %Y}, {moment.strftime(shown)} UTC"
    return str(value)


def contact_facts(user: User) -> list[Fact]:
    """Each email, phone number, address and photo on a line of its own: the value, then its
    type and whether it is the primary one."""
    facts = []
    for name, label in LISTS:
        for element in getattr(user, name):
            value = (
                element.get("value")
                or element.get("formatted")
                or ", ".join(str(element[part]) for part in _ADDRESS_PARTS if element.get(part))
            )
            notes = [str(element["type"])] if element.get("type") else []
            if element.get("primary") is True:
                notes.append("primary")
            facts.append(Fact(label, f"{value} ({', '.join(notes)})" if notes else str(value)))
    return facts


def _facts(user: User, names: tuple[tuple[str, str], ...]) -> list[Fact]:
    return [Fact(label, getattr(user, name)) for name, label in names if getattr(user, name)]
