"""SCIM PATCH (RFC 7644 §3.5.2) as Okta and Microsoft Entra ID really send it, as plain data.

- ``parse_patch`` checks the PatchOp envelope and parses every path (with scim2-models);
- ``apply_user_patch`` applies the operations to a User resource dict and returns a new one;
- ``group_patch`` reduces Group operations to a new displayName/externalId and membership steps.

This is the one place where the vendors' PATCH quirks are understood (STYLE §4): no database, no
request, no models. The viewsets parse, call these, then hand the result to one service; an error
is a ``ScimError`` raised before anything was changed, so a request applies whole or not at all.

Names arrive in the client's case and are resolved case-insensitively against ``scim.schema``
(RFC 7643 §2.1); results always use the canonical names. Attributes we do not store (``roles``,
a member's ``display``, an attribute the organisation has not defined…), and those the server
manages (``id``, ``meta``, ``groups``…), are ignored rather than refused: Okta sends ``id`` with
every group rename and Entra sends whatever its attribute mappings hold. They are listed in
``ignored`` for the request log.

A User is patched against the organisation's resource type (scim.schema.user_type), so that
its own attributes, under CUSTOM_USER, are patched like any other; a value is read as its
attribute's type here (accounts.custom_attributes: Entra's "True" and "42" too).
"""

import copy
import enum
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple

from scim2_models.exceptions import SCIMException
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
    ValuePath,
)

from accounts import custom_attributes
from scim import errors
from scim.schema import GROUP, USER, Attribute, ResourceType, Schema

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

# Documented in /ServiceProviderConfig terms as "at most this many operations per request". Okta
# and Entra send a handful; a group push of a large team is still one "members" operation.
MAX_OPERATIONS: Final = 1000

OperationName = Literal["add", "remove", "replace"]
_OPERATIONS: Final[tuple[OperationName, ...]] = ("add", "remove", "replace")


@dataclass(frozen=True)
class Operation:
    """One PATCH operation. ``path`` is the path as sent (a ``str``) with its parse in ``.ast``;
    ``None`` when the operation has no path (its value is then an object of attributes)."""

    op: OperationName
    path: "Path[Any] | None"
    value: Any = None


@dataclass(frozen=True)
class UserPatchResult:
    resource: dict[str, Any]  # a new dict; the one passed in is left as it was
    ignored: list[str]  # paths (or value keys) as sent that were ignored, for the request log
    # Canonical names of the attributes an operation removed or emptied, even where the
    # resource showed no value: a deleted manager is hidden, yet removing it is a real change.
    cleared: frozenset[str] = frozenset()


class Unset(enum.Enum):
    UNSET = "UNSET"


UNSET: Final = Unset.UNSET

MemberAction = Literal["add", "remove", "set"]


class MemberStep(NamedTuple):
    """A change of membership: add these ids, remove these ids, or make the members exactly
    these ("set")."""

    action: MemberAction
    member_ids: list[str]


@dataclass(frozen=True)
class GroupPatch:
    display_name: str | Literal[Unset.UNSET] = UNSET
    external_id: str | Literal[Unset.UNSET] | None = UNSET
    member_steps: list[MemberStep] = field(default_factory=list)  # in request order
    ignored: list[str] = field(default_factory=list)


# --- The envelope -------------------------------------------------------------------------------


def parse_patch(body: object) -> list[Operation]:
    """The operations of a PatchOp request body, checked and with their paths parsed."""
    if not isinstance(body, dict):
        raise errors.invalid_value("The request body must be a JSON object.")
    fields = _lower_keys(body)
    _check_schemas(fields.get("schemas"))
    raw_operations = fields.get("operations")
    if not isinstance(raw_operations, list):
        raise errors.invalid_value('The request must carry "Operations", a list of operations.')
    if not raw_operations:
        raise errors.invalid_value('"Operations" is empty: send at least one operation.')
    if len(raw_operations) > MAX_OPERATIONS:
        raise errors.invalid_value(
            f"A PATCH request may carry at most {MAX_OPERATIONS} operations; this one has "
            f"{len(raw_operations)}. Send them in several requests."
        )
    return [_parse_operation(number, raw) for number, raw in enumerate(raw_operations, start=1)]


