"""The SCIM request log as the Activity tab shows it (``console.views.activity``): one sentence a
row with the raw request a click away, filtered by outcome, searched by person or team, and the
same rows as CSV.

**The search is bounded by the organisation's people and teams, never by the log.** The words
are first matched against the organisation's people (userName, email, name) and teams (name),
at most ``MAX_MATCHES`` of each; the log is then read only through two indexes: its entries
about those people and teams by SCIM id (``scim_request_org_resource_idx``), and lookups whose
filter looked for one of their userNames, emails or team names, or for the words themselves
(``scim_request_org_label_idx``, on the lowercased label ``scim.activity.record`` keeps). No
scan of the log's text, however long it grows; ``%``, ``_`` and quotes are plain characters
(the ORM escapes them), and the words are cut to ``MAX_SEARCH`` characters.
"""

import csv
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Lower
from django.utils.functional import cached_property

from accounts.models import Organisation, Team, User
from scim import activity, sentences
from scim.models import Outcome, ScimRequest

PAGE_SIZE = 50
OUTCOME_FILTERS = [("", "All"), (Outcome.SUCCEEDED, "Succeeded"), (Outcome.FAILED, "Failed")]
# The longest search kept; longer text is cut (no userName, email or team name is that long in
# practice, and a long search must not become a long query).
MAX_SEARCH = 200
# The newest entries the Activity tab pages through (200 pages); the count stops there.
MAX_BROWSED = 10_000
# The people and the teams a search matches, at most, each.
MAX_MATCHES = 100
# The most rows one CSV file holds: the log keeps SCIM_REQUEST_RETENTION_DAYS of requests, and
# a file larger than this is better asked for with a search or an outcome.
MAX_CSV_ROWS = 100_000
CSV_CHUNK = 500
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "Time (UTC)",
    "What happened",
    "Client",
    "Method",
    "Path",
    "Status",
    "Outcome",
    "Duration (ms)",
    "Resource type",
    "Resource id",
    "User or team",
    "Explanation",
]


@dataclass(frozen=True)
class LogQuery:
    outcome: str  # "" for all
    search: str  # "" for none, at most MAX_SEARCH characters
    search_cut: bool  # the search was longer and has been cut


@dataclass(frozen=True)
class ActivityRow:
    entry: ScimRequest
    sentence: str
    path: str  # relative to the Tenant URL
    summary: str  # pretty JSON of what was sent; "" when nothing was


def parse_query(params: Mapping[str, str]) -> LogQuery:
    outcome = params.get("outcome", "")
    if outcome not in Outcome.values:
        outcome = ""
    search = " ".join(activity.storable(params.get("q", "")).split())
    return LogQuery(
        outcome=outcome, search=search[:MAX_SEARCH], search_cut=len(search) > MAX_SEARCH
    )


def entries(organisation: Organisation, query: LogQuery) -> QuerySet[ScimRequest]:
    rows = ScimRequest.objects.filter(organisation=organisation)
    if query.outcome:
        rows = rows.filter(outcome=query.outcome)
    if query.search:
        ids, labels = _matches(organisation, query.search)
        rows = rows.alias(label_lower=Lower("resource_label")).filter(
            Q(resource_id__in=ids) | Q(label_lower__in=labels)
        )
    return rows


class NewestPaginator(Paginator):  # type: ignore[type-arg]
    """Pages through the newest MAX_BROWSED entries only. Its count stops there: a COUNT of
    every entry read the whole organisation's part of the log, a few million index entries for
    a busy tenant, on every page (bench/README.md, "The request log at ten million entries");
    no one pages through more than a few thousand by hand, and a search, an outcome or the CSV
    reaches the rest."""

    @cached_property
    def counted(self) -> int:
        """The entries, counted up to one more than MAX_BROWSED: any of them, in no order, so
        that PostgreSQL reads them from whichever index holds them (at 5,000,000 entries, the
        failed ones: 2 ms by an index-only scan, against 12 to 109 ms for the newest 10,001 in
        order)."""
        entries: QuerySet[ScimRequest] = self.object_list  # type: ignore[assignment]
        return entries.order_by()[: MAX_BROWSED + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.counted, MAX_BROWSED)

    @property
    def more_than_browsed(self) -> bool:
        return self.counted > MAX_BROWSED


def page_context(
    organisation: Organisation, query: LogQuery, page_number: str | None
) -> dict[str, object]:
    """The SCIM part of the Activity tab: a count (up to MAX_BROWSED + 1), one page of rows and
    the names they need."""
    page = NewestPaginator(entries(organisation, query), PAGE_SIZE).get_page(page_number)
    return {
        "page": page,
        "rows": rows_of(list(page), organisation),
        "outcome": query.outcome,
        "outcome_filters": OUTCOME_FILTERS,
        "search": query.search,
        "search_cut": query.search_cut,
        "max_search": MAX_SEARCH,
        "retention_days": settings.SCIM_REQUEST_RETENTION_DAYS,
        "refused": activity.refused_summary(organisation),
    }


