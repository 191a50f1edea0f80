"""Small readers and writers of SCIM JSON shared by the User and Group resources."""

from datetime import datetime
from typing import Any

from scim.errors import invalid_value

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_TRUE, _FALSE = {"true"}, {"false"}


def get_ci(document: Any, name: str) -> Any:
    """``document[name]`` with the name matched ignoring case (RFC 7643 §2.1)."""
    if not isinstance(document, dict):
        return None
    if name in document:
        return document[name]
    wanted = name.lower()
    return next((value for key, value in document.items() if key.lower() == wanted), None)


def as_text(value: Any, attribute: str) -> str:
    """A string attribute; null means empty. Numbers are refused rather than guessed at."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_value(f'"{attribute}" must be a string.')
    return value


def as_bool(value: Any, attribute: str) -> bool:
    """A boolean; Entra sends them as strings ("False"), so those are read too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise invalid_value(f'"{attribute}" must be true or false.')


def version_of(pk: Any, modified: datetime) -> str:
    """A weak ETag that changes whenever the resource's representation does: the moment it
    last changed, to the microsecond, which is also its meta.lastModified."""
    return f'W/"{pk}-{int(modified.timestamp() * 1_000_000)}"'


def resource_meta(
    resource_type: str, created: datetime, modified: datetime, location: str, version: str
) -> dict[str, str]:
    return {
        "resourceType": resource_type,
        "created": _timestamp(created),
        "lastModified": _timestamp(modified),
        "location": location,
        "version": version,
    }


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def list_response(
    resources: list[dict[str, Any]], *, total: int, start_index: int
) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