def _lower_keys(mapping: dict[Any, Any]) -> dict[str, Any]:
    # Member names are case-insensitive (RFC 7643 §2.1): Entra sends "Operations" and "Value".
    return {str(key).lower(): value for key, value in mapping.items()}


def _check_schemas(schemas: object) -> None:
    # Lenient when absent (some clients leave it out); when present it must name PatchOp. Other
    # URIs next to it are ignored, as everywhere in a request (DESIGN §5).
    if schemas is None:
        return
    names = schemas if isinstance(schemas, list) else [schemas]
    if not any(isinstance(name, str) and name.lower() == PATCH_OP.lower() for name in names):
        raise errors.invalid_value(f'"schemas" must contain "{PATCH_OP}".')


def _parse_operation(number: int, raw: object) -> Operation:
    if not isinstance(raw, dict):
        raise errors.invalid_value(f"Operation {number} must be a JSON object.")
    fields = _lower_keys(raw)
    op = _parse_op(number, fields.get("op"))
    path = _parse_path(number, fields.get("path"))
    if op == "remove":
        if path is None:
            # RFC 7644 §3.5.2.2: a remove without a path has no target.
            raise errors.no_target(f'Operation {number} is a "remove" without a path.')
    elif "value" not in fields:
        raise errors.invalid_value(f'Operation {number} ("{op}") has no "value".')
    elif path is None and not isinstance(fields["value"], dict):
        raise errors.invalid_value(
            f'Operation {number} ("{op}") has no path, so its value must be a JSON object of '
            "attributes."
        )
    return Operation(op, path, fields.get("value"))


def _parse_op(number: int, raw: object) -> OperationName:
    # Entra capitalises operation names ("Add", "Replace", "Remove"; Microsoft SCIM guide).
    name = raw.lower() if isinstance(raw, str) else None
    for known in _OPERATIONS:
        if name == known:
            return known
    raise errors.invalid_value(
        f'Operation {number} has op {_describe(raw)}; it must be "add", "remove" or "replace".'
    )


def _parse_path(number: int, raw: object) -> "Path[Any] | None":
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise errors.invalid_path(f'Operation {number} has a "path" that is not a string.')
    return _path(raw, f"Operation {number} has")


def _path(text: str, context: str) -> "Path[Any]":
    try:
        path = Path(text)
        if path.ast is None:
            raise errors.invalid_path(f"{context} an empty attribute name.")
    except (SCIMException, ValueError) as exc:
        raise errors.invalid_path(f"{context} an invalid path {text!r}: {exc}.") from exc
    return path


# --- Paths resolved against a schema --------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    where: str  # the path as sent, for messages and the ignored list
    schema: Schema
    attribute: Attribute
    sub_attribute: Attribute | None
    value_filter: FilterNode | None


def _node(path: "Path[Any]") -> AttrPath | ValuePath:
    node = path.ast
    # Errata 7122 allows 'members.value eq "x"' for 'members[value eq "x"]'; make it one shape.
    if isinstance(node, Comparison | Present):
        head = AttrPath(node.attr_path.attr, uri=node.attr_path.uri)
        inner = AttrPath(node.attr_path.sub_attr or "value")
        if isinstance(node, Present):
            return ValuePath(head, Present(inner))
        return ValuePath(head, Comparison(inner, node.op, node.value))
    assert node is not None  # _path refuses the empty path
    return node


def _schema_named(resource_type: ResourceType, path: "Path[Any]") -> Schema | None:
    """The schema a bare schema URN names. 'urn:…:enterprise:2.0:User' parses as the attribute
    'User' of 'urn:…:enterprise:2.0', so join them back and look the URN up."""
    node = _node(path)
    if isinstance(node, AttrPath) and node.uri and node.sub_attr is None:
        return resource_type.schema_for(f"{node.uri}:{node.attr}")
    return None


