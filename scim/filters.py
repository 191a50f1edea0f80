"""SCIM filters (RFC 7644 §3.4.2.2) and sortBy (§3.4.2.3) as Django ``Q`` objects and orderings.

scim2-models parses the filter; this module walks its syntax tree and maps every attribute of our
Users (``accounts.models.User``) and Groups (``accounts.models.Team``) to the column, related row
or constant that holds it. Names are resolved case-insensitively through ``scim.schema``, so a
filter can only name what /Schemas describes. Anything we cannot answer exactly is an
``invalidFilter`` (or an ``invalidValue`` for sortBy) that says what was wrong: never a 500, and
never a silently wrong result.

Semantics worth knowing (RFC 7644 leaves them to the service provider):

- An empty string is an absent value, like NULL. ``eq co sw ew gt ge lt le`` only match present
  values; ``ne`` is exactly ``not (… eq …)``, so it also matches people who have no value at all.
  ``attr eq null`` means "attr is absent" and ``attr ne null`` means "attr is present".
- ``pr`` means present and non-empty; ``active pr`` is true for everyone (false is a value).
- Strings compare ignoring case unless /Schemas says caseExact (id, externalId, meta.resourceType).
  A string attribute compared with a number or a boolean is an invalidFilter.
- Ids are UUIDs, compared as UUIDs (so in any letter case). A value that is not one matches
  nothing with ``eq`` and everything with ``ne``: Entra's connection test filters on a random
  value and expects an empty list, not an error. ``gt``/``lt`` on ids mean nothing and are refused.
- dateTime values compare as instants (offsets honoured; no offset means UTC), to the
  microsecond we store and emit: ``meta.lastModified gt "<a value we emitted>"`` never misses a
  later change, which is what incremental imports rely on.
- Multi-valued profile attributes (emails, phoneNumbers, addresses, photos) are filtered over
  their rows in ``accounts.models.ProfileValue``, one per value: ``addresses[locality eq
  "London" and type eq "work"]`` is one address matching both. ``primary`` is false when absent.
- The organisation's own attributes (CUSTOM_USER) are filtered in the person's own row, in the
  JSON column that holds them, each as its declared type: strings ignoring case, numbers and
  dateTimes in order, booleans with eq/ne. Their definitions are read only when a filter or
  sortBy names an attribute the constant schemas do not have.
- Outside brackets a sub-attribute of a multi-valued attribute means "any value":
  ``groups.value eq "x"`` is "in team x", and ``groups.value ne "x"`` is "not in team x". Inside
  brackets every condition must hold for the same value: ``groups[value eq "a" and display
  eq "b"]`` is one membership row matching both.
- Deleted users are not shown as members by SCIM, so ``members`` filters ignore them. (The caller
  excludes deleted users from the Users endpoint itself.)
- sortBy takes single-valued attributes of the resource's own row, the organisation's own
  attributes, and emails (by the sign-in address: the primary one, else the last work one);
  people without a value sort last ascending and first descending (§3.4.2.3), and the
  immutable pk always breaks ties.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, F, Func, JSONField, Q, TextField, Value, When
from django.db.models.expressions import OrderBy
from django.db.models.functions import Concat, Left, Length, Lower, NullIf, Right, StrIndex
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
)
from django.db.models.sql.compiler import SQLCompiler
from scim2_models.exceptions import InvalidFilterException, InvalidPathException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Path,
    Present,
    ScimFilter,
    ValuePath,
)

from accounts import custom_attributes, versions
from accounts.models import AttributeType, ProfileValue, TeamMembership, User
from scim import fields, schema
from scim.errors import ScimError, invalid_filter, invalid_value

MAX_FILTER_LENGTH = 1000
MAX_SORT_BY_LENGTH = 200

# Conditions that are true / false for every row. Never ``Q()``: an empty Q is dropped by & and |
# and stays empty under ~, so "not (meta.created pr)" would match everyone.
ALWAYS = Q(pk__isnull=False)
NEVER = Q(pk__isnull=True)

Op = CompareOperator
ORDERING_OPS = frozenset({Op.gt, Op.ge, Op.lt, Op.le})
SUBSTRING_OPS = frozenset({Op.co, Op.sw, Op.ew})


# --- the attribute tables ----------------------------------------------------------------------


class Kind(Enum):
    STRING = "string"
    ID = "id"  # a UUIDField: a string in SCIM, compared as a UUID
    BOOLEAN = "boolean"
    DATETIME = "dateTime"


@dataclass(frozen=True)
class Column:
    """An attribute stored in one column; ``path`` is an ORM path from the rows being filtered
    (the resource, or the related rows of a ``Complex`` attribute)."""

    path: str
    kind: Kind = Kind.STRING
    case_exact: bool = False
    # NOT NULL and never "": presence needs no condition.
    always_present: bool = False
    # NULL when absent (else "" is): presence says IS NOT NULL, which also keeps every
    # condition on the column two-valued under NOT.
    nullable: bool = False


@dataclass(frozen=True)
class Constant:
    """An attribute every value has, always the same: ``emails.type`` is "work"."""

    value: str | bool
    case_exact: bool = False


@dataclass(frozen=True)
class Unfilterable:
    """An attribute /Schemas describes but that we do not store as something we can query."""

    hint: str = ""


@dataclass(frozen=True)
class Complex:
    """An attribute with sub-attributes. A condition on one of its values is built over the
    rows that hold them (the resource's own row, memberships, the manager's row) and turned
    into a condition on the resource by ``lift``."""

    sub_attributes: Mapping[str, "Target"]
    lift: Callable[[Q], Q]
    multi_valued: bool = False
    # Whether the values live in the resource's own row (so they can be sorted on).
    same_row: bool = True
    # What sortBy on a multi-valued attribute uses, if it can (RFC 7644 §3.4.2.3: its primary
    # value): a column of the resource's own row.
    sort: "Column | None" = None


@dataclass(frozen=True)
class LastModified:
    """A User's meta.lastModified: the latest of its own updated_at and its teams' renaming
    (accounts.versions), so that an incremental import sees a renamed team's members."""


