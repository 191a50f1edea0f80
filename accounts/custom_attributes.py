"""The organisation's own attributes: which names and types they may have, and what a value of
each type may be (RFC 7643 §2.1 and §2.3). Pure: no database.

``typed_value`` turns what arrived into the JSON value stored in ``User.custom_attributes``.
The services check every value with it, and SCIM and SAML sign-in call it to read what their
clients send: SAML attribute statements carry only text, and SCIM clients send booleans as
"False" (DESIGN §5), so a value may always arrive as a string of its type.
"""

import math
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from accounts.models import ATTRIBUTE_NAME_PATTERN, AttributeType

JsonValue = str | bool | int | float

MAX_DESCRIPTION_LENGTH = 500
# Far more than a cost centre code or a learning track needs; a SCIM body is capped anyway.
MAX_TEXT_LENGTH = 2048
# JSON numbers both databases store exactly (PostgreSQL's jsonb and SQLite's JSON functions).
INTEGER_LIMIT = 2**63
_INTEGER = re.compile(r"[+-]?\d{1,19}")

# What a value of each type must be, in the words the tab and the errors use.
TYPE_WORDS = {
    AttributeType.STRING: "text",
    AttributeType.BOOLEAN: "true or false",
    AttributeType.INTEGER: "a whole number",
    AttributeType.DECIMAL: "a number",
    AttributeType.DATETIME: "a date and time",
}


class ValueRefused(ValueError):
    """A value that does not fit its attribute's type; ``str(error)`` says why, in words."""


def is_attribute_name(name: str) -> bool:
    # fullmatch: the pattern's "$" would also match before a final newline.
    return re.fullmatch(ATTRIBUTE_NAME_PATTERN, name) is not None


def typed_value(attribute_type: str, value: object) -> JsonValue | None:
    """The value to store for ``value`` given to an attribute of this type, or None for "no
    value" (None and "" clear an attribute, as they do in a SCIM PATCH). Raises ValueRefused."""
    if value is None or value == "":
        return None
    if attribute_type == AttributeType.STRING:
        return _text(value)
    if attribute_type == AttributeType.BOOLEAN:
        return _boolean(value)
    if attribute_type == AttributeType.INTEGER:
        return _integer(value)
    if attribute_type == AttributeType.DECIMAL:
        return _decimal(value)
    if attribute_type == AttributeType.DATETIME:
        return _date_time(value)
    raise ValueRefused(f"{attribute_type!r} is not an attribute type.")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueRefused(f"{_shown(value)} is not text.")
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueRefused(f"Text longer than {MAX_TEXT_LENGTH} characters is not kept.")
    return value


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueRefused(f"{_shown(value)} is not true or false.")


def _integer(value: object) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not -INTEGER_LIMIT <= number < INTEGER_LIMIT:
        raise ValueRefused(f"{_shown(value)} is not a whole number.")
    return number


def _decimal(value: object) -> float:
    number: float | None = None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            number = float(Decimal(value.strip()))
    except (InvalidOperation, OverflowError):  # not a number; a whole number past 1.8e308
        number = None
    if number is None or not math.isfinite(number):
        raise ValueRefused(f"{_shown(value)} is not a number.")
    return number


def _date_time(value: object) -> str:
    """xsd:dateTime (RFC 7643 §2.3.5), stored in UTC as 2026-01-31T09:00:00Z. A moment without
    a time zone is taken as UTC, and a date alone as its midnight in UTC: directories such as
    Google Workspace keep dates (a hire date) without a time."""
    moment: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise ValueRefused(
            f"{_shown(value)} is not a date and time (use ISO 8601, like 2026-01-31T09:00:00Z)."
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _shown(value: object) -> str:
    """A value as an error message quotes it, cut short."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "…"
