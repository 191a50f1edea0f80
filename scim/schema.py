"""What our SCIM resources contain, as data: one source for /Schemas, /ResourceTypes, for finding
attributes by name case-insensitively (RFC 7643 §2.1) and for knowing their types.

Only what auzlearn stores is described, so that /Schemas tells Okta, Entra and conformance tools
exactly what is supported (DESIGN §5), and everything described is stored.

The core User, enterprise User and Group schemas are constants. The organisation's own
attributes are one more extension of User (CUSTOM_USER), different for each organisation: a
request's User resource type (``user_type``) reads them only when something names that
extension or an attribute no constant schema has, so that lookups and list pages never do.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# The organisation's own attributes (accounts.models.CustomAttribute), as one extension of User:
# Okta takes it as the external namespace of an app profile's custom attributes, Entra as the
# prefix of an attribute mapping's target ("<this URN>:<name>").
CUSTOM_USER = "urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


# RFC 7643 §2.1's ATTRNAME: what cannot match it (a URN, a dotted path) is no attribute of the
# organisation's either, so looking it up there would read the definitions for nothing.
ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_$-]*")


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"  # string, boolean, integer, decimal, dateTime, reference, complex
    description: str = ""
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly, readWrite, immutable, writeOnly
    returned: str = "default"  # always, never, default, request
    uniqueness: str = "none"  # none, server, global
    sub_attributes: tuple["Attribute", ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()

    def sub_attribute(self, name: str) -> "Attribute | None":
        return _find(self.sub_attributes, name)

    def as_document(self) -> dict[str, object]:
        document: dict[str, object] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "mutability": self.mutability,
            "returned": self.returned,
        }
        if self.type in ("string", "reference", "binary"):
            document["caseExact"] = self.case_exact
            document["uniqueness"] = self.uniqueness
        if self.canonical_values:
            document["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            document["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            document["subAttributes"] = [sub.as_document() for sub in self.sub_attributes]
        return document


@dataclass(frozen=True)
class Schema:
    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        return _find(self.attributes, name)


class Deferred:
    """An extension whose attributes are read when first needed, at most once: ``load`` is
    called by the first lookup that needs it (scim.views builds one per request)."""

    def __init__(self, schema_id: str, load: Callable[[], Schema]) -> None:
        self.id = schema_id
        self._load = load
        self._schema: Schema | None = None

    @property
    def loaded(self) -> bool:
        return self._schema is not None

    def schema(self) -> Schema:
        if self._schema is None:
            self._schema = self._load()
        return self._schema


@dataclass(frozen=True)
class ResourceType:
    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()
    # The organisation's own extension, read only when a lookup needs it (module docstring).
    deferred: Deferred | None = None

    @property
    def schema_ids(self) -> tuple[str, ...]:
        """The ids of the schema and every extension, without reading a deferred one."""
        deferred = (self.deferred.id,) if self.deferred is not None else ()
        return (self.schema.id, *(extension.id for extension in self.extensions), *deferred)

    def all_extensions(self) -> tuple[Schema, ...]:
        """Every extension, the deferred one read."""
        if self.deferred is None:
            return self.extensions
        return (*self.extensions, self.deferred.schema())

    def published_extensions(self) -> tuple[Schema, ...]:
        """What /ResourceTypes and /Schemas list: an extension without attributes is left out
        (an organisation that defined none of its own)."""
        return tuple(extension for extension in self.all_extensions() if extension.attributes)

    def schema_for(self, urn: str | None) -> Schema | None:
        """The schema a URN names (case-insensitively); None for a URN that is not ours."""
        if urn is None:
            return self.schema
        for schema in (self.schema, *self.extensions):
            if schema.id.lower() == urn.lower():
                return schema
        if self.deferred is not None and self.deferred.id.lower() == urn.lower():
            return self.deferred.schema()
        return None

    def find(self, name: str, urn: str | None = None) -> tuple[Schema, Attribute] | None:
        """An attribute by name, in the schema the URN names, or else in the core schema and
        then its extensions (clients often leave extension attributes unqualified). The
        deferred extension is read only when the constant schemas do not have the name."""
        if urn is not None:
            schema = self.schema_for(urn)
            found = schema.attribute(name) if schema else None
            return (schema, found) if schema and found else None
        common = _find(COMMON_ATTRIBUTES, name)
        if common is not None:
            return self.schema, common
        for schema in (self.schema, *self.extensions):
            found = schema.attribute(name)
            if found is not None:
                return schema, found
        if self.deferred is not None and ATTRIBUTE_NAME.fullmatch(name):
            schema = self.deferred.schema()
            found = schema.attribute(name)
            if found is not None:
                return schema, found
        return None


def _find(attributes: tuple[Attribute, ...], name: str) -> Attribute | None:
    wanted = name.lower()
    return next((a for a in attributes if a.name.lower() == wanted), None)


_ID_DESCRIPTION = "Unique identifier assigned by auzlearn. Never changes."

# RFC 7643 §3.1: common to every resource, and not listed in the schemas themselves.
COMMON_ATTRIBUTES = (
    Attribute(
        "id",
        description=_ID_DESCRIPTION,
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    Attribute(
        "externalId",
        description="Identifier of the resource in the identity provider.",
        case_exact=True,
    ),
    Attribute(
        "meta",
        type="complex",
        description="Resource metadata.",
        mutability="readOnly",
        sub_attributes=(
            Attribute("resourceType", case_exact=True, mutability="readOnly"),
            Attribute("created", type="dateTime", mutability="readOnly"),
            Attribute("lastModified", type="dateTime", mutability="readOnly"),
            Attribute(
                "location", type="reference", mutability="readOnly", reference_types=("uri",)
            ),
            Attribute("version", case_exact=True, mutability="readOnly"),
        ),
    ),
)


def _multi(name: str, description: str, types: tuple[str, ...], *values: Attribute) -> Attribute:
    """A multi-valued attribute (RFC 7643 §2.4): every value is kept as sent, with its type and
    primary flag."""
    return Attribute(
        name,
        type="complex",
        description=description,
        multi_valued=True,
        sub_attributes=(
            *values,
            Attribute("type", description="What kind of value this is.", canonical_values=types),
            Attribute(
                "primary",
                type="boolean",
                description="The value to use first; for emails, the one people sign in with.",
            ),
        ),
    )


_DISPLAY = Attribute("display", description="A name for the value, for people.")

USER_SCHEMA = Schema(
    id=CORE_USER,
    name="User",
    description="A person of the organisation.",
    attributes=(
        Attribute(
            "userName",
            description="Unique within the organisation, compared ignoring case.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "name",
            type="complex",
            description="The person's name, its parts as sent.",
            sub_attributes=(
                Attribute("formatted", description="The full name, formatted for display."),
                Attribute("familyName", description="Family name."),
                Attribute("givenName", description="Given name."),
                Attribute("middleName", description="Middle name or names."),
                Attribute("honorificPrefix", description="Title before the name, e.g. Dr."),
                Attribute("honorificSuffix", description="Suffix after the name, e.g. III."),
            ),
        ),
        Attribute("displayName", description="Name to display."),
        Attribute("nickName", description="Casual name, e.g. Bob for Robert."),
        Attribute(
            "profileUrl",
            type="reference",
            description="A page about the person.",
            reference_types=("external",),
        ),
        Attribute("title", description="Job title."),
        Attribute("userType", description="Kind of worker, e.g. Employee or Contractor."),
        Attribute("preferredLanguage", description="Preferred language, e.g. en-GB."),
        Attribute("locale", description="Locale, e.g. en-GB."),
        Attribute("timezone", description="Time zone, e.g. Europe/London."),
        # Always has a value here (true unless deactivated; a create that leaves it out means
        # true), so it is described as required: it can be set, never removed.
        Attribute(
            "active",
            type="boolean",
            description="False means deactivated (soft delete). A create without it means true.",
            required=True,
        ),
        _multi(
            "emails",
            "Email addresses. People sign in with the primary one, else the last work one.",
            ("work", "home", "other"),
            Attribute("value", description="The email address."),
            _DISPLAY,
        ),
        _multi(
            "phoneNumbers",
            "Phone numbers.",
            ("work", "home", "mobile", "fax", "pager", "other"),
            Attribute("value", description="The phone number."),
            _DISPLAY,
        ),
        _multi(
            "addresses",
            "Postal addresses.",
            ("work", "home", "other"),
            Attribute("formatted", description="The whole address, formatted for display."),
            Attribute("streetAddress", description="Street, house number, flat."),
            Attribute("locality", description="City or locality."),
            Attribute("region", description="State or region."),
            Attribute("postalCode", description="Postal code."),
            Attribute("country", description="Country, e.g. GB (ISO 3166-1 alpha-2)."),
        ),
        _multi(
            "photos",
            "Pictures of the person.",
            ("photo", "thumbnail"),
            Attribute(
                "value",
                type="reference",
                description="The picture's URL.",
                reference_types=("external",),
            ),
            _DISPLAY,
        ),
        Attribute(
            "groups",
            type="complex",
            description="Teams the person belongs to; change them through Groups.",
            multi_valued=True,
            mutability="readOnly",
            sub_attributes=(
                Attribute("value", description="The team's id.", mutability="readOnly"),
                Attribute(
                    "$ref",
                    type="reference",
                    reference_types=("Group",),
                    mutability="readOnly",
                    description="The team's URI.",
                ),
                Attribute("display", description="The team's name.", mutability="readOnly"),
            ),
        ),
    ),
)

ENTERPRISE_USER_SCHEMA = Schema(
    id=ENTERPRISE_USER,
    name="EnterpriseUser",
    description="Enterprise attributes of a person.",
    attributes=(
        Attribute("employeeNumber", description="Employee number."),
        Attribute("costCenter", description="Cost centre."),
        Attribute("organization", description="The company the person works for."),
        Attribute("division", description="Division."),
        Attribute("department", description="Department."),
        Attribute(
            "manager",
            type="complex",
            description="The person's manager, a user of the same organisation.",
            sub_attributes=(
                Attribute(
                    "value",
                    description="The manager's id, else their externalId.",
                ),
                Attribute(
                    "$ref",
                    type="reference",
                    reference_types=("User",),
                    mutability="readOnly",
                    description="The manager's URI.",
                ),
                Attribute(
                    "displayName",
                    description="The manager's email or userName; used when value is unknown.",
                ),
            ),
        ),
    ),
)


def custom_user_schema(attributes: Iterable[tuple[str, str, str]]) -> Schema:
    """The organisation's own attributes, each (name, type, description), as the User
    extension CUSTOM_USER. Their types are SCIM's (accounts.models.AttributeType)."""
    return Schema(
        id=CUSTOM_USER,
        name="OrganisationUser",
        description="Attributes this organisation added to its people's profile.",
        attributes=tuple(
            Attribute(name, type=type_, description=description)
            for name, type_, description in attributes
        ),
    )


