"""SAML attribute mapping: the attribute statements an identity provider sends besides names and
email (Google Workspace's department and job title, a cost centre, a hire date…) set profile
fields and the organisation's own attributes at each sign-in, for identity providers that do not
provision over SCIM.

Pure: from a response's attributes, a connection's mapping and the organisation's attributes, what
each mapping would set and why not, and the words of the sign-in's checks. ``sso.signin`` applies
the values through ``accounts.services``; ``sso.services`` changes the mapping.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, get_type_hints

from django.core.exceptions import ValidationError
from django.db.models import Field

from accounts.custom_attributes import JsonValue, ValueRefused, typed_value
from accounts.models import CustomAttribute, User
from accounts.services import UserFields

FIELD, CUSTOM = "field:", "custom:"
# A connection maps at most this many attributes; a SAML attribute Name is at most a URI.
MAX_MAPPINGS = 50
MAX_ATTRIBUTE_NAME_LENGTH = 512
# The profile fields no sign-in sets, whatever is mapped: the role (an attribute statement must
# never make anyone an admin) and the externalId (SCIM's link to the person in the identity
# provider, unique in the organisation).
NOT_MAPPABLE = frozenset({"role", "external_id"})
# The code of the checks a mapping adds to a sign-in attempt (after the response's own checks,
# which decide the sign-in; these never refuse one).
CHECK_CODE = "mapping"


@dataclass(frozen=True)
class Target:
    key: str  # as stored and posted: "field:department" or "custom:costCentre"
    label: str  # as people read it


@dataclass(frozen=True)
class AttributeMapping:
    """One line of a connection's mapping: the attribute Name as the identity provider sends it
    (compared ignoring case, as for names and email) and what it sets."""

    attribute: str
    target: str

    @property
    def is_custom(self) -> bool:
        return self.target.startswith(CUSTOM)

    @property
    def name(self) -> str:
        """The profile field or the organisation's attribute it sets."""
        return self.target.removeprefix(CUSTOM if self.is_custom else FIELD)

    def as_json(self) -> dict[str, str]:
        return {"attribute": self.attribute, "target": self.target}


def mappings_of(stored: Any) -> list[AttributeMapping]:
    """A connection's mapping as stored (``SamlConnection.attribute_mapping``)."""
    return [AttributeMapping(item["attribute"], item["target"]) for item in stored or []]


def profile_targets() -> list[Target]:
    """The profile fields a mapping may set: every text field of ``accounts.services.UserFields``,
    so that a field added there can be mapped at once, but NOT_MAPPABLE."""
    return [
        Target(FIELD + name, field_label(name))
        for name, hint in get_type_hints(UserFields).items()
        if hint is str and name not in NOT_MAPPABLE
    ]


def custom_targets(attributes: Iterable[CustomAttribute]) -> list[Target]:
    return [Target(CUSTOM + attribute.name, attribute.name) for attribute in attributes]


def field_label(name: str) -> str:
    """A profile field as the tab names it: its verbose name ("Employee number")."""
    verbose = str(_field(name).verbose_name)
    return verbose[:1].upper() + verbose[1:]


def target_label(mapping: AttributeMapping) -> str:
    if mapping.is_custom:
        return mapping.name
    if mapping.name in {target.key.removeprefix(FIELD) for target in profile_targets()}:
        return field_label(mapping.name)
    return mapping.name


@dataclass(frozen=True)
class Reading:
    """What one mapping makes of one response's attributes."""

    mapping: AttributeMapping
    label: str
    value: JsonValue | None = None  # what it sets; None when nothing arrived or it is skipped
    problem: str = ""  # why the value is skipped

    @property
    def sets(self) -> bool:
        return self.value is not None


def read(
    attributes: Mapping[str, list[str]],
    mappings: Iterable[AttributeMapping],
    defined: Mapping[str, CustomAttribute],
) -> list[Reading]:
    """What each mapping sets from these attributes. ``defined`` holds the organisation's
    attributes by lowercased name. A mapping whose attribute is missing or blank sets nothing
    (the value stays as it is, as for names and email); one that arrived more than once sets
    its first value; a value that does not fit its field or type is skipped."""
    lowered = {name.lower(): values for name, values in attributes.items()}
    fields = {target.key for target in profile_targets()}
    readings = []
    for mapping in mappings:
        values = [value for value in lowered.get(mapping.attribute.lower(), []) if value.strip()]
        definition = defined.get(mapping.name.lower()) if mapping.is_custom else None
        known = definition is not None if mapping.is_custom else mapping.target in fields
        label = definition.name if definition is not None else target_label(mapping)
        if not known:
            readings.append(Reading(mapping, label, problem=_GONE))
        elif not values:
            readings.append(Reading(mapping, label))
        else:
            readings.append(_reading(mapping, label, values[0].strip(), definition))
    return readings


def _reading(
    mapping: AttributeMapping, label: str, raw: str, definition: CustomAttribute | None
) -> Reading:
    try:
        if definition is not None:
            value = typed_value(definition.type, raw)
        else:
            value = _field_value(mapping.name, raw)
    except ValueRefused as refused:
        return Reading(mapping, label, problem=str(refused))
    except ValidationError as refused:
        return Reading(mapping, label, problem=" ".join(refused.messages))
    return Reading(mapping, label, value=value)


_GONE = "auzlearn has no such field or attribute any more, so this mapping sets nothing."


def _field_value(name: str, value: str) -> str:
    """The value as the profile field would keep it: its length and format checked (an email
    field takes only an address)."""
    return str(_field(name).clean(value, None))


def _field(name: str) -> Field[Any, Any]:
    field = User._meta.get_field(name)
    assert isinstance(field, Field), f"{name} is a profile field of User"
    return field


def check(reading: Reading, *, before: object = None, applied: bool) -> dict[str, Any]:
    """The sign-in attempt's check for one mapping, in the shape of ``sso.validation.Check``:
    passed is True when a value is (or would be) set, None when nothing arrived, False when the
    value is skipped. ``applied`` is False for a Test sign-in, which changes nothing."""
    name = f"{reading.mapping.attribute} → {reading.label}"
    if reading.problem:
        detail = f"{reading.problem} {reading.label} stays as it is."
        passed: bool | None = False
    elif not reading.sets:
        detail = f"Not sent, so {reading.label} stays as it is."
        passed = None
    elif not applied:
        detail = f"Would set {reading.label} to “{shown(reading.value)}”."
        passed = True
    elif before == reading.value:
        detail = f"{reading.label} is already “{shown(reading.value)}”."
        passed = True
    else:
        detail = f"Set {reading.label} to “{shown(reading.value)}”."
        passed = True
    return {"code": CHECK_CODE, "name": name, "passed": passed, "detail": detail}


def shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
