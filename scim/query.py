"""Query parameters of SCIM reads: pagination, and which attributes to return (RFC 7644 §3.4,
§3.9)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

from scim import cursors
from scim.cursors import Binding, Position
from scim.documents import list_response
from scim.errors import ScimError, invalid_value
from scim.schema import ResourceType

M = TypeVar("M", bound=Model)

DEFAULT_COUNT = 100
MAX_COUNT = 1000
# No table holds more rows than its bigint primary key can number, so a page starting further
# on is empty without asking; asking would send an OFFSET the database refuses as out of range.
MAX_OFFSET = 2**63 - 1 - MAX_COUNT
ALWAYS_RETURNED = ("schemas", "id")


@dataclass(frozen=True)
class Page:
    start_index: int  # 1-based, as SCIM counts
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1


def page_of(params: Mapping[str, str]) -> Page:
    """startIndex below 1 means 1 and a negative count means 0 (RFC 7644 §3.4.2.4); count is
    capped at MAX_COUNT, which /ServiceProviderConfig advertises as filter.maxResults. A
    startIndex past the last result is kept as sent: its page is empty (page_rows), and
    totalResults still says how many there are."""
    start = _integer(params, "startIndex", default=1)
    count = _integer(params, "count", default=DEFAULT_COUNT)
    return Page(start_index=max(start, 1), count=min(max(count, 0), MAX_COUNT))


def page_rows(
    ordered: QuerySet[M],
    page: Page,
    load: Callable[[QuerySet[M]], QuerySet[M]],
    *,
    total: int | None = None,
    load_ids: Callable[[list[int]], list[M]] | None = None,
) -> list[M]:
    """One page of rows, loaded with ``load`` (which adds what rendering needs). A deep page (an
    import walking through everyone) first takes its ids alone, which the index answers, and
    then loads just those rows: the OFFSET skips index entries instead of joined rows. With the
    ``total`` known beforehand, a page in the second half is read from the other end, in the
    reverse order: a page near the end skips as few entries as one near the start.
    ``load_ids`` (optional) loads the rows of those ids as ``load`` would, by a faster way."""
    if page.offset > MAX_OFFSET or (total is not None and page.offset >= total):
        return []
    if page.offset == 0:
        return list(load(ordered)[: page.count])
    from_end = None if total is None else max(total - page.offset - page.count, 0)
    if from_end is not None and total is not None and from_end < page.offset:
        backwards = ordered.reverse().values_list("pk", flat=True)
        ids = list(backwards[from_end : total - page.offset])[::-1]
    else:
        ids = list(ordered.values_list("pk", flat=True)[page.offset : page.offset + page.count])
    if load_ids is not None:
        loaded = load_ids(ids)
    else:
        loaded = list(load(ordered.model._default_manager.filter(pk__any=ids)))
    rows = {row.pk: row for row in loaded}
    return [rows[pk] for pk in ids if pk in rows]


def total_of(rows: QuerySet[Any], page: Page, fetched: int) -> int:
    """totalResults: a page that came back short already says where the results end (the
    usual case for ``userName eq`` lookups), so the COUNT is only run when it cannot."""
    if 0 < fetched < page.count or (fetched == 0 and page.offset == 0 and page.count):
        return page.offset + fetched
    return rows.count()


def _integer(params: Mapping[str, str], name: str, *, default: int) -> int:
    raw = _param(params, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_value(f'"{name}" must be a whole number, got "{raw[:40]}".') from None


def _param(params: Mapping[str, str], name: str) -> str | None:
    """Query parameter names are case-insensitive too (Entra sends excludedAttributes)."""
    wanted = name.lower()
    return next((value for key, value in params.items() if key.lower() == wanted), None)


def text_param(params: Mapping[str, str], name: str) -> str | None:
    return _param(params, name)


SEARCH_PARAMETERS = (
    "attributes",
    "excludedAttributes",
    "filter",
    "sortBy",
    "sortOrder",
    "startIndex",
    "count",
    "cursor",
)


def search_parameters(body: Mapping[str, Any]) -> dict[str, str]:
    """A SearchRequest body (RFC 7644 §3.4.3) as the query parameters of the same GET."""
    params: dict[str, str] = {}
    for name in SEARCH_PARAMETERS:
        value = next((v for k, v in body.items() if k.lower() == name.lower()), None)
        if value is None:
            continue
        if name == "cursor" and not isinstance(value, str):
            raise invalid_value('"cursor" in the search request must be a string.')
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if isinstance(value, float):
            # JSON has one number type: 10.0 and 1e30 are whole numbers written differently.
            if not value.is_integer():
                raise invalid_value(f'"{name}" in the search request must be a whole number.')
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise invalid_value(f'"{name}" in the search request has the wrong type.')
        params[name] = str(value)
    return params


@dataclass(frozen=True)
class Projection:
    """Which attributes a response carries: ``attributes`` keeps only those named (plus id
    and schemas), ``excludedAttributes`` drops those named. Names are canonical paths:
    ("<schema urn>", "attribute", "sub-attribute or empty")."""

    only: frozenset[tuple[str, str, str]] = frozenset()
    excluded: frozenset[tuple[str, str, str]] = frozenset()

    def wants(self, schema: str, attribute: str) -> bool:
        """Whether the response needs this top-level attribute at all (so that, for example,
        a team's 10,000 members are not read when Entra excludes them)."""
        if (schema, attribute, "") in self.excluded:
            return False
        if not self.only or attribute in ALWAYS_RETURNED:
            return True
        return any(s == schema and a == attribute for s, a, _ in self.only)

    def apply(self, document: dict[str, Any], resource: ResourceType) -> dict[str, Any]:
        if not self.only and not self.excluded:
            return document
        result: dict[str, Any] = {}
        for key, value in document.items():
            if key.lower().startswith("urn:"):  # an extension's object: project its attributes
                inner = {name: self._keeps(key, name, v) for name, v in value.items()}
                inner = {name: v for name, v in inner.items() if v is not None}
                if inner:
                    result[key] = inner
                continue
            kept = self._keeps(resource.schema.id, key, value)
            if kept is not None:
                result[key] = kept
        return result

    def _keeps(self, schema: str, attribute: str, value: Any) -> Any:
        """The part of ``value`` to return, or None to leave the attribute out."""
        if attribute in ALWAYS_RETURNED:
            return value
        if (schema, attribute, "") in self.excluded:
            return None
        if isinstance(value, dict):
            value = {
                sub: inner
                for sub, inner in value.items()
                if (schema, attribute, sub) not in self.excluded
            }
        if not self.only:
            return value
        if (schema, attribute, "") in self.only:
            return value
        subs = {sub for s, a, sub in self.only if s == schema and a == attribute and sub}
        if not subs:
            return None
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k in subs} or None
        if isinstance(value, list):
            items = [{k: v for k, v in item.items() if k in subs} for item in value]
            return [item for item in items if item] or None
        return None