GROUP_SCHEMA = Schema(
    id=CORE_GROUP,
    name="Group",
    description="A team of the organisation.",
    attributes=(
        Attribute(
            "displayName",
            description="Unique within the organisation, compared ignoring case.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "members",
            type="complex",
            description="People in the team.",
            multi_valued=True,
            sub_attributes=(
                Attribute("value", description="The person's id.", mutability="immutable"),
                Attribute(
                    "$ref",
                    type="reference",
                    reference_types=("User",),
                    mutability="immutable",
                    description="The person's URI.",
                ),
                Attribute(
                    "type",
                    description="Always User.",
                    mutability="immutable",
                    canonical_values=("User",),
                ),
            ),
        ),
    ),
)

# User without the organisation's own attributes: what needs no database (unit tests of the
# protocol modules, and every lookup that names only constant attributes).
USER = ResourceType(
    name="User",
    endpoint="/Users",
    description="People of the organisation",
    schema=USER_SCHEMA,
    extensions=(ENTERPRISE_USER_SCHEMA,),
)


def user_type(load_custom: Callable[[], Schema]) -> ResourceType:
    """User with the organisation's own extension, read by ``load_custom`` when first needed."""
    return ResourceType(
        name=USER.name,
        endpoint=USER.endpoint,
        description=USER.description,
        schema=USER.schema,
        extensions=USER.extensions,
        deferred=Deferred(CUSTOM_USER, load_custom),
    )


GROUP = ResourceType(
    name="Group",
    endpoint="/Groups",
    description="Teams of the organisation",
    schema=GROUP_SCHEMA,
)