def _resolve(resource_type: ResourceType, path: "Path[Any]") -> _Target | None:
    """The attribute a path names, or None when it is to be ignored: not ours (Entra's
    costCenter, addresses, an unknown URN), or managed by the server (id, meta, groups)."""
    node = _node(path)
    if isinstance(node, ValuePath):
        attr_path, sub_name, value_filter = node.attr_path, node.sub_attr, node.val_filter
    else:
        attr_path, sub_name, value_filter = node, node.sub_attr, None
    found = resource_type.find(attr_path.attr, attr_path.uri)
    if found is None:
        return None
    schema, attribute = found
    sub = attribute.sub_attribute(sub_name) if sub_name is not None else None
    if sub_name is not None and sub is None:
        return None
    if attribute.mutability == "readOnly" or (sub is not None and sub.mutability == "readOnly"):
        return None
    if value_filter is not None:
        if not attribute.multi_valued:
            raise errors.invalid_path(
                f'"{path}" filters "{attribute.name}", which is not multi-valued.'
            )
        _check_filter(attribute, value_filter, str(path))
    return _Target(str(path), schema, attribute, sub, value_filter)


def _each_attribute(resource_type: ResourceType, operation: Operation) -> Iterator[Operation]:
    """The operation as one operation per attribute, each with a path.

    Without a path, the value is an object of attributes to add or replace (RFC 7644 §3.5.2.1,
    §3.5.2.3). Okta sends deactivation and renames this way ({"active": false}; Okta SCIM 2.0
    guide); Entra, with aadOptscim062020, sends dotted ("name.givenName") and URN-qualified
    ("urn:…:enterprise:2.0:User:department") keys. A key may also be an extension's URN with an
    object of that extension's attributes, and so may a path.
    """
    prefix = ""
    if operation.path is not None:
        schema = _schema_named(resource_type, operation.path)
        if schema is None:
            yield operation
            return
        if operation.op == "remove":
            yield from _remove_schema(resource_type, schema, operation)
            return
        prefix = f"{schema.id}:"
    if not isinstance(operation.value, dict):
        where = "an operation without a path" if operation.path is None else f'"{operation.path}"'
        raise errors.invalid_value(f"The value of {where} must be an object of attributes.")
    for key, value in operation.value.items():
        path = _path(f"{prefix}{key}", f"The value of {operation.op!r} has")
        yield from _each_attribute(resource_type, Operation(operation.op, path, value))


def _remove_schema(
    resource_type: ResourceType, schema: Schema, operation: Operation
) -> Iterator[Operation]:
    """Removing an extension removes each of its attributes (RFC 7644 §3.5.2.2); removing the
    core schema would remove the resource itself, which is what DELETE is for."""
    if schema is resource_type.schema:
        raise errors.invalid_path(
            f'"{operation.path}" names the whole resource: remove its attributes one by one, '
            "or DELETE it."
        )
    for attribute in schema.attributes:
        if attribute.mutability != "readOnly":
            path = _path(f"{schema.id}:{attribute.name}", f'Removing "{operation.path}" has')
            yield Operation("remove", path, None)


# --- Values ---------------------------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    # RFC 7643 §2.5: null is the same as no value. "" is taken the same way: IdPs send it when
    # the attribute was emptied at the source.
    return value is None or value == ""


def _normalise(attribute: Attribute, value: Any, where: str, ignored: list[str]) -> Any:
    """The value in canonical form (canonical names, real booleans), or None for "no value".

    A complex value is a dict whose None entries mean "clear this sub-attribute"; a multi-valued
    one is a list of dicts without them. A wrong type is a 400 naming the attribute.
    """
    if _is_empty(value):
        return None
    if attribute.multi_valued:
        # A single value where a list is expected is taken as a list of one.
        items = value if isinstance(value, list) else [value]
        elements = [_without_empty(_complex(attribute, item, where, ignored)) for item in items]
        return [element for element in elements if element]
    if attribute.type == "complex":
        return _complex(attribute, value, where, ignored)
    return _simple(attribute, value, where)