def projection_of(params: Mapping[str, str], resource: ResourceType) -> Projection:
    return Projection(
        only=_paths(text_param(params, "attributes"), resource),
        excluded=_paths(text_param(params, "excludedAttributes"), resource),
    )


def _paths(raw: str | None, resource: ResourceType) -> frozenset[tuple[str, str, str]]:
    """Parse a comma-separated attribute list into canonical paths. Names we do not have are
    skipped: asking not to see an attribute we never return is not an error."""
    paths: set[tuple[str, str, str]] = set()
    for item in (raw or "").split(","):
        path = _canonical_path(item.strip(), resource)
        if path is not None:
            paths.add(path)
    return frozenset(paths)


def _canonical_path(text: str, resource: ResourceType) -> tuple[str, str, str] | None:
    if not text:
        return None
    urn = None
    for schema_id in resource.schema_ids:
        if text.lower().startswith(schema_id.lower() + ":"):
            urn, text = schema_id, text[len(schema_id) + 1 :]
            break
    if text in ALWAYS_RETURNED:
        return (resource.schema.id, text, "")
    name, _, sub = text.partition(".")
    found = resource.find(name, urn)
    if found is None:
        return None
    schema, attribute = found
    sub_name = ""
    if sub:
        sub_attribute = attribute.sub_attribute(sub)
        if sub_attribute is None:
            return None
        sub_name = sub_attribute.name
    return (schema.id, attribute.name, sub_name)


@dataclass(frozen=True)
class Listing(Generic[M]):
    """One page of a list request: its rows, what to show of each, and where it is: a
    startIndex and the exact total (index pagination), or the cursors of the pages either side
    (cursor pagination, RFC 9865)."""

    rows: list[M]
    projection: Projection
    total: int | None = None
    page: Page | None = None
    next_cursor: str | None = None
    previous_cursor: str | None = None

    def document(self, resources: list[dict[str, Any]]) -> dict[str, Any]:
        """The ListResponse for ``resources``, the rows rendered. Cursor pages leave out
        totalResults (RFC 9865 §2 makes it optional there): a page costs what it shows, at any
        depth, and counting the directory would cost more than the page."""
        if self.page is not None:
            assert self.total is not None
            return list_response(resources, total=self.total, start_index=self.page.start_index)
        document = list_response(resources, total=0, start_index=1)
        del document["totalResults"], document["startIndex"]
        if self.next_cursor is not None:
            document["nextCursor"] = self.next_cursor
        if self.previous_cursor is not None:
            document["previousCursor"] = self.previous_cursor
        return document