@dataclass(frozen=True)
class Custom:
    """One of the organisation's own attributes: a key of the person's ``custom_attributes``
    (JSON, on their own row), holding a value of the attribute's type as
    accounts.custom_attributes stores it."""

    name: str
    type: str


Target = Column | Constant | Unfilterable | Complex | LastModified | Custom


def _same_row(q: Q) -> Q:
    return q


def _in_teams(q: Q) -> Q:
    # One subquery over memberships with the whole condition applied to each membership row
    # ("the same value" for brackets), and no join in the outer query, so no duplicate rows
    # and no DISTINCT.
    return Q(pk__in=TeamMembership.objects.filter(q).values("user_id"))


def _with_members(q: Q) -> Q:
    memberships = TeamMembership.objects.filter(q, user__deleted_at__isnull=True)
    return Q(pk__in=memberships.values("team_id"))


def _with_manager(q: Q) -> Q:
    # The explicit IS NOT NULL keeps the condition two-valued: "manager_id IN (…)" is NULL for
    # people without a manager, and NOT NULL would drop them from "not (manager.value eq …)".
    # A deleted manager is shown as nobody's (DESIGN §4), so no filter finds them either.
    managers = User.objects.filter(q, deleted_at__isnull=True)
    return Q(manager__isnull=False, manager__in=managers.values("pk"))


def _profile_values(attribute: str) -> Callable[[Q], Q]:
    """A multi-valued profile attribute: the condition applied to each of its rows (one per
    value, so brackets mean "the same value"), as one subquery and no join."""

    def lift(q: Q) -> Q:
        return Q(pk__in=ProfileValue.objects.filter(q, attribute=attribute).values("user_id"))

    return lift


def _meta(resource_type: str, last_modified: Column | LastModified) -> Complex:
    return Complex(
        {
            "resourceType": Constant(resource_type, case_exact=True),
            "created": Column("created_at", Kind.DATETIME, always_present=True),
            "lastModified": last_modified,
            "location": Unfilterable("filter on id instead"),
            "version": Unfilterable("filter on meta.lastModified instead"),
        },
        _same_row,
    )


_VALUE_COLUMNS = {
    "value": Column("value"),
    "display": Column("display"),
    "type": Column("type"),
    # Stored as false when a value came without it.
    "primary": Column("primary", Kind.BOOLEAN, always_present=True),
}
_ADDRESS_COLUMNS = {
    "formatted": Column("formatted"),
    "streetAddress": Column("street_address"),
    "locality": Column("locality"),
    "region": Column("region"),
    "postalCode": Column("postal_code"),
    "country": Column("country"),
    "type": Column("type"),
    "primary": Column("primary", Kind.BOOLEAN, always_present=True),
}


