"""The scale mode of issue 19: ``python -m bench --scale 100000,1000000``.

The size-sensitive requests measured at each directory size in one run, each size in a
database of its own (loaded in bulk, bench.populate) served by a fresh gunicorn: the floor, the
userName filter, GET /Users/{id}, the first and last list pages, the 10,000-member team and the
sustained mixed run. Then how each grew from the smallest size to the largest, judged as
budgets (bench.growth), with a table and a plot of cost against size (bench.report).

Each size runs in a process of its own (spawned, so that Django is set up afresh on its
database, and the memory of a million people goes when it ends).

With ``--many-organisations 1000x1000``, the largest size's database first holds only the small
organisation (1,000 people), whose filter, GET and list pages are measured alone; then the big
organisations are loaded and measured as at every size; then a thousand organisations of a
thousand people are loaded beside them and the small organisation's requests measured again.
"""

import os
import random
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING

from bench import database, progress
from bench.server import HOST, free_port

if TYPE_CHECKING:  # imported at run time only once Django is set up
    from bench.layout import OrganisationPlan
    from bench.measure import Phase, Results
    from bench.tenants import Tenant


@dataclass(frozen=True)
class SizeJob:
    """What one size's process does."""

    people: int
    database: str
    postgres: str
    smoke: bool
    seed: int
    reuse: bool
    keep: bool
    progress: bool
    log_stem: str  # bench/results/<stem>-gunicorn.log
    many: tuple[int, int] | None  # (organisations, people each), at the largest size only


@dataclass
class SizeOutcome:
    people: int
    results: "Results"
    load_seconds: float | None  # None: a reused database
    loaded_people: int  # all the people of the database, the three organisations' together
    cpu: str  # who used the CPUs while this size was measured (bench.machine)
    connect_ms: float
    alone: "Results | None" = None
    among: "Results | None" = None
    many_load_seconds: float | None = None
    many_loaded_people: int = 0


