"""python -m bench.request_log: the SCIM request log at ten million entries (issue 19, item 5).

Every SCIM request writes one row to ``scim_scimrequest`` (scim.log_insert), the Activity tab
reads it (console.views.activity, scim.request_log) and ``prune_scim_requests`` deletes what is
older than the retention (scim.activity.prune, SCIM_REQUEST_RETENTION_DAYS, 30 days by
default). The issue asks that at 10,000,000 entries over a few organisations the tab's first
page and its search answer in under 100 ms (p50) and that pruning a month deletes without long
locks, "by indexes or by partitioning the log by month; measure both and say why you chose one".

So this mode loads that log (people through bench.populate, the entries by INSERT ... SELECT
from generate_series, in time order as the product writes them), copies it into a table
partitioned by month beside it, and measures, for the largest organisation:

- the Activity tab end to end, in this process (django.test.Client): its first page, a later
  page, the failed requests, and searches by a name, by a userName and by a word that finds
  nobody;
- the statements the tab sends to the log, captured from those requests and run as they are on
  both layouts (the table the product has, and the partitioned copy), with their plans;
- pruning a month on each layout while a second thread keeps writing log rows, as SCIM requests
  would during the nightly prune: the product's batched DELETE (``scim.activity.prune``) against
  detaching and dropping the oldest partition. The writer's latency is what a long lock would
  show.

Budgets (bench.budgets.Verdict, printed as the other modes print them): the first page and each
search under 100 ms (p50); the writer never waits a second during the prune. The report goes to
bench/results/request-log-<entries>-<time>.md (and request-log-latest.md), with a plot.
"""

import argparse
import json
import os
import random
import re
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import django
import psycopg

from bench import database, layout, progress, scale
from bench.__main__ import DEFAULT_POSTGRES, _commit, _machine
from bench.layout import OrganisationPlan
from bench.server import HOST
from bench.stats import percentile

if TYPE_CHECKING:  # imported at run time only once Django is set up
    from django.db.backends.utils import CursorWrapper

    from accounts.models import Organisation, User
    from bench.budgets import Verdict

LOG_TABLE = "scim_scimrequest"
PARTITIONED = "bench_scimrequest_by_month"
# The partitioned copy's indexes are the log's, each named after its original with this suffix
# (its partitions' own indexes get PostgreSQL's names; the report maps them back).
COPY_SUFFIX = "_by_month"
DEFAULT_ENTRIES = 10_000_000
DEFAULT_ORGANISATIONS = 4
DEFAULT_PEOPLE = 20_000
DEFAULT_DAYS = 60
DEFAULT_DATABASE = "auzlearn_bench_log"
# The product's default SCIM_REQUEST_RETENTION_DAYS: entries older than this are pruned. With
# the default --days of 60, the older half of the log is a month to prune.
RETENTION_DAYS = 30
WARM_UP = 5
MEASURED = 30
PAGE_BUDGET_SECONDS = 0.100  # the issue: first page and search p50 under 100 ms
WRITER_BUDGET_SECONDS = 1.0  # no insert waits this long while the prune runs: no long lock
WRITER_INTERVAL_SECONDS = 0.010  # the writer's pace: a log row every 10 ms
QUIET_SECONDS = 1.0  # the writer runs this long before and after each prune, for its baseline
WRITER_CLIENT = "Bench writer"  # its rows, deleted again once a prune is measured
PROVIDER = "okta"  # the Activity tab is under a provider; it shows every SCIM request
SEARCHED_PERSON = 3  # the person searched for is at this fraction (1/3) of the organisation
NOBODY = "xylophone"  # a word no name, userName, email or team holds

# --- the log's contents --------------------------------------------------------------------------

# The log's entries per organisation alternate between the two clients the product names
# (scim.activity.client_name): one organisation provisions from one identity provider.
CLIENTS = ("Okta", "Microsoft Entra ID")
TENANT = "/scim/v2/{tenant}"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PERSON_BODY = json.dumps(
    {
        "schemas": [CORE_USER],
        "userName": "{username}",
        "name": {"givenName": "{given}", "familyName": "{family}"},
        "active": True,
        "password": "(not recorded)",
    }
)
PERSON_FACTS = '{"active": true, "name": "{given} {family}"}'


def _operations(*operations: dict[str, Any]) -> str:
    return json.dumps({"schemas": [PATCH_OP], "Operations": list(operations)})


@dataclass(frozen=True)
class Kind:
    """One kind of SCIM request as the log keeps it (scim.activity.record). The text fields are
    templates: the loader fills each {word} from the row's organisation and person
    (PLACEHOLDERS)."""

    weight: int  # entries of this kind in every thousand
    method: str
    path: str  # after the Tenant URL
    status: int
    resource_type: str = "User"
    resource_id: str = "{id}"
    label: str = "{username}"
    summary: str = "{}"
    facts: str = "{}"
    explanation: str = ""

    @property
    def outcome(self) -> str:
        from scim.models import Outcome

        return Outcome.FAILED if self.status >= 400 else Outcome.SUCCEEDED