def _complex(attribute: Attribute, value: Any, where: str, ignored: list[str]) -> dict[str, Any]:
    if isinstance(value, str) and attribute.sub_attribute("value") is not None:
        # Entra sends the manager as a bare id: "value": "<id>" (Microsoft SCIM guide); a bare
        # id for a member is the same shorthand.
        value = {"value": value}
    if not isinstance(value, dict):
        raise errors.invalid_value(f'"{where}" must be an object, not {_describe(value)}.')
    normalised: dict[str, Any] = {}
    for key, sub_value in value.items():
        sub = attribute.sub_attribute(key)
        if sub is None or sub.mutability == "readOnly":
            _note(ignored, f"{where}.{key}")
            continue
        normalised[sub.name] = _normalise(sub, sub_value, f"{where}.{key}", ignored)
    return normalised


def _simple(attribute: Attribute, value: Any, where: str) -> Any:
    if attribute.type == "boolean":
        return _boolean(value, where)
    if attribute.type in ("integer", "decimal", "dateTime"):
        # Only the organisation's own attributes have these types and are writable.
        try:
            return custom_attributes.typed_value(attribute.type, value)
        except custom_attributes.ValueRefused as refused:
            raise errors.invalid_value(f'"{where}": {refused}') from None
    if isinstance(value, str):
        return value
    raise errors.invalid_value(f'"{where}" must be a string, not {_describe(value)}.')


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    # Entra sends booleans as strings, "False" and "True" (Microsoft SCIM guide, before
    # aadOptscim062020); accept any case.
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise errors.invalid_value(f'"{where}" must be true or false, not {_describe(value)}.')


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f'"{value[:60]}"'
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _without_empty(element: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in element.items() if value is not None}


def _note(ignored: list[str], where: str) -> None:
    if where not in ignored:
        ignored.append(where)


def _refuse_clearing(attribute: Attribute, where: str) -> None:
    if attribute.required:
        raise errors.invalid_value(f'"{where}" is required and cannot be removed.')


# --- Value filters --------------------------------------------------------------------------------


def _check_filter(attribute: Attribute, node: FilterNode, where: str) -> None:
    """Refuse a filter on sub-attributes the attribute does not have, even if nothing is there
    to compare yet (RFC 7644 §3.12: invalidFilter applies to PATCH path filters).

    This includes sub-attributes an attribute does not have, such as
    ``addresses[value eq "x"].locality`` (an address has no value). Ignoring such an operation,
    as we do an unknown attribute, would answer success for a change the client meant to make
    and never made; the filter cannot be evaluated, so the client is told which attribute it
    named. A path whose target itself is not kept (``emails[type eq "work"].label``) changes
    nothing we store, and is ignored by ``_resolve`` before its filter is looked at."""
    if isinstance(node, LogicalExpr):
        for term in node.terms:
            _check_filter(attribute, term, where)
    elif isinstance(node, Not):
        _check_filter(attribute, node.expr, where)
    elif isinstance(node, Comparison | Present):
        _filter_attribute(attribute, node.attr_path, where)
    else:
        raise errors.invalid_filter(f'"{where}" nests a value filter, which is not supported.')


def _filter_attribute(attribute: Attribute, attr_path: AttrPath, where: str) -> Attribute:
    sub = attribute.sub_attribute(attr_path.attr) if attr_path.sub_attr is None else None
    if sub is None:
        raise errors.invalid_filter(
            f'"{where}" filters on "{attr_path}", which "{attribute.name}" does not have.'
        )
    return sub


def value_matches(attribute: Attribute, element: dict[str, Any], node: FilterNode) -> bool:
    """Whether one value of a multi-valued attribute (e.g. one email) matches a value filter
    (RFC 7644 §3.4.2.2). Strings compare ignoring case unless the sub-attribute is caseExact."""
    if isinstance(node, LogicalExpr):
        results = [value_matches(attribute, element, term) for term in node.terms]
        return all(results) if node.op is LogicalOperator.and_ else any(results)
    if isinstance(node, Not):
        return not value_matches(attribute, element, node.expr)
    if isinstance(node, Present):
        sub = _filter_attribute(attribute, node.attr_path, str(node))
        return element.get(sub.name) not in (None, "", [], {})
    if isinstance(node, Comparison):
        sub = _filter_attribute(attribute, node.attr_path, str(node))
        return _compare(node.op, element.get(sub.name), node.value, sub.case_exact)
    raise errors.invalid_filter(f'"{node}" is not supported in a value filter.')


