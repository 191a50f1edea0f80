"""The multi-valued attributes of a person's profile (emails, phone numbers, addresses, photos):
what a list may hold, which email is the sign-in address, and the rows filters read.

Each list is kept as the identity provider sent it, in a JSON column of ``User`` (rendering reads
it with the row), and value by value in ``ProfileValue`` (filters read those). The services call
``check`` before saving and ``store`` after, in their transaction.
"""

from collections.abc import Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import MAX_PROFILE_VALUES, PROFILE_LISTS, ProfileValue, User

# The columns of ProfileValue that hold each sub-attribute (as SCIM names them).
_COLUMNS = {
    "value": "value",
    "display": "display",
    "type": "type",
    "formatted": "formatted",
    "streetAddress": "street_address",
    "locality": "locality",
    "region": "region",
    "postalCode": "postal_code",
    "country": "country",
}


def check(field: str, values: Any) -> None:
    """Refuse a list that is not one the profile keeps: a list of at most MAX_PROFILE_VALUES
    objects, each with known sub-attributes, text within its length and a boolean primary."""
    lengths = PROFILE_LISTS[field]
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise ValidationError({field: "must be a list of objects."})
    if len(values) > MAX_PROFILE_VALUES:
        raise ValidationError(
            {field: f"has {len(values)} values; at most {MAX_PROFILE_VALUES} are kept."}
        )
    for number, element in enumerate(values, start=1):
        for name, value in element.items():
            if name == "primary":
                if not isinstance(value, bool):
                    raise ValidationError({field: f"value {number}: primary must be a boolean."})
            elif name not in lengths:
                raise ValidationError({field: f"value {number}: {name!r} is not kept."})
            elif not isinstance(value, str):
                raise ValidationError({field: f"value {number}: {name} must be text."})
            elif len(value) > lengths[name]:
                raise ValidationError(
                    {field: f"value {number}: {name} is longer than {lengths[name]} characters."}
                )


def sign_in_address(emails: list[dict[str, Any]]) -> str:
    """The email people sign in with and are found by: the primary one, else the last work one
    (a PATCH ``add`` appends the new work address after the old one), else the first."""
    chosen = _sign_in_element(emails)
    return str(chosen.get("value", "")) if chosen is not None else ""


def with_sign_in_address(emails: list[dict[str, Any]], address: str) -> list[dict[str, Any]]:
    """The list with its sign-in address changed to ``address`` (an admin, or a SAML sign-in,
    changes one email, the one we use): that value changes, or a work email is added when there
    was none; "" removes it. The other values stay as they were."""
    chosen = _sign_in_element(emails)
    if chosen is None:
        return [*emails, {"value": address, "type": "work"}] if address else list(emails)
    if not address:
        return [element for element in emails if element is not chosen]
    return [{**element, "value": address} if element is chosen else element for element in emails]


def _sign_in_element(emails: list[dict[str, Any]]) -> dict[str, Any] | None:
    return (
        next((e for e in emails if e.get("primary") is True), None)
        or next((e for e in reversed(emails) if str(e.get("type", "")).lower() == "work"), None)
        or (emails[0] if emails else None)
    )


def store(user: User, fields: Collection[str], *, new: bool = False) -> None:
    """Rewrite the rows of these lists to match the person's columns: one DELETE (none for a
    new person) and one INSERT (none when the lists are empty), whatever their number."""
    fields = [field for field in fields if field in PROFILE_LISTS]
    if not fields:
        return
    if not new:
        ProfileValue.objects.filter(user=user, attribute__in=fields).delete()
    ProfileValue.objects.bulk_create(rows_of(user, fields))


def rows_of(user: User, fields: Iterable[str]) -> list[ProfileValue]:
    """The ProfileValue rows of these lists of a person (for ``store``)."""
    return [
        ProfileValue(
            user=user,
            attribute=field,
            primary=element.get("primary") is True,
            **{column: element.get(name, "") for name, column in _COLUMNS.items()},
        )
        for field in fields
        for element in getattr(user, field)
    ]


def rows_of_many(users: Iterable[User], fields: Collection[str]) -> list[ProfileValue]:
    """The same for many people at once (the benchmark's bulk load)."""
    return [row for user in users for row in rows_of(user, fields)]
