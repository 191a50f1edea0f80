"""The SCIM request log behind the Activity tab: what each request did, in plain words."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import Organisation
from scim import log_insert, sentences
from scim.models import Outcome, RefusedRequestCount, ScimRequest
from scim.rendering import UNSTORABLE

SECRET_KEYS = {"password", "authorization", "secret", "token"}
MAX_TEXT = 120
MAX_ITEMS = 20
MAX_DEPTH = 4  # deeper parts of a body are shown as "…"


# Log entries deleted by one statement of prune (below).
PRUNE_BATCH = 5_000

# How far back the Activity tab counts requests refused for want of a valid key.
REFUSED_SUMMARY_HOURS = 24


@dataclass(frozen=True)
class RefusedSummary:
    """Requests refused for want of a valid key, as the Activity tab sums them up."""

    count: int
    hours: int  # over the last this many hours
    latest_hour: datetime | None  # the start of the latest hour with a refusal


@dataclass
class Target:
    """What a request was about, filled in by the view as soon as it knows."""

    resource_type: str = ""  # "User" or "Group"
    resource_id: str = ""
    label: str = ""  # userName or displayName
    ignored: list[str] = field(default_factory=list)  # attributes sent that we do not store


def client_name(user_agent: str) -> str:
    """Who sent the request, for sentences on the Activity tab."""
    agent = user_agent.lower()
    if "okta" in agent:
        return "Okta"
    if "azure" in agent or "microsoft" in agent or "aad" in agent:
        return "Microsoft Entra ID"
    return "The SCIM client"


def storable(text: str) -> str:
    """The text with what the database cannot hold replaced by U+FFFD. Bodies holding such
    characters are refused as they are parsed, but a path or an error detail may still echo
    them, and the log must take any request."""
    return UNSTORABLE.sub("\ufffd", text)


def summarise(value: Any, depth: int = 0) -> Any:
    """A request body without secrets: short strings, lists cut to a few items (members are
    counted), no passwords, nothing nested more than MAX_DEPTH deep (so its recursion is
    bounded whatever the body)."""
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        summary: dict[str, Any] = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            name = summarise(str(key))
            if name.lower() in SECRET_KEYS:
                summary[name] = "(not recorded)"
            elif name.lower() == "members" and isinstance(item, list):
                summary[name] = f"{len(item)} member(s)"
            else:
                summary[name] = summarise(item, depth + 1) if depth < MAX_DEPTH else "…"
        return summary
    if isinstance(value, list):
        items = [summarise(item, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"… {len(value) - MAX_ITEMS} more")
        return items
    if isinstance(value, str):
        value = storable(value)
        return value[:MAX_TEXT] + "…" if len(value) > MAX_TEXT else value
    return value


def describe_action(method: str, resource_type: str, label: str, *, collection: bool) -> str:
    noun = {"User": "user", "Group": "team"}.get(resource_type, "")
    if not noun:
        return "read the service description" if method == "GET" else f"{method} the endpoint"
    if method == "GET":
        return f"look up {noun}s" if collection else f"read {noun} {label}".rstrip()
    verb = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}.get(
        method, method
    )
    return f"{verb} {noun} {label}".rstrip()


def note_ignored(client: str, ignored: list[str]) -> str:
    """For a request that succeeded but carried attributes auzlearn does not keep: worth
    knowing when an admin wonders why a mapped attribute never shows up."""
    names = ", ".join(dict.fromkeys(ignored))
    return f"{client} also sent attributes auzlearn does not store, so they were ignored: {names}."


def explain_failure(client: str, action: str, status: int, detail: str) -> str:
    if status == 401:
        return f"{client}'s request was refused: {detail}"
    return f"{client} tried to {action}, but: {detail}"


def record(
    *,
    organisation: Organisation,
    client: str,
    key_prefix: str,
    method: str,
    path: str,
    status: int,
    started: float,
    finished: float,
    target: Target,
    body: Any,
    explanation: str,
    answer: Any = None,
) -> ScimRequest:
    """One INSERT (one round trip on PostgreSQL: ``scim.log_insert``), whatever the request:
    the facts its sentence on the Activity tab needs are taken from the body and the answer
    already in memory (``scim.sentences.facts_of``), and a lookup by filter (``userName eq
    "dana@demo.test"``) keeps the value it looked for as its label, so that the tab's search
    finds it through an index even when nobody was found."""
    label = target.label
    if not label and sentences.is_listing(method, path):
        label = sentences.lookup_of(path, body)
    entry = ScimRequest(
        organisation=organisation,
        client=client,
        key_prefix=key_prefix,
        method=storable(method[:10]),  # any token is a method: "FOO" reaches us too
        path=storable(path[:500]),
        status=status,
        outcome=Outcome.SUCCEEDED if status < 400 else Outcome.FAILED,
        duration_ms=max(0, round((finished - started) * 1000)),
        resource_type=target.resource_type,
        resource_id=storable(target.resource_id[:64]),
        resource_label=storable(label[:255]),
        summary=summarise(body) if body is not None else {},
        explanation=storable(explanation),
        facts=summarise(sentences.facts_of(method=method, path=path, body=body, answer=answer)),
    )
    log_insert.insert(entry)
    return entry


def count_refused(organisation_id: int) -> None:
    """Count one request refused for want of a valid key against its hour: one statement that
    inserts the hour's row or adds one to it, whatever the number of requests. Raw SQL since
    the ORM's upsert can only overwrite the count, not add to it; PostgreSQL and SQLite (3.24+)
    both take ON CONFLICT ... DO UPDATE."""
    table = connection.ops.quote_name(RefusedRequestCount._meta.db_table)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organisation_id, hour, count) VALUES (%s, %s, 1) "  # noqa: S608 (our own table name)
            f"ON CONFLICT (organisation_id, hour) DO UPDATE SET count = {table}.count + 1",
            [organisation_id, connection.ops.adapt_datetimefield_value(hour)],
        )


def refused_summary(organisation: Organisation) -> RefusedSummary:
    """The requests refused for want of a valid key over the last REFUSED_SUMMARY_HOURS: one
    aggregate over at most that many rows."""
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=REFUSED_SUMMARY_HOURS - 1
    )
    totals = RefusedRequestCount.objects.filter(
        organisation=organisation, hour__gte=since
    ).aggregate(count=Sum("count"), latest_hour=Max("hour"))
    return RefusedSummary(
        count=totals["count"] or 0, hours=REFUSED_SUMMARY_HOURS, latest_hour=totals["latest_hour"]
    )


def prune(*, older_than_days: int, batch_size: int = PRUNE_BATCH) -> int:
    """Delete log entries older than the retention period, oldest first, ``batch_size`` at a
    time, and the hourly counts of refused requests with them; returns how many log entries
    went. Each batch is one DELETE, committed on its own unless the caller holds a transaction.

    In batches because one DELETE of a month of a busy log (millions of rows) runs for minutes
    as one transaction: its WAL in one burst, the table's dead rows kept from vacuum until the
    end, and a cancelled run undoes everything. A batch takes milliseconds, the requests logged
    meanwhile never wait for it (they insert new rows; the batch locks old ones), and an
    interrupted prune has kept what it deleted (bench/README.md, "The request log at ten
    million entries")."""
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    oldest = ScimRequest.objects.filter(created_at__lt=cutoff).order_by("created_at", "pk")
    deleted = 0
    while True:
        batch = oldest.values("pk")[:batch_size]  # by scim_request_time_idx
        count, _ = ScimRequest.objects.filter(pk__in=batch).delete()
        deleted += count
        if count < batch_size:
            break
    RefusedRequestCount.objects.filter(hour__lt=cutoff).delete()
    return deleted