def _values_of(attribute: str, sub_attributes: Mapping[str, Target]) -> Complex:
    column = fields.LISTS[attribute]
    return Complex(
        sub_attributes,
        _profile_values(column),
        multi_valued=True,
        same_row=False,
        # The sign-in address: the primary email, else the last work one (User.email).
        sort=Column("email") if attribute == "emails" else None,
    )


ID = Column("public_id", Kind.ID, case_exact=True, always_present=True)
EXTERNAL_ID = Column("external_id", case_exact=True, nullable=True)

# Keyed by the canonical names of scim.schema, which does the case-insensitive lookup.
USER_ATTRIBUTES: Mapping[str, Target] = {
    "id": ID,
    "externalId": EXTERNAL_ID,
    "meta": _meta("User", LastModified()),
    "userName": Column("username", always_present=True),
    # The single-valued text attributes, core and enterprise, from the one table (scim.fields).
    "name": Complex({text.sub: Column(text.field) for text in fields.TEXT if text.sub}, _same_row),
    **{text.attribute: Column(text.field) for text in fields.TEXT if not text.sub},
    "active": Column("is_active", Kind.BOOLEAN, always_present=True),
    "emails": _values_of("emails", _VALUE_COLUMNS),
    "phoneNumbers": _values_of("phoneNumbers", _VALUE_COLUMNS),
    "addresses": _values_of("addresses", _ADDRESS_COLUMNS),
    "photos": _values_of("photos", _VALUE_COLUMNS),
    "groups": Complex(
        {
            "value": Column("team__public_id", Kind.ID, case_exact=True, always_present=True),
            "display": Column("team__display_name", always_present=True),
            "$ref": Unfilterable("filter on groups.value instead"),
        },
        _in_teams,
        multi_valued=True,
        same_row=False,
    ),
    # Enterprise extension (its text attributes are above)
    "manager": Complex(
        {
            # Evaluated over the manager's own row (see _with_manager).
            "value": Column("public_id", Kind.ID, case_exact=True, always_present=True),
            "displayName": Column("email"),
            "$ref": Unfilterable("filter on manager.value instead"),
        },
        _with_manager,
        same_row=False,
    ),
}

GROUP_ATTRIBUTES: Mapping[str, Target] = {
    "id": ID,
    "externalId": EXTERNAL_ID,
    "meta": _meta("Group", Column("updated_at", Kind.DATETIME, always_present=True)),
    "displayName": Column("display_name", always_present=True),
    "members": Complex(
        {
            "value": Column("user__public_id", Kind.ID, case_exact=True, always_present=True),
            "type": Constant("User"),
            "$ref": Unfilterable("filter on members.value instead"),
        },
        _with_members,
        multi_valued=True,
        same_row=False,
    ),
}


@dataclass(frozen=True)
class Resource:
    type: schema.ResourceType
    attributes: Mapping[str, Target]


GROUPS = Resource(schema.GROUP, GROUP_ATTRIBUTES)


# --- public API --------------------------------------------------------------------------------


def user_filter(text: str, user_type: schema.ResourceType = schema.USER) -> Q:
    """A SCIM filter over Users as a condition on ``accounts.models.User``. ``user_type`` is
    the organisation's (scim.schema.user_type), for filters on its own attributes."""
    return _Translator(Resource(user_type, USER_ATTRIBUTES)).translate(_parse(text))


def group_filter(text: str) -> Q:
    """A SCIM filter over Groups as a condition on ``accounts.models.Team``."""
    return _Translator(GROUPS).translate(_parse(text))


def user_ordering(
    sort_by: str | None, sort_order: str | None, user_type: schema.ResourceType = schema.USER
) -> list[str | OrderBy]:
    return _ordering(Resource(user_type, USER_ATTRIBUTES), sort_by, sort_order)


def group_ordering(sort_by: str | None, sort_order: str | None) -> list[str | OrderBy]:
    return _ordering(GROUPS, sort_by, sort_order)


# --- parsing -----------------------------------------------------------------------------------