_TEXT_TESTS: Final[dict[CompareOperator, Callable[[str, str], bool]]] = {
    CompareOperator.co: lambda actual, expected: expected in actual,
    CompareOperator.sw: str.startswith,
    CompareOperator.ew: str.endswith,
}
_ORDER_TESTS: Final[dict[CompareOperator, Callable[[Any, Any], bool]]] = {
    CompareOperator.gt: operator.gt,
    CompareOperator.ge: operator.ge,
    CompareOperator.lt: operator.lt,
    CompareOperator.le: operator.le,
}


def _compare(op: CompareOperator, actual: Any, expected: Any, case_exact: bool) -> bool:
    both_text = isinstance(actual, str) and isinstance(expected, str)
    if both_text and not case_exact:
        actual, expected = actual.casefold(), expected.casefold()
    if op in _TEXT_TESTS:
        return both_text and _TEXT_TESTS[op](actual, expected)
    if op is CompareOperator.eq:
        return _same_json(actual, expected)
    if op is CompareOperator.ne:
        return not _same_json(actual, expected)
    return _orderable(actual, expected) and _ORDER_TESTS[op](actual, expected)


def _same_json(actual: Any, expected: Any) -> bool:
    # true is not 1 in JSON, although it is in Python.
    return isinstance(actual, bool) == isinstance(expected, bool) and actual == expected


def _orderable(actual: Any, expected: Any) -> bool:
    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    both_text = isinstance(actual, str) and isinstance(expected, str)
    return both_text or (number(actual) and number(expected))


def _seed(attribute: Attribute, node: FilterNode, where: str) -> dict[str, Any]:
    """What a filter says about the value it selects: its "eq" comparisons joined by "and".
    Used to create the value when an add or replace matches none (emails[type eq "work"])."""
    if isinstance(node, LogicalExpr) and node.op is LogicalOperator.and_:
        seed: dict[str, Any] = {}
        for term in node.terms:
            seed.update(_seed(attribute, term, where))
        return seed
    if isinstance(node, Comparison) and node.op is CompareOperator.eq:
        sub = _filter_attribute(attribute, node.attr_path, where)
        value = _normalise(sub, node.value, f"{attribute.name}.{sub.name}", [])
        return {} if value is None else {sub.name: value}
    return {}


# --- Multi-valued attributes ----------------------------------------------------------------------


def _same_value(attribute: Attribute, one: dict[str, Any], other: dict[str, Any]) -> bool:
    """The same value, whether or not it is marked primary."""
    one, other = _without_primary(one), _without_primary(other)
    return one.keys() == other.keys() and _contains(attribute, one, other)


def _without_primary(element: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in element.items() if name != "primary"}


def _contains(attribute: Attribute, element: dict[str, Any], template: dict[str, Any]) -> bool:
    """Whether the element has every sub-attribute of the template, with an equal value."""
    for name, expected in template.items():
        sub = attribute.sub_attribute(name)
        case_exact = sub.case_exact if sub is not None else True
        if not _compare(CompareOperator.eq, element.get(name), expected, case_exact):
            return False
    return True