# What Okta and Entra send in a working day: mostly lookups by userName before each push (which
# keep the userName as their label, so that the tab's search finds them), reads, updates, a few
# creates, deactivations and team changes, and 5% refused.
KINDS: tuple[Kind, ...] = (
    Kind(
        330,
        "GET",
        "/Users?filter=userName%20eq%20%22{username}%22",
        200,
        resource_id="",
        facts='{"returned": 1, "total": 1}',
    ),
    Kind(
        30,
        "GET",
        "/Users?filter=userName%20eq%20%22{missing}%22",
        200,
        resource_id="",
        label="{missing}",
        facts='{"returned": 0, "total": 0}',
    ),
    Kind(120, "GET", "/Users/{id}", 200),
    Kind(
        30,
        "GET",
        "/Users?startIndex={start_index}&count=100",
        200,
        resource_id="",
        label="",
        facts='{"returned": 100, "total": {people}}',
    ),
    Kind(120, "PUT", "/Users/{id}", 200, summary=PERSON_BODY, facts=PERSON_FACTS),
    Kind(
        110,
        "PATCH",
        "/Users/{id}",
        200,
        summary=_operations({"op": "replace", "path": "title", "value": "Learner"}),
    ),
    Kind(
        40,
        "PATCH",
        "/Users/{id}",
        200,
        summary=_operations({"op": "replace", "value": {"active": False}}),
        facts='{"active": false, "only_active": true}',
    ),
    Kind(60, "POST", "/Users", 201, summary=PERSON_BODY, facts=PERSON_FACTS),
    Kind(20, "DELETE", "/Users/{id}", 204),
    Kind(
        60,
        "PATCH",
        "/Groups/{team_id}",
        204,
        resource_type="Group",
        resource_id="{team_id}",
        label="{team}",
        summary=_operations({"op": "add", "path": "members", "value": "3 member(s)"}),
        facts='{"added": 3}',
    ),
    Kind(
        20,
        "GET",
        "/Groups/{team_id}?excludedAttributes=members",
        200,
        resource_type="Group",
        resource_id="{team_id}",
        label="{team}",
    ),
    Kind(10, "GET", "/ServiceProviderConfig", 200, resource_type="", resource_id="", label=""),
    Kind(
        20,
        "PATCH",
        "/Users/{id}",
        400,
        summary=_operations({"op": "replace", "path": "emails[type eq \\", "value": "x"}),
        explanation="{client} tried to update user {username}, but: the filter of the PATCH"
        " operation's path is not valid.",
    ),
    Kind(
        15,
        "GET",
        "/Users/{unknown}",
        404,
        resource_id="{unknown}",
        label="",
        explanation="{client} tried to read user, but: Resource {unknown} not found.",
    ),
    Kind(
        15,
        "POST",
        "/Users",
        409,
        resource_id="",
        summary=PERSON_BODY,
        explanation="{client} tried to create user {username}, but: userName is already taken.",
    ),
)
# Each {word} of the templates, as the loader's SQL computes it for a row: o is the row's
# organisation, p the person it is about, r the row's own random draws (_SLICE_SQL).
PLACEHOLDERS: dict[str, str] = {
    "tenant": "o.tenant",
    "id": "p.public_id",
    "username": "p.username",
    "given": "p.given_name",
    "family": "p.family_name",
    "missing": "'new.hire.' || r.rn || '@' || o.domain",  # looked up before a create
    "unknown": "md5(r.created_at::text)::uuid::text",  # an id nobody has (Okta probes so)
    "team": "'Team ' || lpad(mod(r.rn, 200)::text, 3, '0')",
    "team_id": "md5(o.tenant || ':' || mod(r.rn, 200))::uuid::text",
    "people": "o.people::text",
    "client": "o.client",
    "start_index": "(1 + 100 * (r.rn / 100))::text",
}
TEMPLATE_COLUMNS = ("path", "resource_id", "label", "summary", "facts", "explanation")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def placeholders_in(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def fill(template: str, values: Mapping[str, str]) -> str:
    """A template with its {words} replaced, as the loader's nested replace() does in SQL."""
    for name in placeholders_in(template):
        template = template.replace("{" + name + "}", values[name])
    return template


def template_of(kind: Kind, column: str) -> str:
    return TENANT + kind.path if column == "path" else str(getattr(kind, column))


# --- the command line ---------------------------------------------------------------------------


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.request_log", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--entries",
        type=int,
        default=DEFAULT_ENTRIES,
        help="log entries in all (default %(default)s)",
    )
    parser.add_argument(
        "--organisations",
        type=int,
        default=DEFAULT_ORGANISATIONS,
        help="organisations sharing them: the first holds half (default %(default)s)",
    )
    parser.add_argument(
        "--people",
        type=int,
        default=DEFAULT_PEOPLE,
        help="people per organisation (default %(default)s)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=f"the entries are spread evenly over this many days up to now (default %(default)s;"
        f" more than the retention of {RETENTION_DAYS}, which the prune keeps)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="any database of the PostgreSQL server to create the bench database on "
        "(default: $BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument(
        "--database", default=DEFAULT_DATABASE, help="its name (default %(default)s)"
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="start from the database an earlier --keep-db run of the same sizes left, if there",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="do not drop the database at the end (the entries the prune took are put back)",
    )
    parser.add_argument("--seed", type=int, default=19, help="random seed of the data")
    args = parser.parse_args(argv)
    if args.entries < 1_000:
        parser.error("--entries must be at least 1000")
    if args.organisations < 1:
        parser.error("--organisations must be at least 1")
    if args.entries < 2 * args.organisations:
        parser.error("--entries must be at least twice --organisations")
    if args.people < 1_000:
        parser.error("--people must be at least 1000")
    if args.days <= RETENTION_DAYS:
        parser.error(
            f"--days must be more than {RETENTION_DAYS}, so that there is a month to prune"
        )
    return args


# --- what is loaded, as pure functions of the command line ------------------------------------


@dataclass(frozen=True)
class LogPlan:
    organisation: OrganisationPlan
    entries: int
    client: str

    @property
    def slug(self) -> str:
        return self.organisation.slug


def entry_shares(entries: int, organisations: int) -> list[int]:
    """The first organisation holds half the entries (rounded up), the others share the rest
    as evenly as whole numbers allow: one large tenant beside smaller ones, as in production."""
    if organisations == 1:
        return [entries]
    first = entries - entries // 2
    base, extra = divmod(entries // 2, organisations - 1)
    return [first] + [base + (1 if number < extra else 0) for number in range(organisations - 1)]


def log_plans(entries: int, organisations: int, people: int) -> list[LogPlan]:
    """The organisations, largest first. Both sizes are in the name, so that a reused database
    is known to fit (bench.populate.is_loaded)."""
    return [
        LogPlan(
            OrganisationPlan(
                f"bench-log-{number + 1}",
                f"Bench Log {number + 1} ({people} people, {share} log entries)",
                people,
                teams=0,
            ),
            share,
            CLIENTS[number % len(CLIENTS)],
        )
        for number, share in enumerate(entry_shares(entries, organisations))
    ]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    params: dict[str, str]
    judged: bool  # the budget applies: the first page and each search


def scenarios(plan: OrganisationPlan) -> list[Scenario]:
    """The Activity tab's requests, each as an admin's browser sends it."""
    index = plan.people // SEARCHED_PERSON
    name = f"{layout.given_name(index)} {layout.family_name(index)}"
    username = layout.username(plan, index)
    log = {"log": "scim"}
    return [
        Scenario("first_page", "first page", log, judged=True),
        Scenario("page_5", "page 5", {**log, "page": "5"}, judged=False),
        Scenario("failed", "outcome=failed", {**log, "outcome": "failed"}, judged=False),
        Scenario("search_name", f'search "{name}" (a name)', {**log, "q": name}, judged=True),
        Scenario(
            "search_username",
            f'search "{username}" (a userName)',
            {**log, "q": username},
            judged=True,
        ),
        Scenario(
            "search_nobody", f'search "{NOBODY}" (finds nobody)', {**log, "q": NOBODY}, judged=True
        ),
    ]


def month_bounds(oldest: datetime, newest: datetime) -> list[tuple[datetime, datetime]]:
    """One partition per calendar month (UTC) from the oldest entry's to the newest's, and the
    month after: the one new rows go to once the month turns, created ahead of time as a
    production schedule would (or the writer's rows would find no partition)."""
    lower = oldest.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = _next_month(_next_month(newest.astimezone(UTC).replace(day=1)))
    last = last.replace(hour=0, minute=0, second=0, microsecond=0)
    bounds = []
    while lower < last:
        upper = _next_month(lower)
        bounds.append((lower, upper))
        lower = upper
    return bounds


def _next_month(moment: datetime) -> datetime:
    if moment.month == 12:
        return moment.replace(year=moment.year + 1, month=1)
    return moment.replace(month=moment.month + 1)


def partition_name(lower: datetime) -> str:
    return f"{PARTITIONED}_{lower:%Y_%m}"


# --- SQL text -------------------------------------------------------------------------------------


def on_table(sql: str, table: str, other: str) -> str:
    """The same statement on another table: each mention of ``table``, quoted as Django quotes
    it or bare, becomes ``other``; longer names that start with it (its sequence, its indexes)
    are left alone."""
    pattern = re.compile(rf'"{re.escape(table)}"|\b{re.escape(table)}\b')
    return pattern.sub(lambda found: f'"{other}"' if found[0][0] == '"' else other, sql)


_INDEX_DEFINITION = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+) (USING .+)$")


def index_on(definition: str, table: str, name: str) -> str:
    """An index definition as pg_indexes gives it, for another table under another name."""
    found = _INDEX_DEFINITION.match(definition)
    if found is None:
        raise ValueError(f"not an index definition: {definition!r}")
    unique, _, _, rest = found.groups()
    return f"CREATE {unique or ''}INDEX {name} ON {table} {rest}"


_INDEX_USED = re.compile(
    r"(?:Index Scan|Index Only Scan)(?: Backward)? using (\S+)|Bitmap Index Scan on (\S+)"
)


def indexes_in(plan: str) -> list[str]:
    """The indexes a plan (EXPLAIN ANALYZE) read, in the order it names them, each once: not
    those of the nodes it never ran (a partition a LIMIT did not need)."""
    ran = "\n".join(line for line in plan.splitlines() if "(never executed)" not in line)
    names = [one or other for one, other in _INDEX_USED.findall(ran)]
    return list(dict.fromkeys(names))


_LONG_LIST = re.compile(r"IN \(((?:[^()']|'[^']*')*)\)")


def shorten(sql: str, keep: int = 2) -> str:
    """A statement for reading: IN lists of more than ``keep`` values cut, with their length."""

    def cut(found: re.Match[str]) -> str:
        values = re.findall(r"'[^']*'|[^,\s][^,]*", found[1])
        if len(values) <= keep:
            return found[0]
        return f"IN ({', '.join(values[:keep])}, … {len(values)} values)"

    return _LONG_LIST.sub(cut, sql)


# --- the figures ----------------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.seconds, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.seconds, 0.95)


@dataclass
class ActivityResult:
    scenario: Scenario
    timing: Timing
    statements: int  # SQL statements of one request
    log_statements: list[str]  # those that read the log, with their values


@dataclass
class StatementResult:
    label: str
    short: str  # for the plot
    sql: str  # on the log as the product has it
    indexes: Timing
    partitions: Timing
    result: str  # what it found (a count, or the rows of a page), the same on both
    plan_indexes: str
    plan_partitions: str
    used_indexes: list[str]
    used_partitions: list[str]

    @property
    def ratio(self) -> float:
        return self.partitions.p50 / self.indexes.p50


@dataclass
class PruneResult:
    layout: str  # "indexes" or "partitions"
    how: str
    rows: int
    seconds: float
    # Each statement it sent, in autocommit: one holds its locks about that long.
    statements: Timing
    writer: Timing  # each insert's latency while the prune ran
    writer_before: Timing  # the same in the quiet second before it
    # What it leaves to (auto)vacuum: VACUUM of the table afterwards (None: nothing to do).
    vacuum_seconds: float | None = None
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("nan")

    @property
    def longest_statement(self) -> float:
        return max(self.statements.seconds, default=0.0)


def judge(
    activity: Sequence[ActivityResult],
    statements: Sequence[StatementResult],
    prunes: Sequence[PruneResult],
) -> list["Verdict"]:
    """The issue's budgets, PASS or FAIL, and INFO lines for comparison."""
    from bench.budgets import Verdict

    verdicts = []
    for result in activity:
        budget = f"Activity, {result.scenario.title}: p50 under {_ms(PAGE_BUDGET_SECONDS)} ms"
        measured = f"{_ms(result.timing.p50)} ms (p95 {_ms(result.timing.p95)} ms)"
        if result.scenario.judged:
            verdicts.append(Verdict(budget, measured, result.timing.p50 < PAGE_BUDGET_SECONDS))
        else:
            verdicts.append(Verdict(budget, measured, None, informational=True))
    product = [prune for prune in prunes if prune.layout == "indexes"]
    budget = (
        f"prune_scim_requests deletes in batches: the writer's longest insert during it under"
        f" {WRITER_BUDGET_SECONDS:.0f} s"
    )
    if not product or not product[0].writer.seconds:
        verdicts.append(Verdict(budget, "not measured", False))
    else:
        prune = product[0]
        longest = max(prune.writer.seconds)
        verdicts.append(
            Verdict(
                budget,
                f"{_ms(longest)} ms ({len(prune.writer.seconds)} inserts, p50"
                f" {_ms(prune.writer.p50)} ms); {len(prune.statements.seconds)} statements, the"
                f" longest {_ms(prune.longest_statement)} ms",
                longest < WRITER_BUDGET_SECONDS,
            )
        )
    for statement in statements:
        verdicts.append(
            Verdict(
                f"partitions ÷ indexes, {statement.label} (p50)",
                f"{statement.ratio:.2f}x ({_ms(statement.partitions.p50)} ms vs"
                f" {_ms(statement.indexes.p50)} ms)",
                None,
                informational=True,
            )
        )
    for prune in prunes:
        writer_max = _ms(max(prune.writer.seconds)) if prune.writer.seconds else "-"
        verdicts.append(
            Verdict(
                f"prune on {prune.layout}: {prune.how}",
                f"{prune.seconds:.2f} s for {prune.rows:,} rows; the writer's longest insert"
                f" {writer_max} ms",
                None,
                informational=True,
            )
        )
    return verdicts


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


# --- the run ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    began = time.monotonic()
    load = os.getloadavg()[0]
    started = datetime.now(UTC).replace(microsecond=0)
    # Production settings with bench secrets; no server: the tab is requested in-process.
    os.environ.update(scale.environment(0, database.database_url(args.postgres, args.database)))
    reuse = args.reuse_db and database.exists(args.postgres, args.database)
    if not reuse:
        database.recreate(args.postgres, args.database)
    keep = args.keep_db or args.reuse_db
    django.setup()
    try:
        return _run(args, reuse=reuse, keep=keep, started=started, began=began, load=load)
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            database.drop(args.postgres, args.database)


def _run(
    args: argparse.Namespace,
    *,
    reuse: bool,
    keep: bool,
    started: datetime,
    began: float,
    load: float,
) -> int:
    from django.core.management import call_command

    from accounts.models import Organisation
    from bench import machine, report

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # the tab's page needs its manifest
    plans = log_plans(args.entries, args.organisations, args.people)
    loads: dict[str, float] = {}
    if reuse and _is_loaded(plans):
        print(f"Reusing the loaded database ({args.entries:,} log entries).")
    else:
        if reuse:
            raise SystemExit(
                "The database to reuse holds other sizes, or not the whole log (a run stopped"
                " before putting back what its prune took): run without --reuse-db."
            )
        loads.update(load_organisations(plans, args.seed))
        loads.update(load_log(plans, args.days, args.seed))
    oldest, newest = _span()
    loads.update(build_partitioned(oldest, newest))
    print("Loaded: " + "; ".join(f"{step} {seconds:.0f} s" for step, seconds in loads.items()))

    largest = Organisation.objects.get(slug=plans[0].slug)
    admin = _primary_admin(largest)
    cpu_before, measuring = machine.snapshot(), time.monotonic()
    activity = measure_activity(admin, scenarios(plans[0].organisation))
    statements = measure_statements(activity)
    prunes = [prune_product(largest)]
    if keep:  # so that a later --reuse-db run finds the whole log again
        loads["putting back what the prune took (kept database)"] = restore_pruned()
    prunes += prune_partitions(largest)
    cpu = machine.describe(machine.snapshot() - cpu_before, time.monotonic() - measuring)

    verdicts = judge(activity, statements, prunes)
    info = {
        "command": shlex.join(["python", "-m", "bench.request_log", *sys.argv[1:]]),
        "started": started.isoformat().replace("+00:00", "Z"),
        "commit": _commit(),
        "machine": f"{_machine()}; load average {load:.2f} before the run",
        "postgres": database.server_version(args.postgres),
        "cpu": cpu,
        "span": f"{oldest:%Y-%m-%d %H:%M} to {newest:%Y-%m-%d %H:%M} UTC",
        "duration": f"{(time.monotonic() - began) / 60:.1f} minutes",
    }
    text = markdown(args, info, plans, loads, activity, statements, prunes, verdicts)
    report.RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"request-log-{args.entries}-{started:%Y%m%d-%H%M%S}"
    for name in (stem, "request-log-latest"):
        (report.RESULTS_DIR / f"{name}.md").write_text(text)
        plot(statements, activity, report.RESULTS_DIR / f"{name}.png")
    print(text)
    print(f"Written: {report.RESULTS_DIR / stem}.md and .png")
    print(report.terminal(verdicts))
    return 1 if any(verdict.passed is False for verdict in verdicts) else 0


# --- loading ------------------------------------------------------------------------------------


def _is_loaded(plans: Sequence[LogPlan]) -> bool:
    """The organisations are there (their sizes are in their names), the log holds every entry
    and all its indexes (a run stopped while loading leaves them dropped)."""
    from django.db import connection

    from bench import populate
    from scim.models import ScimRequest

    if not populate.is_loaded([plan.organisation for plan in plans]):
        return False
    expected = {index.name for index in ScimRequest._meta.indexes}
    present = {name for name, _ in secondary_indexes(LOG_TABLE)}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {LOG_TABLE}")  # noqa: S608 (our own table)
        (count,) = cursor.fetchone()
    return expected <= present and count == sum(plan.entries for plan in plans)


def load_organisations(plans: Sequence[LogPlan], seed: int) -> dict[str, float]:
    from bench import populate

    began = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    for plan in plans:
        populate.load(plan.organisation, rng)
    populate.analyse()
    people = sum(plan.organisation.people for plan in plans)
    return {f"{len(plans)} organisations, {people:,} people": time.perf_counter() - began}


def load_log(plans: Sequence[LogPlan], days: int, seed: int) -> dict[str, float]:
    """The entries, by INSERT ... SELECT in one statement a day, oldest first and in time order
    within each, all organisations interleaved, as the product writes them (so the table's
    pages are in time order, as a month's prune finds them). The secondary indexes are dropped
    first and built again afterwards from their own definitions: building an index over ten
    million rows is much faster than keeping it up to date row by row."""
    from django.db import connection

    end = datetime.now(UTC)
    total = sum(plan.entries for plan in plans)
    times: dict[str, float] = {}
    with connection.cursor() as cursor:
        _fast_session(cursor)
        _log_sources(cursor, plans, seed)
        definitions = secondary_indexes(LOG_TABLE)
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {name}")
        began = time.perf_counter()
        with progress.bar(days, "log entries", "day", leave=True) as bar:
            for day in range(days):
                cursor.execute(
                    _SLICE_SQL,
                    {
                        "start": end - timedelta(days=days),
                        "seconds": timedelta(days=days).total_seconds(),
                        "slice": day,
                        "slices": days,
                    },
                )
                bar.update(1)
        times[f"{total:,} log entries (INSERT ... SELECT)"] = time.perf_counter() - began
        times["the log's indexes built again"] = _create_indexes(cursor, definitions)
        if secondary_indexes(LOG_TABLE) != definitions:
            raise RuntimeError("The log's indexes did not come back as they were")
        cursor.execute("DROP TABLE bench_log_organisations, bench_log_people, bench_log_kinds")
        _reset_session(cursor)
        began = time.perf_counter()
        cursor.execute(f"VACUUM ANALYZE {LOG_TABLE}")
        times["VACUUM ANALYZE of the log"] = time.perf_counter() - began
    return times


def _fast_session(cursor: "CursorWrapper") -> None:
    """For this session's bulk work only: commits that do not wait for the disk (a crash loses
    the run anyway), room to sort a day's rows and to build an index in memory."""
    cursor.execute("SET synchronous_commit TO off")
    cursor.execute("SET work_mem TO '256MB'")
    cursor.execute("SET maintenance_work_mem TO '1GB'")


def _reset_session(cursor: "CursorWrapper") -> None:
    for setting in ("synchronous_commit", "work_mem", "maintenance_work_mem"):
        cursor.execute(f"RESET {setting}")


def _log_sources(cursor: "CursorWrapper", plans: Sequence[LogPlan], seed: int) -> None:
    """Three temporary tables the day's INSERT draws from: the organisations (their share of
    the entries), their people numbered 0..N-1, and the kinds of request with their weights."""
    from accounts.models import Organisation

    cursor.execute(f"SELECT setseed({(seed % 1000) / 1000})")  # random() repeats per seed
    cursor.execute(
        "CREATE TEMP TABLE bench_log_organisations (organisation_id bigint PRIMARY KEY,"
        " tenant text, domain text, client text, key_prefix text, people int, entries bigint)"
    )
    organisations = {
        o.slug: o for o in Organisation.objects.filter(slug__in=[p.slug for p in plans])
    }
    cursor.executemany(
        "INSERT INTO bench_log_organisations VALUES (%s, %s, %s, %s, left(md5(%s), 8), %s, %s)",
        [
            (
                organisations[plan.slug].pk,
                str(organisations[plan.slug].public_id),
                plan.organisation.domain,
                plan.client,
                plan.slug,
                plan.organisation.people,
                plan.entries,
            )
            for plan in plans
        ],
    )
    cursor.execute(
        "CREATE TEMP TABLE bench_log_people AS SELECT u.organisation_id,"
        " (row_number() OVER (PARTITION BY u.organisation_id ORDER BY u.id) - 1)::int AS rn,"
        " u.public_id::text AS public_id, u.username, u.given_name, u.family_name"
        " FROM accounts_user u JOIN bench_log_organisations o USING (organisation_id)"
    )
    cursor.execute("ALTER TABLE bench_log_people ADD PRIMARY KEY (organisation_id, rn)")
    cursor.execute(
        "CREATE TEMP TABLE bench_log_kinds (low int, high int, method text, status int,"
        " outcome text, resource_type text, path text, resource_id text, label text,"
        " summary text, facts text, explanation text)"
    )
    low = 0
    rows: list[tuple[Any, ...]] = []
    for kind in KINDS:
        templates = [template_of(kind, column) for column in TEMPLATE_COLUMNS]
        rows.append((low, low + kind.weight, kind.method, kind.status, kind.outcome,
                     kind.resource_type, *templates))  # fmt: skip
        low += kind.weight
    cursor.executemany(
        "INSERT INTO bench_log_kinds VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    cursor.execute("ANALYZE bench_log_organisations, bench_log_people, bench_log_kinds")


def _filled(column: str) -> str:
    """The SQL of a template column with its {words} replaced: nested replace() calls, only
    for the words that column's templates use (ten million rows, six columns each)."""
    expression = f"k.{column}"
    names = sorted({name for kind in KINDS for name in placeholders_in(template_of(kind, column))})
    for name in names:
        expression = f"replace({expression}, '{{{name}}}', {PLACEHOLDERS[name]})"
    return expression


# One day of every organisation's entries. Organisation o's entry j (0 <= j < o.entries) falls in
# its own slot of the span, at a random moment within it, so each organisation's entries are
# spread evenly and every entry has its own time; day d takes the slots of that day. Each is
# about a random person of its organisation, of a kind drawn by weight.
_SLICE_SQL = f"""
INSERT INTO {LOG_TABLE} (organisation_id, created_at, client, key_prefix, method, path, status,
    outcome, duration_ms, resource_type, resource_id, resource_label, summary, explanation, facts)
SELECT o.organisation_id, r.created_at, o.client, o.key_prefix, k.method, {_filled("path")},
    k.status, k.outcome, r.duration_ms, k.resource_type, {_filled("resource_id")},
    {_filled("label")}, ({_filled("summary")})::jsonb, {_filled("explanation")},
    ({_filled("facts")})::jsonb
FROM (
    SELECT o.organisation_id,
        %(start)s::timestamptz
            + %(seconds)s * interval '1 second' * ((g.j + random()) / o.entries)
            AS created_at,
        floor(random() * o.people)::int AS rn,
        floor(random() * 1000)::int AS roll,
        2 + floor(random() * random() * 120)::int AS duration_ms
    FROM bench_log_organisations o,
        generate_series(o.entries * %(slice)s / %(slices)s,
                        o.entries * (%(slice)s + 1) / %(slices)s - 1) AS g(j)
) AS r
JOIN bench_log_organisations o ON o.organisation_id = r.organisation_id
JOIN bench_log_people p ON p.organisation_id = r.organisation_id AND p.rn = r.rn
JOIN bench_log_kinds k ON r.roll >= k.low AND r.roll < k.high
ORDER BY r.created_at
"""  # noqa: S608 (our own table and templates)


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of each index of the table that backs no constraint (the primary
    key stays while loading: its ids only grow, so it costs little)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.schemaname = current_schema() AND i.tablename = %s AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c"
            "  WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))"
            "::regclass) ORDER BY i.indexname",
            [table],
        )
        return [(name, definition) for name, definition in cursor.fetchall()]


def _create_indexes(cursor: "CursorWrapper", definitions: Sequence[tuple[str, str]]) -> float:
    began = time.perf_counter()
    for _, definition in definitions:
        cursor.execute(definition)
    return time.perf_counter() - began


def _span() -> tuple[datetime, datetime]:
    from django.db.models import Max, Min

    from scim.models import ScimRequest

    span = ScimRequest.objects.aggregate(oldest=Min("created_at"), newest=Max("created_at"))
    return span["oldest"], span["newest"]


# --- the partitioned copy -------------------------------------------------------------------------


def build_partitioned(oldest: datetime, newest: datetime) -> dict[str, float]:
    """The log again, in a table partitioned by month (built afresh each run): the same columns,
    the primary key (id, created_at) (a partitioned table's unique keys must hold its partition
    key), and the same secondary indexes, created on the parent so that each partition has
    them."""
    from django.db import connection

    columns = ", ".join(_log_columns())
    times: dict[str, float] = {}
    with connection.cursor() as cursor:
        _fast_session(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {PARTITIONED}")
        bounds = month_bounds(oldest, newest)
        for lower, _ in bounds:  # a partition a stopped run detached and did not drop
            cursor.execute(f"DROP TABLE IF EXISTS {partition_name(lower)}")
        cursor.execute(
            f"CREATE TABLE {PARTITIONED} (LIKE {LOG_TABLE} INCLUDING DEFAULTS)"
            " PARTITION BY RANGE (created_at)"
        )
        # LIKE leaves out the identity: new rows (the writer's) take ids from a sequence.
        cursor.execute(f"CREATE SEQUENCE {PARTITIONED}_id_seq OWNED BY {PARTITIONED}.id")
        cursor.execute(
            f"ALTER TABLE {PARTITIONED} ALTER COLUMN id SET DEFAULT nextval('{PARTITIONED}_id_seq')"
        )
        for lower, upper in bounds:
            cursor.execute(
                f"CREATE TABLE {partition_name(lower)} PARTITION OF {PARTITIONED}"
                f" FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
            )
        began = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {PARTITIONED} ({columns}) SELECT {columns} FROM {LOG_TABLE}"  # noqa: S608
        )
        cursor.execute(f"SELECT setval('{PARTITIONED}_id_seq', (SELECT max(id) FROM {LOG_TABLE}))")  # noqa: S608
        times[f"partitioned copy, {len(bounds)} months (INSERT ... SELECT)"] = (
            time.perf_counter() - began
        )
        began = time.perf_counter()
        cursor.execute(f"ALTER TABLE {PARTITIONED} ADD PRIMARY KEY (id, created_at)")
        for name, definition in secondary_indexes(LOG_TABLE):
            cursor.execute(index_on(definition, PARTITIONED, name + COPY_SUFFIX))
        times["its indexes"] = time.perf_counter() - began
        _reset_session(cursor)
        began = time.perf_counter()
        cursor.execute(f"VACUUM ANALYZE {PARTITIONED}")
        times["its VACUUM ANALYZE"] = time.perf_counter() - began
    return times


def _log_columns() -> list[str]:
    from scim.models import ScimRequest

    return [field.column for field in ScimRequest._meta.concrete_fields]


def _partitions() -> list[tuple[str, int]]:
    """(name, rows) of the copy's partitions, oldest first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass AND c.relkind = 'r' ORDER BY c.relname",
            [PARTITIONED],
        )
        names = [name for (name,) in cursor.fetchall()]
        counts = []
        for name in names:
            cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 (our own partitions)
            counts.append((name, cursor.fetchone()[0]))
    return counts


def _index_origins() -> dict[str, str]:
    """Each partition's index -> the log's index it copies (by way of the parent's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname, parent.relname FROM pg_inherits i"
            " JOIN pg_class child ON child.oid = i.inhrelid"
            " JOIN pg_class parent ON parent.oid = i.inhparent"
            " WHERE child.relkind = 'i' AND parent.relname LIKE %s",
            [f"%{COPY_SUFFIX}"],
        )
        origins = {child: parent.removesuffix(COPY_SUFFIX) for child, parent in cursor.fetchall()}
    return origins


# --- the Activity tab, end to end ---------------------------------------------------------------


def _primary_admin(organisation: "Organisation") -> "User":
    """The primary admin who opens the tab (as tests.factories makes one), with SCIM on."""
    from accounts import services
    from accounts.models import Role, User
    from bench.populate import ACTOR

    services.organisation_update(organisation=organisation, actor=ACTOR, scim_enabled=True)
    username = f"bench.admin@{organisation.slug}.example"
    found = User.objects.for_organisation(organisation).filter(username=username).first()
    if found is not None:
        return found
    return services.user_create(
        organisation=organisation,
        actor=ACTOR,
        username=username,
        role=Role.PRIMARY_ADMIN,
        given_name="Bench",
        family_name="Admin",
    )


def measure_activity(admin: "User", cases: Sequence[Scenario]) -> list[ActivityResult]:
    """Each request WARM_UP times, then once with its statements captured, then MEASURED times
    on the clock: the whole view, template included, in this process (no HTTP, no new
    connection: bench/README.md gives the connection's cost)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client(raise_request_exception=True, HTTP_HOST=HOST)
    client.force_login(admin)
    url = reverse("console:activity", args=[PROVIDER])
    results = []
    for case in cases:
        for _ in range(WARM_UP):
            _get(client, url, case.params)
        with CaptureQueriesContext(connection) as captured:
            _get(client, url, case.params)
        # Read now: the next request empties the connection's log the capture reads from.
        queries = [query["sql"] for query in captured.captured_queries]
        timing = Timing()
        for _ in range(MEASURED):
            began = time.perf_counter()
            _get(client, url, case.params)
            timing.seconds.append(time.perf_counter() - began)
        log = [sql for sql in queries if _reads_log(sql)]
        results.append(ActivityResult(case, timing, len(queries), log))
        print(f"Activity, {case.title}: p50 {_ms(timing.p50)} ms, {len(queries)} statements")
    return results


def _get(client: Any, url: str, params: Mapping[str, str]) -> None:
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"The Activity tab answered {response.status_code} to {params}")


def _reads_log(sql: str) -> bool:
    return f'"{LOG_TABLE}"' in sql and sql.lstrip().upper().startswith("SELECT")


# --- the same statements on both layouts ----------------------------------------------------------


def statement_labels(activity: Sequence[ActivityResult]) -> list[tuple[str, str, str]]:
    """(label, short label, SQL) of each distinct statement the tab sent to the log, in order:
    a count or a page of rows, named after the requests that sent it."""
    found: dict[str, list[Scenario]] = {}
    for result in activity:
        for sql in result.log_statements:
            found.setdefault(sql, []).append(result.scenario)
    labels = []
    for sql, cases in found.items():
        what = "count" if "COUNT(" in sql.upper() else "rows"
        titles = " / ".join(dict.fromkeys(case.title for case in cases))
        keys = " / ".join(dict.fromkeys(case.key for case in cases))
        labels.append((f"{titles}: {what}", f"{keys}: {what}", sql))
    return labels


def measure_statements(activity: Sequence[ActivityResult]) -> list[StatementResult]:
    """Each statement on the log and on the partitioned copy, alternately (so both see the same
    machine), planned afresh each time as the product's are; then each one's plan."""
    from django.db import connection as product

    origins = _index_origins()
    results = []
    url = os.environ["DATABASE_URL"]
    # The product's own session settings (auzlearn.config: no parallel workers, no JIT, its
    # lock timeout), so that PostgreSQL plans these as it plans the product's.
    options = product.get_connection_params().get("options", "")
    with psycopg.connect(
        url, autocommit=True, prepare_threshold=None, options=options
    ) as connection:
        for label, short, sql in statement_labels(activity):
            other = on_table(sql, LOG_TABLE, PARTITIONED)
            for _ in range(WARM_UP):
                _run_sql(connection, sql)
                _run_sql(connection, other)
            indexes, partitions = Timing(), Timing()
            for _ in range(MEASURED):
                indexes.seconds.append(_timed(connection, sql))
                partitions.seconds.append(_timed(connection, other))
            rows, same = _run_sql(connection, sql), _run_sql(connection, other)
            if rows != same:
                raise RuntimeError(f"The two layouts disagree on {label}")
            plans = _explain(connection, sql), _explain(connection, other)
            results.append(
                StatementResult(
                    label=label,
                    short=short,
                    sql=sql,
                    indexes=indexes,
                    partitions=partitions,
                    result=_found(label, rows),
                    plan_indexes=plans[0],
                    plan_partitions=plans[1],
                    used_indexes=indexes_in(plans[0]),
                    used_partitions=list(
                        dict.fromkeys(origins.get(name, name) for name in indexes_in(plans[1]))
                    ),
                )
            )
            print(f"{label}: indexes {_ms(indexes.p50)} ms, partitions {_ms(partitions.p50)} ms")
    return results


def _run_sql(connection: psycopg.Connection[Any], sql: str) -> list[tuple[Any, ...]]:
    return connection.execute(sql.encode()).fetchall()


def _timed(connection: psycopg.Connection[Any], sql: str) -> float:
    began = time.perf_counter()
    _run_sql(connection, sql)
    return time.perf_counter() - began


def _explain(connection: psycopg.Connection[Any], sql: str) -> str:
    rows = _run_sql(connection, "EXPLAIN (ANALYZE, BUFFERS) " + sql)
    return "\n".join(str(row[0]) for row in rows)


def _found(label: str, rows: list[tuple[Any, ...]]) -> str:
    if label.endswith(": count") and len(rows) == 1:
        return f"{rows[0][0]:,}"
    return f"{len(rows)} rows"


# --- pruning a month, with a writer -------------------------------------------------------------


class Writer:
    """A second thread that inserts a log row every WRITER_INTERVAL_SECONDS, each in autocommit
    on a connection of its own, as SCIM requests keep doing while the nightly prune runs, and
    times each insert: an insert that waits on a lock the prune holds shows here."""

    def __init__(self, insert: Callable[[], None]) -> None:
        self.insert = insert
        self.samples: list[tuple[float, float]] = []  # (started, seconds)
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-log-writer")

    def __enter__(self) -> "Writer":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None and error is None:
            raise RuntimeError("The writer failed") from self.error

    def between(self, began: float, ended: float) -> Timing:
        return Timing([seconds for at, seconds in self.samples if began <= at < ended])

    def _loop(self) -> None:
        from django.db import connections

        try:
            first = time.perf_counter()
            for number in range(sys.maxsize):
                pause = first + number * WRITER_INTERVAL_SECONDS - time.perf_counter()
                if self._stop.wait(max(0.0, pause)):
                    break
                began = time.perf_counter()
                self.insert()
                self.samples.append((began, time.perf_counter() - began))
        except BaseException as error:  # reported by __exit__, in the measuring thread
            self.error = error
        finally:
            connections.close_all()  # this thread's own


@contextmanager
def _timed_statements() -> Iterator[list[float]]:
    """The seconds of each statement this thread's connection sends meanwhile: with
    autocommit, one batch's DELETE holds its locks about that long."""
    from django.db import connection

    seconds: list[float] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds.append(time.perf_counter() - began)

    with connection.execute_wrapper(timed):
        yield seconds


def prune_product(organisation: "Organisation") -> PruneResult:
    """The product's prune on the log (``prune_scim_requests``'s function), while the writer
    inserts through the ORM into the same table."""
    from scim import activity
    from scim.models import Outcome, ScimRequest

    def insert() -> None:
        ScimRequest.objects.create(
            organisation=organisation,
            client=WRITER_CLIENT,
            method="GET",
            path=f"/scim/v2/{organisation.public_id}/Users",
            status=200,
            outcome=Outcome.SUCCEEDED,
            duration_ms=1,
            resource_type="User",
        )

    with Writer(insert) as writer:
        time.sleep(QUIET_SECONDS)
        began = time.perf_counter()
        with _timed_statements() as statements:
            deleted = activity.prune(older_than_days=RETENTION_DAYS)
        ended = time.perf_counter()
        time.sleep(QUIET_SECONDS)
    ScimRequest.objects.filter(client=WRITER_CLIENT).delete()
    return PruneResult(
        layout="indexes",
        how=f"scim.activity.prune(older_than_days={RETENTION_DAYS}), batches of "
        f"{activity.PRUNE_BATCH}",
        rows=deleted,
        seconds=ended - began,
        statements=Timing(statements),
        writer=writer.between(began, ended),
        writer_before=writer.between(began - QUIET_SECONDS, began),
        vacuum_seconds=_vacuum(LOG_TABLE),
    )


def _vacuum(table: str) -> float:
    """VACUUM of the table: the work a DELETE leaves behind (its dead rows, in the table and in
    each index), which autovacuum does in production. This server runs without autovacuum,
    so the bench does it, and times it."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {table}")
    return time.perf_counter() - began


def restore_pruned() -> float:
    """Put back the entries the product's prune deleted, from the partitioned copy (which still
    has them), so that the kept database holds the whole log again: the log's indexes dropped
    and built again, as when loading. The prune's VACUUM has freed the pages it emptied, so
    the rows go back into them, in time order."""
    from django.db import connection

    columns = ", ".join(_log_columns())
    began = time.perf_counter()
    with connection.cursor() as cursor:
        _fast_session(cursor)
        definitions = secondary_indexes(LOG_TABLE)
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(
            f"INSERT INTO {LOG_TABLE} ({columns}) SELECT {columns} FROM {PARTITIONED} b"  # noqa: S608
            f" WHERE b.client <> %s AND NOT EXISTS (SELECT 1 FROM {LOG_TABLE} s WHERE s.id = b.id)"
            " ORDER BY b.created_at",
            [WRITER_CLIENT],
        )
        _create_indexes(cursor, definitions)
        _reset_session(cursor)
        cursor.execute(f"VACUUM ANALYZE {LOG_TABLE}")
    return time.perf_counter() - began


# The writer's row on the partitioned copy: what ScimRequest.objects.create sends, in SQL.
_WRITER_SQL = f"""
INSERT INTO {PARTITIONED} (organisation_id, created_at, client, key_prefix, method, path, status,
    outcome, duration_ms, resource_type, resource_id, resource_label, summary, explanation, facts)