def _parse(text: str) -> FilterNode:
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid_filter(f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    if not text.strip():
        raise invalid_filter("The filter is empty.")
    try:
        return ScimFilter(text).ast
    except InvalidFilterException as exc:
        # The parser's detail says where: "invalid syntax at column 17", or that the filter
        # nests more than 32 expressions (its guard against exhausting the stack).
        raise invalid_filter(f"The filter is not valid SCIM filter syntax: {exc.detail}.") from None
    except (ValueError, RecursionError):
        # scim2-models wraps its own errors in InvalidFilterException; these are what its
        # building blocks raise, should one ever escape. The length cap makes both unlikely.
        raise invalid_filter("The filter is not valid SCIM filter syntax.") from None


# --- the translator ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Where names are resolved: the resource, or the values of one complex attribute (inside
    its brackets)."""

    label: str = ""
    attribute: schema.Attribute | None = None
    target: Complex | None = None


@dataclass(frozen=True)
class _Resolved:
    label: str  # the canonical name, for messages: "name.givenName"
    target: Target
    # Set when a sub-attribute is named from the resource ("emails.value"): the complex
    # attribute through which a condition on it becomes a condition on the resource.
    via: Complex | None = None
    attribute: schema.Attribute | None = None  # what scim.schema says about it


def _resolve_attribute(resource: Resource, path: AttrPath) -> _Resolved | None:
    """An attribute path named from the resource, or None if /Schemas has no such attribute."""
    resource_type = resource.type
    urn = path.uri
    # The common attributes (id, externalId, meta) belong to no schema, but a client may
    # still qualify them with the core schema's URN.
    if urn is not None and resource_type.schema_for(urn) is resource_type.schema:
        urn = None
    found = resource_type.find(path.attr, urn)
    if found is None:
        return None
    found_in, attribute = found
    target: Target
    if found_in.id == schema.CUSTOM_USER:  # checked first: its names may be core names too
        target = Custom(attribute.name, attribute.type)
    else:
        target = resource.attributes.get(attribute.name, Unfilterable())
    if path.sub_attr is None:
        return _Resolved(attribute.name, target, attribute=attribute)
    sub = attribute.sub_attribute(path.sub_attr)
    if sub is None or not isinstance(target, Complex):
        return None
    return _Resolved(
        f"{attribute.name}.{sub.name}",
        target.sub_attributes.get(sub.name, Unfilterable()),
        via=target,
        attribute=sub,
    )


class _Translator:
    def __init__(self, resource: Resource) -> None:
        self.resource = resource

    def translate(self, node: FilterNode) -> Q:
        return self._visit(node, _Scope())

    def _visit(self, node: FilterNode, scope: _Scope) -> Q:
        if isinstance(node, LogicalExpr):
            terms = [self._visit(term, scope) for term in node.terms]
            combined = terms[0]
            for term in terms[1:]:
                combined = combined & term if node.op == LogicalOperator.and_ else combined | term
            return combined
        if isinstance(node, Not):
            # Every leaf is two-valued (never SQL NULL), so negation is exact.
            return ~self._visit(node.expr, scope)
        if isinstance(node, Present):
            return self._present(self._resolve(node.attr_path, scope))
        if isinstance(node, Comparison):
            return self._comparison(self._resolve(node.attr_path, scope), node.op, node.value)
        if isinstance(node, ValuePath):
            return self._value_path(node, scope)
        raise invalid_filter("The filter contains an expression that is not supported.")

    # --- names

    def _resolve(self, path: AttrPath, scope: _Scope) -> _Resolved:
        if scope.target is not None:
            return self._resolve_in_brackets(path, scope)
        resolved = _resolve_attribute(self.resource, path)
        if resolved is None:
            raise invalid_filter(f'Unknown attribute "{path}" in filter.')
        return resolved

    def _resolve_in_brackets(self, path: AttrPath, scope: _Scope) -> _Resolved:
        assert scope.attribute is not None and scope.target is not None
        written = f"{scope.label}.{path}"
        if path.uri is not None or path.sub_attr is not None:
            raise invalid_filter(f'Unknown attribute "{written}" in filter.')
        sub = scope.attribute.sub_attribute(path.attr)
        if sub is None:
            raise invalid_filter(f'Unknown attribute "{written}" in filter.')
        target = scope.target.sub_attributes.get(sub.name, Unfilterable())
        return _Resolved(f"{scope.label}.{sub.name}", target, attribute=sub)

    # --- expressions

    def _value_path(self, node: ValuePath, scope: _Scope) -> Q:
        if scope.target is not None:  # the grammar already refuses this; keep the guarantee
            raise invalid_filter("Brackets cannot be nested in a filter.")
        resolved = self._resolve(node.attr_path, scope)
        target = resolved.target
        if not isinstance(target, Complex):
            raise invalid_filter(
                f'"{resolved.label}" has no sub-attributes: brackets only apply to multi-valued '
                "attributes such as emails or members."
            )
        if not target.multi_valued:
            raise invalid_filter(
                f'"{resolved.label}" is not multi-valued: filter on its sub-attributes instead, '
                f"e.g. {resolved.label}.{next(iter(target.sub_attributes))}."
            )
        inner = _Scope(resolved.label, resolved.attribute, target)
        return target.lift(self._visit(node.val_filter, inner))

    def _present(self, resolved: _Resolved) -> Q:
        target = resolved.target
        if isinstance(target, Complex):
            # "emails pr", "manager pr": some value has some sub-attribute we know of.
            parts = [
                _present(f"{resolved.label}.{name}", sub)
                for name, sub in target.sub_attributes.items()
                if not isinstance(sub, Unfilterable)
            ]
            return target.lift(_any(parts))
        q = _present(resolved.label, target)
        return resolved.via.lift(q) if resolved.via is not None else q

    def _comparison(self, resolved: _Resolved, op: Op, value: Any) -> Q:
        _check_storable(value)
        target = resolved.target
        if isinstance(target, Complex):
            # RFC 7644 §3.4.2.2: "emails co x" compares the values of a multi-valued attribute.
            value_attribute = target.sub_attributes.get("value")
            if not target.multi_valued or value_attribute is None:
                raise invalid_filter(
                    f'"{resolved.label}" is complex: compare one of its sub-attributes, e.g. '
                    f"{resolved.label}.{next(iter(target.sub_attributes))}."
                )
            resolved = _Resolved(f"{resolved.label}.value", value_attribute, via=target)
        if resolved.via is None:
            return _compare(resolved.label, resolved.target, op, value)
        # A sub-attribute named from the resource means "some value": lift the positive
        # condition, and make the negative forms its negation ("not in team x").
        lift = resolved.via.lift
        if value is None and op in (Op.eq, Op.ne):
            present = lift(_present(resolved.label, resolved.target))
            return ~present if op == Op.eq else present
        if op == Op.ne:
            return ~lift(_compare(resolved.label, resolved.target, Op.eq, value))
        return lift(_compare(resolved.label, resolved.target, op, value))


def _both(first: Q, second: Q) -> Q:
    """first AND second, leaving out a condition that is always true (readable SQL)."""
    if first == ALWAYS:
        return second
    if second == ALWAYS:
        return first
    return first & second


def _any(parts: list[Q]) -> Q:
    if not parts or ALWAYS in parts:
        return ALWAYS
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


# --- leaves: one attribute, one operator ---------------------------------------------------


def _present(label: str, target: Target) -> Q:
    if isinstance(target, Unfilterable):
        raise _unfilterable(label, target)
    if isinstance(target, Constant | LastModified):
        return ALWAYS
    if isinstance(target, Custom):
        # Never "" or null: accounts.custom_attributes stores no value as no key.
        return Q(custom_attributes__has_key=target.name)
    assert isinstance(target, Column)
    if target.always_present:
        return ALWAYS
    present = ~Q(**{target.path: ""})
    return Q(**{f"{target.path}__isnull": False}) & present if target.nullable else present


def _compare(label: str, target: Target, op: Op, value: Any) -> Q:
    if isinstance(target, Unfilterable):
        raise _unfilterable(label, target)
    assert not isinstance(target, Complex)
    if value is None:
        if op == Op.eq:
            return ~_present(label, target)
        if op == Op.ne:
            return _present(label, target)
        raise invalid_filter(
            f'"{label}" cannot be compared with null using {op.value}: use "{label} eq null" '
            f'for "absent" or "{label} ne null" for "present".'
        )
    if op == Op.ne:
        return ~_compare(label, target, Op.eq, value)
    if isinstance(target, Constant):
        return _compare_constant(label, target, op, value)
    if isinstance(target, LastModified):
        return versions.last_modified_is(_datetime_lookup(label, op), _moment(label, value))
    if isinstance(target, Custom):
        return _both(_present(label, target), _compare_custom(label, target, op, value))
    if target.kind is Kind.BOOLEAN:
        return Q(**{target.path: _boolean(label, op, value)})
    if target.kind is Kind.DATETIME:
        return _compare_datetime(label, target.path, op, value)
    if not isinstance(value, str):
        raise invalid_filter(
            f'"{label}" is a string: compare it with a value in double quotes, '
            f'e.g. {label} {op.value} "text".'
        )
    if target.kind is Kind.ID:
        return _compare_id(label, target.path, op, value)
    present = _present(label, target)
    if op in SUBSTRING_OPS and value == "":
        return present  # every present value contains the empty string
    if target.case_exact:
        return _both(present, _compare_exact(target.path, op, value))
    return _both(present, _compare_ignoring_case(target.path, op, value))


def _compare_custom(label: str, target: Custom, op: Op, value: Any) -> Q:
    """One of the organisation's own attributes compared as its type; ``op`` is not ne."""
    if target.type == AttributeType.BOOLEAN:
        return Q(Exact(_JsonKey(target.name), _JsonScalar(_boolean(label, op, value))))
    if target.type in (AttributeType.INTEGER, AttributeType.DECIMAL):
        if op in SUBSTRING_OPS:
            raise invalid_filter(f'"{label}" is a number: use eq, ne, gt, ge, lt, le or pr.')
        return Q(_ORDER_LOOKUPS[op](_JsonKey(target.name), _JsonScalar(_number(label, value))))
    if target.type == AttributeType.DATETIME:
        _datetime_lookup(label, op)  # refuses co, sw and ew
        moment = _fixed(_moment(label, value))
        return Q(_ORDER_LOOKUPS[op](_fixed_moment(_JsonKey(target.name, text=True)), Value(moment)))
    if not isinstance(value, str):
        raise invalid_filter(
            f'"{label}" is a string: compare it with a value in double quotes, '
            f'e.g. {label} {op.value} "text".'
        )
    text = _JsonKey(target.name, text=True)
    if op in SUBSTRING_OPS:
        if value == "":
            return ALWAYS
        substring = {Op.co: IContains, Op.sw: IStartsWith, Op.ew: IEndsWith}[op]
        return Q(substring(text, value))
    return Q(_ORDER_LOOKUPS[op](Lower(text), Lower(Value(value))))


