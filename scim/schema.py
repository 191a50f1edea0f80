"""What our SCIM resources contain, as data: one source for /Schemas, /ResourceTypes, for finding
attributes by name case-insensitively (RFC 7643 §2.1) and for knowing their types.

Only what auzlearn stores is described, so that /Schemas tells Okta, Entra and conformance tools
exactly what is supported (DESIGN §5).
"""

from dataclasses import dataclass

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"  # string, boolean, dateTime, reference, complex
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


@dataclass(frozen=True)
class ResourceType:
    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()

    @property
    def schema_ids(self) -> tuple[str, ...]:
        return (self.schema.id, *(extension.id for extension in self.extensions))

    def schema_for(self, urn: str | None) -> Schema | None:
        """The schema a URN names (case-insensitively); None for a URN that is not ours."""
        if urn is None:
            return self.schema
        for schema in (self.schema, *self.extensions):
            if schema.id.lower() == urn.lower():
                return schema
        return None

    def find(self, name: str, urn: str | None = None) -> tuple[Schema, Attribute] | None:
        """An attribute by name, in the schema the URN names, or else in the core schema and
        then its extensions (clients often leave extension attributes unqualified)."""
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


def _multi(name: str, description: str, *, value_type: str = "string") -> Attribute:
    """A multi-valued attribute of which auzlearn keeps one value, the work one. A client's
    ``primary`` flag picks which value that is, but is not stored, so it is not described."""
    return Attribute(
        name,
        type="complex",
        description=description,
        multi_valued=True,
        sub_attributes=(
            Attribute("value", type=value_type, description=f"The {description.lower()}"),
            Attribute(
                "type",
                description="Only the work value is kept.",
                canonical_values=("work",),
            ),
        ),
    )


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
            description="The person's name. (A formatted name is derived, not stored.)",
            sub_attributes=(
                Attribute("familyName", description="Family name."),
                Attribute("givenName", description="Given name."),
            ),
        ),
        Attribute("displayName", description="Name to display."),
        Attribute("title", description="Job title."),
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
        _multi("emails", "Email address"),
        _multi("phoneNumbers", "Phone number"),
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

USER = ResourceType(
    name="User",
    endpoint="/Users",
    description="People of the organisation",
    schema=USER_SCHEMA,
    extensions=(ENTERPRISE_USER_SCHEMA,),
)
GROUP = ResourceType(
    name="Group",
    endpoint="/Groups",
    description="Teams of the organisation",
    schema=GROUP_SCHEMA,
)
RESOURCE_TYPES = (USER, GROUP)
SCHEMAS = (USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA)