def rows_of(page: list[ScimRequest], organisation: Organisation) -> list[ActivityRow]:
    """The page's rows with their sentences: one query for the names of the people they are
    about, whose requests (a deactivation PATCH) carry no name of their own."""
    names = _names(organisation, page)
    tenant_path = f"/scim/v2/{organisation.public_id}"
    return [
        ActivityRow(
            entry=entry,
            sentence=sentence_of(entry, names),
            path=unquote(entry.path.removeprefix(tenant_path)) or "/",
            summary=(
                json.dumps(entry.summary, indent=2, sort_keys=True, ensure_ascii=False)
                if entry.summary
                else ""
            ),
        )
        for entry in page
    ]


def sentence_of(entry: ScimRequest, names: Mapping[str, str]) -> str:
    """The name the request itself sent wins (scim.sentences); else the person's name now."""
    facts = entry.facts if isinstance(entry.facts, dict) else {}
    return sentences.sentence(
        client=entry.client,
        method=entry.method,
        path=entry.path,
        status=entry.status,
        resource_type=entry.resource_type,
        label=entry.resource_label,
        name=str(facts.get("name") or "") or names.get(entry.resource_id, ""),
        facts=facts,
        explanation=entry.explanation,
    )


def csv_rows(organisation: Organisation, query: LogQuery) -> Iterator[list[str]]:
    """The header, then every row the query finds (at most MAX_CSV_ROWS), newest first: read
    in chunks, with one query for the names of each chunk."""
    yield CSV_COLUMNS
    found = entries(organisation, query)[:MAX_CSV_ROWS].iterator(chunk_size=CSV_CHUNK)
    tenant_path = f"/scim/v2/{organisation.public_id}"
    for chunk in _chunks(found, CSV_CHUNK):
        names = _names(organisation, chunk)
        for entry in chunk:
            yield [
                _utc(entry.created_at),
                sentence_of(entry, names),
                entry.client,
                entry.method,
                unquote(entry.path.removeprefix(tenant_path)) or "/",
                str(entry.status),
                entry.get_outcome_display(),
                str(entry.duration_ms),
                entry.resource_type,
                entry.resource_id,
                entry.resource_label,
                entry.explanation,
            ]


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text, a line at a time, every cell safe to open in a spreadsheet."""
    buffer = _Line()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.take()


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula starts with an apostrophe instead."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


# --- helpers ------------------------------------------------------------------------------------


def _matches(organisation: Organisation, words: str) -> tuple[set[str], set[str]]:
    """The SCIM ids of the people and teams the words find, and the labels a lookup of one of
    them would have kept (their userNames, emails and team names, and the words)."""
    people = (
        User.objects.for_organisation(organisation)
        .alias(full=Concat("given_name", Value(" "), "family_name"))
        .filter(
            Q(username__icontains=words)
            | Q(email__icontains=words)
            | Q(full__icontains=words)
            | Q(display_name__icontains=words)
        )
        .values_list("public_id", "username", "email")[:MAX_MATCHES]
    )
    teams = Team.objects.filter(organisation=organisation, display_name__icontains=words)
    team_rows = teams.values_list("public_id", "display_name")[:MAX_MATCHES]
    ids: set[str] = set()
    labels = {words.lower()}
    for public_id, username, email in people:
        ids.add(str(public_id))
        labels.update(text.lower() for text in (username, email) if text)
    for public_id, display_name in team_rows:
        ids.add(str(public_id))
        labels.add(display_name.lower())
    return ids, labels


def _names(organisation: Organisation, page: Iterable[ScimRequest]) -> dict[str, str]:
    """The people's names by SCIM id, for the entries about people: one query."""
    ids = {entry.resource_id for entry in page if entry.resource_type == "User"}
    ids.discard("")
    if not ids:
        return {}
    people = User.objects.for_organisation(organisation).filter(public_id__in=_uuids(ids))
    return {
        str(person.public_id): person.full_name
        for person in people.only("public_id", "given_name", "family_name", "display_name")
        if person.full_name
    }


def _uuids(ids: Iterable[str]) -> list[str]:
    """Only the ids that are UUIDs: a log entry may hold any id a client sent."""
    valid = []
    for text in ids:
        try:
            valid.append(str(uuid.UUID(text)))
        except ValueError:
            continue
    return valid


def _chunks(items: Iterable[ScimRequest], size: int) -> Iterator[list[ScimRequest]]:
    chunk: list[ScimRequest] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Line:
    """A file-like object that keeps what csv.writer writes until it is taken."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def take(self) -> str:
        text, self.text = self.text, ""
        return text