def parse_sizes(text: str) -> list[int]:
    """ "100000,1000000" (or "100_000, 1_000_000"): two or more sizes, each at least 1,000,
    returned in increasing order."""
    try:
        sizes = sorted({int(part.strip()) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"--scale takes sizes separated by commas, not {text!r}") from None
    if len(sizes) < 2:
        raise ValueError("--scale needs at least two different sizes, e.g. 100000,1000000")
    if sizes[0] < 1_000:
        raise ValueError("each size of --scale must be at least 1000")
    return sizes


def parse_many(text: str) -> tuple[int, int]:
    """ "1000x1000": that many organisations of that many people each."""
    parts = text.lower().split("x")
    try:
        organisations, people = (int(part) for part in parts)
    except ValueError:
        raise ValueError(
            f"--many-organisations takes ORGANISATIONSxPEOPLE, e.g. 1000x1000, not {text!r}"
        ) from None
    if organisations < 1 or people < 1:
        raise ValueError("--many-organisations needs at least one organisation of one person each")
    return organisations, people


def environment(port: int, url: str) -> dict[str, str]:
    """The settings of the server and of the process that loads its database: production
    (DEBUG off) with bench secrets."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SCIM_KEY_SECRET": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
        "DATABASE_URL": url,
    }


def run_size(job: SizeJob) -> SizeOutcome:
    """One size, in its own process: the database, the load, the measurements."""
    import django

    if job.progress:
        progress.force()
    port = free_port()
    os.environ.update(environment(port, database.database_url(job.postgres, job.database)))
    # A reused database that had other organisations loaded beside it would not measure this
    # size alone; --many-organisations always starts afresh (its "alone" comes first).
    reuse = job.reuse and job.many is None and database.exists(job.postgres, job.database)
    if not reuse:
        database.recreate(job.postgres, job.database)
    django.setup()
    try:
        return _SizeRun(job, port).run(reuse)
    finally:
        from django.db import connections

        connections.close_all()
        if not job.keep:
            database.drop(job.postgres, job.database)


def run_sizes(jobs: list[SizeJob]) -> list[SizeOutcome]:
    outcomes = []
    for job in jobs:
        print(f"--- {job.people:,} people per organisation (database {job.database})", flush=True)
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            outcomes.append(pool.submit(run_size, job).result())
    return outcomes


class _SizeRun:
    def __init__(self, job: SizeJob, port: int) -> None:
        self.job, self.port = job, port
        self.rng = random.Random(job.seed)  # noqa: S311 (test data, not security)

    def run(self, reuse: bool) -> SizeOutcome:
        from django.core.management import call_command

        from bench import layout, populate

        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        big_plan, other_plan, small_plan = layout.plans(self.job.people)
        scale_phases, many_phases = phases()
        alone = small = None
        if self.job.many:
            small_seconds = self._load([small_plan])
            small = self._tenant(small_plan)
            alone = self._serve(many_phases, small, small, "alone")[0]
            load_seconds: float | None = small_seconds + self._load([big_plan, other_plan])
        elif reuse and populate.is_loaded([big_plan, other_plan, small_plan]):
            print(f"Reusing the loaded database ({self.job.people:,} people per organisation).")
            load_seconds = None
        else:
            if reuse:
                raise SystemExit(f"{self.job.database} holds other data; run without --reuse-db.")
            load_seconds = self._load([big_plan, other_plan, small_plan])
        big, other = self._tenant(big_plan), self._tenant(other_plan)
        results, cpu, connect_ms = self._serve(scale_phases, big, other, "", mixed=True)
        outcome = SizeOutcome(
            people=self.job.people,
            results=results,
            load_seconds=load_seconds,
            loaded_people=2 * self.job.people + small_plan.people,
            cpu=cpu,
            connect_ms=connect_ms,
        )
        if self.job.many and small is not None:
            organisations, people = self.job.many
            outcome.many_load_seconds = self._load(
                layout.many_plans(organisations, people), bars=False
            )
            outcome.many_loaded_people = organisations * people
            outcome.alone = alone
            outcome.among = self._serve(many_phases, small, small, "among")[0]
        return outcome

    def _load(self, plans: "list[OrganisationPlan]", *, bars: bool = True) -> float:
        """Load the organisations and VACUUM ANALYZE, as autovacuum would have; seconds."""
        from bench import populate

        began = time.monotonic()
        with progress.bar(len(plans), "organisations", "organisation", leave=True) as bar:
            for plan in plans:
                populate.load(plan, self.rng, bars=bars)
                bar.update(1)
        populate.analyse()
        seconds = time.monotonic() - began
        people = sum(plan.people for plan in plans)
        print(
            f"Loaded {len(plans):,} organisation(s), {people:,} people, in {seconds:.1f} s"
            " (VACUUM ANALYZE included)",
            flush=True,
        )
        return seconds

    def _tenant(self, plan: "OrganisationPlan") -> "Tenant":
        from bench import tenants

        return tenants.prepare(plan, None)  # no SAML here: nothing measured depends on size

    def _serve(
        self,
        phases: "list[Phase]",
        tenant: "Tenant",
        other: "Tenant",
        part: str,
        *,
        mixed: bool = False,
    ) -> "tuple[Results, str, float]":
        """A fresh gunicorn on this database; the phases against ``tenant``; the mixed run
        against it and ``other`` if asked."""
        from django.db import connections

        from bench import machine, report
        from bench.measure import Runner, Sizes
        from bench.server import Server

        connections.close_all()
        connect_ms = database.connect_seconds(os.environ["DATABASE_URL"]) * 1000
        report.RESULTS_DIR.mkdir(exist_ok=True)
        stem = f"{self.job.log_stem}-{self.job.people}{'-' + part if part else ''}"
        log = report.RESULTS_DIR / f"{stem}-gunicorn.log"
        sizes = Sizes(smoke=self.job.smoke)
        with Server(self.port, dict(os.environ), log) as server:
            before, began = machine.snapshot(), time.monotonic()
            runner = Runner(server, tenant, tenant, other, sizes, self.job.seed)
            results = runner.run_phases(phases, tenant=tenant, mixed=mixed)
            cpu = machine.describe(machine.snapshot() - before, time.monotonic() - began)
        connections.close_all()
        return results, cpu, connect_ms


def phases() -> "tuple[list[Phase], list[Phase]]":
    """The phases at each size, and those of one organisation alone and among many."""
    from bench import scenarios
    from bench.measure import C1, C2, MEMORY_PHASE, Phase

    # The size-sensitive requests of the table, each right after its floor, at the
    # concurrency of the full run; the 10,000-member team one at a time, as in the full run.
    scale = [
        Phase(scenarios.floor, C2, 2_000, "", warm_up=100),
        Phase(scenarios.filter_by_username, C2, 2_000, "floor_c2", warm_up=100),
        Phase(scenarios.get_user, C2, 2_000, "floor_c2", warm_up=100),
        Phase(scenarios.first_page, C2, 400, "floor_c2"),
        Phase(scenarios.last_page, C2, 400, "floor_c2"),
        Phase(scenarios.floor, C1, 1_000, "", warm_up=50),
        MEMORY_PHASE,
    ]
    # One organisation's reads, alone and beside many others.
    many = [
        Phase(scenarios.floor, C2, 2_000, "", warm_up=100),
        Phase(scenarios.filter_by_username, C2, 2_000, "floor_c2", warm_up=100),
        Phase(scenarios.get_user, C2, 2_000, "floor_c2", warm_up=100),
        Phase(scenarios.first_page, C2, 1_000, "floor_c2", warm_up=50),
        Phase(scenarios.last_page, C2, 1_000, "floor_c2", warm_up=50),
    ]
    return scale, many


def results_stem(sizes: list[int], started: str) -> str:
    return f"scale-{'-'.join(str(size) for size in sizes)}-{started}"


def describe_load(outcome: SizeOutcome) -> str:
    """What the size's database held and how long loading it took."""
    if outcome.load_seconds is None:
        text = f"at {outcome.people:,}: a reused database of {outcome.loaded_people:,} people"
    else:
        text = (
            f"at {outcome.people:,}: {outcome.loaded_people:,} people loaded in"
            f" {outcome.load_seconds:.0f} s ({outcome.loaded_people / outcome.load_seconds:,.0f}"
            " people/s, emails, managers, teams and VACUUM ANALYZE included)"
        )
    if outcome.many_load_seconds is not None:
        text += (
            f"; then {outcome.many_loaded_people:,} more people in many organisations, in"
            f" {outcome.many_load_seconds:.0f} s"
        )
    return text