def _with_values(attribute: Attribute, elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # An email or phone number left without its value (its "value" was removed) is no value.
    if attribute.sub_attribute("value") is None:
        return [element for element in elements if element]
    return [element for element in elements if element.get("value") not in (None, "")]


def _store(holder: dict[str, Any], name: str, value: Any) -> None:
    # Attributes without a value are absent from a resource, never null or empty.
    if value is None or value == [] or value == {}:
        holder.pop(name, None)
    else:
        holder[name] = value


def _update(element: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        _store(element, name, value)


# --- Users ----------------------------------------------------------------------------------------


def apply_user_patch(
    resource: dict[str, Any], operations: list[Operation], user_type: ResourceType = USER
) -> UserPatchResult:
    """Apply the operations, in order, to a copy of a User resource (canonical names, absent
    rather than null). The first invalid operation raises ScimError; the caller then changes
    nothing. ``user_type`` is the organisation's (its own attributes are read only if an
    operation names one, or a name the constant schemas lack)."""
    patcher = _UserPatcher(resource, user_type)
    for operation in operations:
        for single in _each_attribute(user_type, operation):
            patcher.apply(single)
    return UserPatchResult(
        resource=patcher.resource, ignored=patcher.ignored, cleared=frozenset(patcher.cleared)
    )


class _UserPatcher:
    def __init__(self, resource: dict[str, Any], user_type: ResourceType) -> None:
        self.user_type = user_type
        self.resource = copy.deepcopy(resource)
        self.ignored: list[str] = []
        self.cleared: set[str] = set()

    def apply(self, operation: Operation) -> None:
        assert operation.path is not None  # _each_attribute gives every operation a path
        target = _resolve(self.user_type, operation.path)
        if target is None:
            _note(self.ignored, str(operation.path))
            return
        if operation.op == "remove" or _is_empty(operation.value):
            self.cleared.add(target.attribute.name)
        holder = self._holder(target.schema)
        name, multi_valued = target.attribute.name, target.attribute.multi_valued
        values = holder.get(name) if multi_valued else None
        primary_before = [
            e for e in values or [] if isinstance(e, dict) and e.get("primary") is True
        ]
        if target.value_filter is not None:
            self._patch_selected(holder, target, operation)
        elif target.sub_attribute is not None:
            self._patch_sub_attribute(holder, target, operation)
        else:
            self._patch_attribute(holder, target, operation)
        if multi_valued and isinstance(holder.get(name), list):
            _one_primary(holder[name], primary_before)
        if target.schema is not self.user_type.schema and not holder:
            self.resource.pop(target.schema.id, None)

    def _holder(self, schema: Schema) -> dict[str, Any]:
        # Core and common attributes sit at the top of the resource; an extension's attributes
        # sit under its URN.
        if schema is self.user_type.schema:
            return self.resource
        holder = self.resource.get(schema.id)
        if not isinstance(holder, dict):
            holder = self.resource[schema.id] = {}
        return holder

    def _value(self, attribute: Attribute, operation: Operation, where: str) -> Any:
        if operation.op == "remove":
            return None
        return _normalise(attribute, operation.value, where, self.ignored)

    def _patch_attribute(self, holder: dict[str, Any], target: _Target, op: Operation) -> None:
        attribute, name = target.attribute, target.attribute.name
        if op.op == "remove" and attribute.multi_valued and op.value is not None:
            # A remove listing values removes those values only (Entra does this for members;
            # RFC 7644 §3.5.2.2 has remove carry no value, which removes them all).
            unwanted = _normalise(attribute, op.value, target.where, self.ignored) or []
            kept = [
                element
                for element in holder.get(name, [])
                if not any(_contains(attribute, element, template) for template in unwanted)
            ]
            _store(holder, name, kept)
            return
        new = self._value(attribute, op, target.where)
        if new is None:
            _refuse_clearing(attribute, target.where)
            holder.pop(name, None)
        elif attribute.multi_valued:
            # add appends values not already there; replace replaces the whole list
            # (RFC 7644 §3.5.2.1 and §3.5.2.3).
            elements = holder.get(name, []) if op.op == "add" else []
            for element in new:
                same = next((old for old in elements if _same_value(attribute, element, old)), None)
                if same is None:
                    elements.append(element)
                elif "primary" in element:  # the value is there: an add may mark it primary
                    same["primary"] = element["primary"]
            _store(holder, name, elements)
        elif attribute.type == "complex":
            _store(holder, name, _merge(attribute, holder.get(name), new))
        else:
            holder[name] = new

    def _patch_sub_attribute(self, holder: dict[str, Any], target: _Target, op: Operation) -> None:
        attribute, name = target.attribute, target.attribute.name
        assert target.sub_attribute is not None
        sub = target.sub_attribute
        value = self._value(sub, op, target.where)
        if attribute.multi_valued:
            # 'emails.value' without a filter addresses every email; with none yet, add one.
            elements = holder.get(name) or ([{}] if value is not None else [])
            for element in elements:
                _store(element, sub.name, value)
            _store(holder, name, _with_values(attribute, elements))
            return
        current = dict(holder.get(name) or {})
        if sub.name == "value" and attribute.sub_attribute("$ref") is not None:
            # A reference's $ref is derived from its value, and a reference without a value is
            # none: clearing manager.value removes the manager, or the old displayName left
            # behind would name them again.
            current = {} if value is None else {k: v for k, v in current.items() if k != "$ref"}
        _store(current, sub.name, value)
        _store(holder, name, current)

    def _patch_selected(self, holder: dict[str, Any], target: _Target, op: Operation) -> None:
        """A path with a value filter, such as Entra's 'emails[type eq "work"].value'."""
        attribute, name, sub = target.attribute, target.attribute.name, target.sub_attribute
        assert target.value_filter is not None
        elements: list[dict[str, Any]] = holder.get(name) or []
        selected = [e for e in elements if value_matches(attribute, e, target.value_filter)]
        if op.op == "remove" or (sub is None and _is_empty(op.value)):
            if sub is None:
                elements = [e for e in elements if not any(e is s for s in selected)]
            else:
                for element in selected:
                    element.pop(sub.name, None)
            _store(holder, name, _with_values(attribute, elements))
            return
        if sub is not None:
            changes = {sub.name: self._value(sub, op, target.where)}
        else:
            changes = _complex(attribute, op.value, target.where, self.ignored)
        seed = _seed(attribute, target.value_filter, target.where)
        if not selected:
            # Entra adds a work email or phone with 'emails[type eq "work"].value' when there is
            # none (Microsoft SCIM guide), so create the value the filter describes rather than
            # answer noTarget as RFC 7644 §3.5.2.3 would.
            if not any(value is not None for value in changes.values()):
                return
            if not seed:
                raise errors.no_target(
                    f'"{target.where}" matches no value and does not say which one to create: '
                    'use "eq" comparisons, e.g. emails[type eq "work"].'
                )
            selected = [{}]
            elements.append(selected[0])
        for element in selected:
            if op.op == "replace" and sub is None:
                # Replace the matching value whole (RFC 7644 §3.5.2.3), keeping what the filter
                # says about it so that the same path still finds it.
                element.clear()
            if not element:
                element.update(seed)
            _update(element, changes)
        _store(holder, name, _with_values(attribute, elements))


def _one_primary(elements: list[dict[str, Any]], primary_before: list[dict[str, Any]]) -> None:
    """RFC 7644 §3.5.2: a PATCH that makes a value primary makes the others not primary; the
    primary flag "MUST appear no more than once" (RFC 7643 §2.4). Of several, the first one
    this operation made primary stays."""
    primary = [e for e in elements if e.get("primary") is True]
    if len(primary) < 2:
        return
    new = [e for e in primary if not any(e is old for old in primary_before)]
    keep = (new or primary)[0]
    for element in primary:
        if element is not keep:
            element["primary"] = False


def _merge(attribute: Attribute, current: Any, new: dict[str, Any]) -> dict[str, Any]:
    """A complex value given for a single complex attribute, with or without a path.

    RFC 7644 §3.5.2.1 (add) and §3.5.2.3 (replace) read: the sub-attributes given replace those
    there or are added, and "sub-attributes that are not specified in the value parameter are
    left unchanged" — so Okta's {"name": {"givenName": "J"}} keeps the familyName, and a
    sub-attribute given as null or "" is removed.

    A reference (a complex attribute with a "$ref", i.e. the manager) is the exception: all its
    sub-attributes describe one user, so a new manager replaces the old one whole. Keeping the
    old displayName next to Entra's new bare id would name two different people.
    """
    is_reference = attribute.sub_attribute("$ref") is not None
    merged = {} if is_reference or not isinstance(current, dict) else dict(current)
    _update(merged, new)
    return merged


# --- Groups ---------------------------------------------------------------------------------------


def group_patch(operations: list[Operation]) -> GroupPatch:
    """What the operations do to a team: its new displayName and externalId (the last write
    wins) and the membership changes in request order. Member ids are returned as sent, for the
    caller to resolve against the organisation's users."""
    patcher = _GroupPatcher()
    for operation in operations:
        for single in _each_attribute(GROUP, operation):
            patcher.apply(single)
    return GroupPatch(
        display_name=patcher.display_name,
        external_id=patcher.external_id,
        member_steps=patcher.member_steps,
        ignored=patcher.ignored,
    )


class _GroupPatcher:
    def __init__(self) -> None:
        self.display_name: str | Literal[Unset.UNSET] = UNSET
        self.external_id: str | Literal[Unset.UNSET] | None = UNSET
        self.member_steps: list[MemberStep] = []
        self.ignored: list[str] = []

    def apply(self, operation: Operation) -> None:
        assert operation.path is not None  # _each_attribute gives every operation a path
        target = _resolve(GROUP, operation.path)
        # A member's value names the user; its $ref and type are ours to derive, so paths into
        # them (members[value eq "x"].type) change nothing.
        if target is None or target.sub_attribute is not None:
            _note(self.ignored, str(operation.path))
            return
        if target.attribute.name == "members":
            self._members(target, operation)
            return
        value = None
        if operation.op != "remove":
            value = _normalise(target.attribute, operation.value, target.where, self.ignored)
        if target.attribute.name == "externalId":
            self.external_id = value  # null, "" and remove all clear it
        elif isinstance(value, str):  # the one attribute left: displayName, which is required
            self.display_name = value
        else:
            raise errors.invalid_value(
                f'"{target.where}": a team needs a displayName; it cannot be removed.'
            )

    def _members(self, target: _Target, operation: Operation) -> None:
        if target.value_filter is not None:
            if operation.op != "remove":
                raise errors.invalid_path(
                    f'"{target.where}": add or replace members with the path "members" and a list '
                    'of {"value": "<user id>"} objects.'
                )
            # Okta removes one member with members[value eq "<id>"] (Okta SCIM 2.0 guide).
            self._step("remove", _filtered_member_ids(target.value_filter, target.where))
        elif operation.op == "remove" and operation.value is None:
            # RFC 7644 §3.5.2.2: remove of "members" without a value removes every member.
            self._step("set", [])
        elif operation.op == "remove":
            # Entra removes members with path "members" and the list of those to remove; that
            # removes exactly those, never the whole team (Microsoft SCIM guide).
            self._step("remove", self._member_ids(target, operation.value))
        elif operation.op == "replace":
            self._step("set", self._member_ids(target, operation.value))
        else:
            self._step("add", self._member_ids(target, operation.value))

    def _step(self, action: MemberAction, member_ids: list[str]) -> None:
        # "set" to nobody is a real step; adding or removing nobody is none.
        if member_ids or action == "set":
            self.member_steps.append(MemberStep(action, member_ids))

    def _member_ids(self, target: _Target, value: Any) -> list[str]:
        if _is_empty(value):
            return []
        items = value if isinstance(value, list) else [value]
        member_ids = []
        for item in items:
            fields = item if isinstance(item, dict) else {"value": item}  # or a bare id
            member_id = _lower_keys(fields).get("value")
            if not isinstance(member_id, str) or not member_id:
                raise errors.invalid_value(
                    f'"{target.where}": each member must be an object with a string "value", '
                    f"the user's id; got {_describe(item)}."
                )
            member_ids.append(member_id)
            # Okta sends each member's display (their userName) next to its value.
            for key in fields:
                if target.attribute.sub_attribute(key) is None:
                    _note(self.ignored, f"{target.where}.{key}")
        return _unique(member_ids)


def _filtered_member_ids(node: FilterNode, where: str) -> list[str]:
    """The ids a members filter selects: value eq "<id>", possibly several joined by "or"."""
    if isinstance(node, LogicalExpr) and node.op is LogicalOperator.or_:
        return _unique(i for term in node.terms for i in _filtered_member_ids(term, where))
    if (
        isinstance(node, Comparison)
        and node.op is CompareOperator.eq
        and node.attr_path.attr.lower() == "value"
        and isinstance(node.value, str)
    ):
        return [node.value]
    raise errors.invalid_filter(
        f'"{where}": members can only be selected by id, as in members[value eq "<user id>"].'
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