VALUES (%s, now(), %s, '', 'GET', %s, 200, 'succeeded', 1, 'User', '', '', '{{}}', '', '{{}}')
"""  # noqa: S608 (our own table)


def prune_partitions(organisation: "Organisation") -> list[PruneResult]:
    """The oldest month dropped from the partitioned copy, as a partitioned log would be pruned:
    DETACH PARTITION ... CONCURRENTLY, then DROP TABLE; and then the next month with a plain
    DETACH (a stronger lock on the parent), when it is not the month the writer writes to."""
    from django.db import connection

    def insert() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                _WRITER_SQL,
                [organisation.pk, WRITER_CLIENT, f"/scim/v2/{organisation.public_id}/Users"],
            )

    partitions = _partitions()
    this_month = partition_name(datetime.now(UTC))
    cutoff = datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
    results = []
    for number, concurrently in ((0, True), (1, False)):
        if number >= len(partitions) or partitions[number][0] >= this_month:
            break
        name, rows = partitions[number]
        upper = _next_month(datetime.strptime(name[-7:], "%Y_%m").replace(tzinfo=UTC))
        detach = f"DETACH PARTITION {name}" + (" CONCURRENTLY" if concurrently else "")
        steps = {detach: f"ALTER TABLE {PARTITIONED} {detach}", "DROP TABLE": f"DROP TABLE {name}"}
        with Writer(insert) as writer:
            time.sleep(QUIET_SECONDS)
            began = time.perf_counter()
            with _timed_statements() as seconds, connection.cursor() as cursor:
                for statement in steps.values():
                    cursor.execute(statement)
            ended = time.perf_counter()
            time.sleep(QUIET_SECONDS)
        timed = ", ".join(
            f"{step} {_ms(one)} ms" for step, one in zip(("DETACH", "DROP"), seconds, strict=True)
        )
        if upper <= cutoff:
            past = "entirely past the retention"
        else:
            past = f"holds entries younger than {RETENTION_DAYS} days: dropped to time the locks"
        results.append(
            PruneResult(
                layout="partitions",
                how=f"{detach}, DROP TABLE",
                rows=rows,
                seconds=ended - began,
                statements=Timing(seconds),
                writer=writer.between(began, ended),
                writer_before=writer.between(began - QUIET_SECONDS, began),
                note=f"{timed}; {past}",
            )
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PARTITIONED} WHERE client = %s", [WRITER_CLIENT])  # noqa: S608
    return results


# --- the report ---------------------------------------------------------------------------------


def markdown(
    args: argparse.Namespace,
    info: Mapping[str, str],
    plans: Sequence[LogPlan],
    loads: Mapping[str, float],
    activity: Sequence[ActivityResult],
    statements: Sequence[StatementResult],
    prunes: Sequence[PruneResult],
    verdicts: Sequence["Verdict"],
) -> str:
    lines = [
        f"# The request log at {args.entries:,} entries",
        "",
        f"- {info['machine']}; PostgreSQL {info['postgres']}",
        f"- commit {info['commit']}; `{info['command']}`; started {info['started']}, took"
        f" {info['duration']}",
        f"- {info['cpu']}",
        f"- entries from {info['span']}, over {args.days} days; retention {RETENTION_DAYS} days",
        "",
        "## Loaded",
        "",
        "| organisation | people | log entries | client |",
        "|---|--:|--:|---|",
        *(
            f"| {plan.slug} | {plan.organisation.people:,} | {plan.entries:,} | {plan.client} |"
            for plan in plans
        ),
        "",
        "| step | seconds |",
        "|---|--:|",
        *(f"| {step} | {seconds:.1f} |" for step, seconds in loads.items()),
    ]
    if not loads:
        lines.append("| (reused the database an earlier run kept) | |")
    lines += [
        "",
        f"## The Activity tab, end to end ({plans[0].slug}, {plans[0].entries:,} entries)",
        "",
        f"In this process (django.test.Client), {WARM_UP} warm-up requests then {MEASURED}"
        " measured each.",
        "",
        "| request | p50 ms | p95 ms | statements |",
        "|---|--:|--:|--:|",
        *(
            f"| {result.scenario.title} | {_ms(result.timing.p50)} | {_ms(result.timing.p95)} |"
            f" {result.statements} |"
            for result in activity
        ),
        "",
        "## The tab's statements on both layouts",
        "",
        f"Indexes: `{LOG_TABLE}` as the product has it. Partitions: `{PARTITIONED}`, by month,"
        f" the same indexes on each partition. Each statement {MEASURED} times on each,"
        " alternately, planned each time.",
        "",
        "| statement | found | indexes p50 / p95 ms | partitions p50 / p95 ms | ratio |"
        " index read (indexes) | index read (partitions) |",
        "|---|--:|--:|--:|--:|---|---|",
        *(
            f"| {s.label} | {s.result} | {_ms(s.indexes.p50)} / {_ms(s.indexes.p95)} |"
            f" {_ms(s.partitions.p50)} / {_ms(s.partitions.p95)} | {s.ratio:.2f}x |"
            f" {', '.join(s.used_indexes) or 'none'} | {', '.join(s.used_partitions) or 'none'} |"
            for s in statements
        ),
        "",
        "## Pruning a month, with a writer",
        "",
        f"A second thread inserts a log row every {WRITER_INTERVAL_SECONDS * 1000:.0f} ms into"
        " the same table, each in autocommit; its latency during the prune (and in the quiet"
        f" {QUIET_SECONDS:.0f} s before) shows any lock the prune holds too long.",
        "",
        "| layout | how | rows | seconds | rows/s | statements | statement p50 / max ms |"
        " writer p50 / p95 / max ms (inserts) | writer p50 before ms | VACUUM after, s | note |",
        "|---|---|--:|--:|--:|--:|--:|---|--:|--:|---|",
        *(
            f"| {p.layout} | {p.how} | {p.rows:,} | {p.seconds:.2f} | {p.rows_per_second:,.0f} |"
            f" {len(p.statements.seconds)} | {_ms(p.statements.p50)} /"
            f" {_ms(p.longest_statement)} | {_writer(p.writer)} | {_ms(p.writer_before.p50)} |"
            f" {'-' if p.vacuum_seconds is None else f'{p.vacuum_seconds:.1f}'} | {p.note} |"
            for p in prunes
        ),
        "",
        "## Budgets",
        "",
        *(f"- {v.status} {v.budget}: {v.measured}" for v in verdicts),
        "",
        "## Plans",
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of each statement on each layout, after the timed runs.",
    ]
    for s in statements:
        lines += [
            "",
            f"### {s.label}",
            "",
            "```sql",
            shorten(s.sql),
            "```",
            "",
            "Indexes:",
            "",
            "```",
            s.plan_indexes,
            "```",
            "",
            "Partitions:",
            "",
            "```",
            s.plan_partitions,
            "```",
        ]
    return "\n".join(lines) + "\n"


def _writer(timing: Timing) -> str:
    if not timing.seconds:
        return "-"
    return (
        f"{_ms(timing.p50)} / {_ms(timing.p95)} / {_ms(max(timing.seconds))}"
        f" ({len(timing.seconds)})"
    )


def plot(
    statements: Sequence[StatementResult], activity: Sequence[ActivityResult], path: Path
) -> None:
    """The Activity tab's p50 per request, and each statement's p50 on both layouts."""
    import matplotlib.pyplot as plt  # bench.report has chosen the Agg backend

    figure, (tab, layouts) = plt.subplots(
        1, 2, figsize=(13, 0.45 * max(len(statements), len(activity)) + 2)
    )
    titles = [result.scenario.key for result in activity]
    tab.barh(titles, [result.timing.p50 * 1000 for result in activity], color="tab:blue")
    tab.axvline(PAGE_BUDGET_SECONDS * 1000, color="tab:red", linestyle="--", label="budget")
    tab.set_title("Activity tab, end to end (p50)")
    tab.set_xlabel("ms")
    tab.invert_yaxis()
    tab.legend()
    positions = range(len(statements))
    layouts.barh([p - 0.2 for p in positions], [s.indexes.p50 * 1000 for s in statements],
                 height=0.4, label="indexes")  # fmt: skip
    layouts.barh([p + 0.2 for p in positions], [s.partitions.p50 * 1000 for s in statements],
                 height=0.4, label="monthly partitions")  # fmt: skip
    layouts.set_yticks(list(positions), [s.short for s in statements], fontsize=8)
    layouts.set_title("The tab's statements (p50)")
    layouts.set_xlabel("ms")
    layouts.invert_yaxis()
    layouts.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    sys.exit(main())