def _number(label: str, value: Any) -> int | float:
    """A number to compare with; Entra writes numbers as text at times, so "42" is one too."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            number = custom_attributes.typed_value(AttributeType.DECIMAL, value)
        except custom_attributes.ValueRefused:
            number = None
        if isinstance(number, float):
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
    raise invalid_filter(f'"{label}" is a number: compare it with one, e.g. {label} gt 10.')


# The organisation's dateTime values are stored as UTC ISO 8601 with a "Z", their microseconds
# only when there are any (accounts.custom_attributes): "…T09:00:00Z" or "…T09:00:00.5Z" would
# not sort as text, so both sides are written out to the microsecond before comparing.
_SHORT_MOMENT_LENGTH = len("2026-01-31T09:00:00Z")


def _fixed(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _fixed_moment(text: Any) -> Case:
    return Case(
        When(
            Exact(Length(text), _SHORT_MOMENT_LENGTH),
            then=Concat(Left(text, _SHORT_MOMENT_LENGTH - 1), Value(".000000Z")),
        ),
        default=text,
        output_field=TextField(),
    )


class _JsonKey(Func):
    """The value of one of the organisation's attributes, in the person's ``custom_attributes``:
    jsonb (with ``text``, its text) on PostgreSQL, compared and sorted as JSON values (numbers
    as numbers, never an error whatever is stored); on SQLite JSON_EXTRACT's own value (text, a
    number, 1 or 0 for true and false). Written out because names may hold "__", which Django's
    key lookups read as a path. (PostgreSQL and SQLite only, as in accounts.services.)"""

    def __init__(self, key: str, *, text: bool = False) -> None:
        super().__init__(F("custom_attributes"), output_field=TextField() if text else JSONField())
        self.key, self.text = key, text

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("JSON keys are written for PostgreSQL and SQLite only.")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} {'->>' if self.text else '->'} %s)", (*params, self.key)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        # Names are in SCIM's grammar (letters, digits, "-", "_"): nothing to escape.
        return f"JSON_EXTRACT({column}, %s)", (*params, f'$."{self.key}"')


class _JsonScalar(Value):
    """A number or boolean to compare with a _JsonKey: jsonb on PostgreSQL, itself on SQLite."""

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        return "%s::jsonb", (json.dumps(self.value),)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        return "%s", (self.value,)


def _compare_ignoring_case(path: str, op: Op, value: str) -> Q:
    if op in SUBSTRING_OPS:
        # icontains & co. escape % and _ in the value.
        lookup = {Op.co: "icontains", Op.sw: "istartswith", Op.ew: "iendswith"}[op]
        return Q(**{f"{path}__{lookup}": value})
    # LOWER on both sides, in SQL: PostgreSQL can serve it from the functional unique indexes on
    # LOWER(username) and LOWER(display_name), which "iexact" (UPPER … LIKE) cannot use.
    return Q(_ORDER_LOOKUPS[op](Lower(path), Lower(Value(value))))


def _compare_exact(path: str, op: Op, value: str) -> Q:
    # Not contains/startswith/endswith: SQLite's LIKE ignores case, so they would not be
    # case-exact there. These functions compare exactly on every database.
    if op == Op.co:
        return Q(GreaterThan(StrIndex(path, Value(value)), 0))
    if op == Op.sw:
        return Q(Exact(Left(path, len(value)), Value(value)))
    if op == Op.ew:
        return Q(Exact(Right(path, len(value)), Value(value)))
    return Q(_ORDER_LOOKUPS[op](F(path), Value(value)))


_ORDER_LOOKUPS: Mapping[Op, Callable[[Any, Any], Any]] = {
    Op.eq: Exact,
    Op.gt: GreaterThan,
    Op.ge: GreaterThanOrEqual,
    Op.lt: LessThan,
    Op.le: LessThanOrEqual,
}


def _compare_id(label: str, path: str, op: Op, value: str) -> Q:
    if op in ORDERING_OPS:
        raise invalid_filter(f'"{label}" is an identifier: use eq, ne, co, sw, ew or pr.')
    if op == Op.eq:
        try:
            return Q(**{path: uuid.UUID(value)})
        except ValueError:
            # Not one of our ids, so nobody has it (Entra tests with random values).
            return NEVER
    if value == "":
        return ALWAYS
    # Our ids are lowercase UUIDs: a fragment with anything but hex digits and hyphens is
    # in none of them. (Django compares UUIDs as text here on both databases.)
    if not re.fullmatch(r"[0-9a-fA-F-]+", value):
        return NEVER
    lookup = {Op.co: "contains", Op.sw: "startswith", Op.ew: "endswith"}[op]
    return Q(**{f"{path}__{lookup}": value.lower()})


def _boolean(label: str, op: Op, value: Any) -> bool:
    # DESIGN §5: booleans may arrive as strings ("False").
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if op != Op.eq or not isinstance(value, bool):
        raise invalid_filter(f'"{label}" is a boolean: use eq, ne or pr with true or false.')
    return value


def _compare_constant(label: str, target: Constant, op: Op, value: Any) -> Q:
    if isinstance(target.value, bool):
        return ALWAYS if _boolean(label, op, value) == target.value else NEVER
    if not isinstance(value, str):
        raise invalid_filter(
            f'"{label}" is a string: compare it with a value in double quotes, '
            f'e.g. {label} {op.value} "{target.value}".'
        )
    ours, theirs = (
        (target.value, value) if target.case_exact else (target.value.lower(), value.lower())
    )
    checks: Mapping[Op, Callable[[str, str], bool]] = {
        Op.eq: str.__eq__,
        Op.co: str.__contains__,
        Op.sw: str.startswith,
        Op.ew: str.endswith,
        Op.gt: str.__gt__,
        Op.ge: str.__ge__,
        Op.lt: str.__lt__,
        Op.le: str.__le__,
    }
    return ALWAYS if checks[op](ours, theirs) else NEVER


# RFC 7643 §2.3.5: xsd:dateTime. Date and time are required; seconds, fraction and offset are not.
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?P<seconds>:\d{2}(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)


def _compare_datetime(label: str, path: str, op: Op, value: Any) -> Q:
    return Q(**{f"{path}__{_datetime_lookup(label, op)}": _moment(label, value)})


def _datetime_lookup(label: str, op: Op) -> str:
    if op in SUBSTRING_OPS:
        raise invalid_filter(
            f'"{label}" is a date and time: use eq, ne, gt, ge, lt, le or pr, not {op.value}.'
        )
    return {Op.eq: "exact", Op.gt: "gt", Op.ge: "gte", Op.lt: "lt", Op.le: "lte"}[op]


def _moment(label: str, value: Any) -> dt.datetime:
    problem = invalid_filter(
        f'"{label}" expects a date and time like "2024-05-01T12:00:00Z", not {_literal(value)}.'
    )
    if not isinstance(value, str):
        raise problem
    text = value.strip().upper().replace(" ", "T", 1)
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise problem
    fraction = match["fraction"] or ""
    if fraction:
        # Parse without the fraction (fromisoformat takes at most six digits) and add back
        # the microseconds; the database keeps no more than those.
        start, end = match.span("fraction")
        text = text[: start - 1] + text[end:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:  # month 13, hour 25…
        raise problem from None
    moment += dt.timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # RFC 7643 §2.3.5 wants an offset; be kind
    # Normalised here, where an overflow is our error rather than the database adapter's 500.
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # before year 1 in UTC, e.g. "0001-01-01T00:00:00+05:00"
        raise invalid_filter(f'"{label}": {_literal(value)} is out of range.') from None


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_storable(value: Any) -> None:
    # JSON escapes let a filter carry NUL and lone surrogates, which PostgreSQL (and the
    # database drivers) refuse with an error of their own.
    if isinstance(value, str) and re.search(r"[\x00\ud800-\udfff]", value):
        raise invalid_filter("The filter contains a character that is not allowed in values.")


def _unfilterable(label: str, target: Unfilterable) -> ScimError:
    hint = f"; {target.hint}" if target.hint else ""
    return invalid_filter(f'"{label}" cannot be filtered on{hint}.')


# --- sortBy ------------------------------------------------------------------------------------


def _ordering(
    resource: Resource, sort_by: str | None, sort_order: str | None
) -> list[str | OrderBy]:
    # The pk comes last whatever the sort: it never changes, so paging through a result with
    # ties (or no sortBy at all) neither skips nor repeats anyone (DESIGN §5).
    descending = _descending(sort_order)
    if sort_by is None or not sort_by.strip():
        return ["pk"]
    column = _sort_column(resource, sort_by.strip())
    expression: Any
    if isinstance(column, LastModified):
        expression = versions.user_last_modified()
    elif isinstance(column, Custom):
        expression = _custom_sort_key(column)
    elif column.always_present:
        expression = F(column.path)
    else:
        expression = NullIf(column.path, Value(""))  # "" is absent, like NULL
    if isinstance(column, Column) and column.kind is Kind.STRING and not column.case_exact:
        expression = Lower(expression)
    # RFC 7644 §3.4.2.3: resources without a value come last ascending and first descending.
    if descending:
        return [expression.desc(nulls_first=True), "pk"]
    return [expression.asc(nulls_last=True), "pk"]


def _descending(sort_order: str | None) -> bool:
    if sort_order is None or not sort_order.strip():
        return False
    order = sort_order.strip().lower()
    if order not in ("ascending", "descending"):
        raise invalid_value(f'sortOrder must be "ascending" or "descending", not "{sort_order}".')
    return order == "descending"


def _custom_sort_key(target: Custom) -> Any:
    if target.type == AttributeType.STRING:
        return Lower(_JsonKey(target.name, text=True))
    if target.type == AttributeType.DATETIME:
        return _fixed_moment(_JsonKey(target.name, text=True))
    return _JsonKey(target.name)


def _sort_column(resource: Resource, sort_by: str) -> Column | LastModified | Custom:
    if len(sort_by) > MAX_SORT_BY_LENGTH:
        raise invalid_value(f"sortBy is longer than {MAX_SORT_BY_LENGTH} characters.")
    try:
        path = Path(sort_by).ast
    except (InvalidPathException, ValueError):
        path = None
    if not isinstance(path, AttrPath):
        raise invalid_value(f'sortBy must name one attribute, e.g. "userName", not "{sort_by}".')
    resolved = _resolve_attribute(resource, path)
    if resolved is None:
        raise invalid_value(f'Unknown attribute "{sort_by}" in sortBy.')
    label, target, via = resolved.label, resolved.target, resolved.via
    if isinstance(target, Complex) and target.multi_valued and target.sort is not None:
        # RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value.
        return target.sort
    if isinstance(via, Complex) and via.sort is not None and label.endswith(".value"):
        return via.sort
    if isinstance(target, Custom):
        return target
    if not isinstance(target, Column | LastModified) or (via is not None and not via.same_row):
        raise invalid_value(f'"{label}" cannot be used to sort.')
    return target