def listing(
    params: Mapping[str, str],
    rows: QuerySet[M],
    *,
    resource: ResourceType,
    organisation_id: int,
    to_filter: Callable[[str], Q],
    ordering: Callable[[str | None, str | None], list[Any]],
    load: Callable[[QuerySet[M], Projection], QuerySet[M]] = lambda rows, _: rows,
    count_all: Callable[[], int] | None = None,
    load_ids: Callable[[list[int], Projection], list[M]] | None = None,
) -> Listing[M]:
    """A list request (RFC 7644 §3.4.2): filter, sort, one page, and totalResults; or, when
    it has a ``cursor`` (even an empty one), a cursor page (RFC 9865). ``count_all`` gives the
    number of ``rows`` without counting them (accounts.models.PeopleCount), for lists without
    a filter."""
    text = text_param(params, "filter")
    if text:
        rows = rows.filter(to_filter(text))
    projection = projection_of(params, resource)
    raw_cursor = text_param(params, "cursor")
    if raw_cursor is not None:
        binding = Binding(organisation_id, resource.name, (text or "").strip())
        return _cursor_listing(params, raw_cursor, binding, rows, projection, load)
    page = page_of(params)
    total = count_all() if count_all is not None and not text else None
    fetched: list[M] = []
    if page.count:
        order = ordering(text_param(params, "sortBy"), text_param(params, "sortOrder"))
        fetched = page_rows(
            rows.order_by(*order),
            page,
            lambda some: load(some, projection),
            total=total,
            load_ids=None if load_ids is None else lambda ids: load_ids(ids, projection),
        )
    if total is None:
        total = total_of(rows, page, len(fetched))
    return Listing(fetched, projection, total=total, page=page)


def _cursor_listing(
    params: Mapping[str, str],
    raw_cursor: str,
    binding: Binding,
    rows: QuerySet[M],
    projection: Projection,
    load: Callable[[QuerySet[M], Projection], QuerySet[M]],
) -> Listing[M]:
    """A keyset page in primary-key order: the rows after (or before) the cursor's edge row,
    one more than asked to know whether another page follows."""
    for name in ("startIndex", "sortBy", "sortOrder"):
        if text_param(params, name):
            raise invalid_value(
                f'"{name}" cannot be combined with "cursor": cursor pages follow one fixed '
                "order. Page with startIndex to sort, or leave sortBy out."
            )
    count = _cursor_count(params)
    position = cursors.read(raw_cursor, binding)
    if position is None:
        ordered = rows.order_by("pk")
    elif position.backwards:
        ordered = rows.filter(pk__lt=position.pk).order_by("-pk")
    else:
        ordered = rows.filter(pk__gt=position.pk).order_by("pk")
    fetched = list(load(ordered, projection)[: count + 1]) if count else []
    more = len(fetched) > count
    fetched = fetched[:count]
    if position is not None and position.backwards:
        fetched.reverse()
    if not fetched:
        return Listing(fetched, projection)
    first, last = fetched[0].pk, fetched[-1].pk
    # Forward: a next page when a row followed; a previous one unless this is the first page.
    # Backwards: the mirror image. The rows either side may be gone by the time the client
    # asks, which gives an empty page, not an error.
    has_next = more if position is None or not position.backwards else True
    has_previous = position is not None and (more if position.backwards else True)
    return Listing(
        fetched,
        projection,
        next_cursor=cursors.issue(Position(last, backwards=False), binding) if has_next else None,
        previous_cursor=(
            cursors.issue(Position(first, backwards=True), binding) if has_previous else None
        ),
    )


def _cursor_count(params: Mapping[str, str]) -> int:
    """RFC 9865 §2.4: with cursors a count outside 0..maxPageSize is refused (invalidCount),
    rather than clamped as startIndex pagination does."""
    count = _integer(params, "count", default=DEFAULT_COUNT)
    if not 0 <= count <= MAX_COUNT:
        raise ScimError(
            400, f'"count" must be between 0 and {MAX_COUNT} with cursor pages.', "invalidCount"
        )
    return count
