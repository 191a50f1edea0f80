"""The measurements, in order: each endpoint paired with the floor it is compared with, the
same requests against the small organisation for the query counts, then the sustained mixed
run. Django's ORM is used only between phases, never while requests are in flight.

Pairing: each client sends a floor request just before each job of an endpoint, so that the
endpoint and its floor see the same machine. Measured one phase after the other, the floor's
p50 moved between 3.2 and 5.2 ms from one run to the next on this virtual machine, and every
ratio with it. The floor phases of their own are still measured and shown, for reference."""

import asyncio
import dataclasses
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from bench import progress, saml, scenarios
from bench.loadgen import Job, Request, Sample, closed_loop, open_loop
from bench.server import Server, memory, reset_peak
from bench.stats import Measurement
from bench.tenants import Tenant, connection_of
from tests.sso.idp import TestIdP

JobSource = Callable[[Tenant, random.Random], Iterator[Job]]


@dataclass(frozen=True)
class Phase:
    source: JobSource
    concurrency: int
    jobs: int  # measured jobs in a full run (a smoke run sends a few)
    floor: str  # what its ratio is taken against
    warm_up: int = 20


@dataclass(frozen=True)
class Sizes:
    """How much to send: a full run, or the smoke run's few requests (query counts only)."""

    smoke: bool

    def jobs(self, phase: Phase) -> int:
        return min(phase.jobs, 8) if self.smoke else phase.jobs

    def warm_up(self, phase: Phase) -> int:
        return min(phase.warm_up, 2) if self.smoke else phase.warm_up

    @property
    def probes(self) -> int:
        return 12  # per endpoint against the small organisation: enough for a clear mode

    @property
    def saml_responses(self) -> int:
        return 8 if self.smoke else 300

    @property
    def mixed_rate(self) -> float:
        return 5.0 if self.smoke else 25.0  # requests/s per tenant (Entra's minimum: 25)

    @property
    def mixed_seconds(self) -> float:
        return 5.0 if self.smoke else 60.0

    @property
    def mixed_warm_up_seconds(self) -> float:
        return 1.0 if self.smoke else 5.0


C1, C2 = 1, 2  # clients: one at a time, and one per gunicorn worker

# Reads and per-person writes with one client per worker; writes to one team, the 10,000-member
# read and the ACS one at a time (Okta sends a team's changes one after another, and the ACS is
# compared with python3-saml in one thread).
PHASES: list[Phase] = [
    Phase(scenarios.floor, C2, 2_000, "", warm_up=100),
    Phase(scenarios.filter_by_username, C2, 2_000, "floor_c2", warm_up=100),
    Phase(scenarios.get_user, C2, 2_000, "floor_c2", warm_up=100),
    Phase(scenarios.first_page, C2, 400, "floor_c2"),
    Phase(scenarios.last_page, C2, 400, "floor_c2"),
    Phase(scenarios.big_team_without_members, C2, 1_000, "floor_c2"),
    Phase(scenarios.create_user, C2, 500, "floor_c2"),
    Phase(scenarios.replace_user, C2, 500, "floor_c2"),
    Phase(scenarios.deactivate_reactivate, C2, 300, "floor_c2"),
    Phase(scenarios.floor, C1, 1_000, "", warm_up=50),
    Phase(scenarios.add_one_member, C1, 300, "floor_c1"),
    Phase(scenarios.add_many_members, C1, 150, "floor_c1", warm_up=5),
    Phase(scenarios.remove_from_big_team, C1, 300, "floor_c1"),
    Phase(scenarios.remove_from_small_team, C1, 300, "floor_c1"),
]
MEMORY_PHASE = Phase(scenarios.big_team, C1, 30, "floor_c1", warm_up=3)
FLOOR_PREFIX = "floor"


def paired_floor(phase: Phase) -> str:
    """The key of the floor measured alongside this phase's endpoint."""
    return f"{FLOOR_PREFIX}@{phase.source.__name__}"


def with_floor(jobs: Iterator[Job], floors: Iterator[Job], label: str) -> Iterator[Job]:
    """Each job preceded by a floor request labelled ``label`` (see the module)."""
    for job, floor_job in zip(jobs, floors, strict=False):
        yield [*(dataclasses.replace(request, label=label) for request in floor_job), *job]


@dataclass
class Results:
    measurements: dict[str, Measurement] = field(default_factory=dict)
    small_queries: dict[str, dict[str, int]] = field(default_factory=dict)
    helpers: list[Sample] = field(default_factory=list)  # the unmeasured requests that undo
    memory_growth: int | None = None  # bytes: peak over the workers while serving the team
    mixed: dict[str, Measurement] = field(default_factory=dict)
    mixed_seconds: float = 0.0  # the measured part of the mixed run

    def record(self, samples: list[Sample], concurrency: int, floor: str) -> None:
        for sample in samples:
            if not sample.label:
                self.helpers.append(sample)
                continue
            key = f"floor_c{concurrency}" if sample.label == "floor" else sample.label
            own_floor = "" if key.startswith(FLOOR_PREFIX) else floor
            measurement = self.measurements.setdefault(
                key, Measurement(key=key, concurrency=concurrency, floor=own_floor)
            )
            measurement.samples.append(sample)


class Runner:
    def __init__(
        self, server: Server, big: Tenant, small: Tenant, other: Tenant, sizes: Sizes, seed: int
    ) -> None:
        self.server, self.big, self.small, self.other = server, big, small, other
        self.sizes, self.seed = sizes, seed
        self.results = Results()

    def run(self, idp: TestIdP) -> Results:
        for phase in PHASES:
            self._phase(phase)
        self._memory_phase()
        self._saml(idp)
        self._probe_small_organisation(idp)
        self._mixed()
        return self.results

    # --- closed loop ----------------------------------------------------------------------

    def _send(
        self, jobs: Iterator[Job], count: int, concurrency: int, description: str
    ) -> list[Sample]:
        with progress.bar(count, description, "job") as bar:
            return asyncio.run(
                closed_loop(
                    itertools.islice(jobs, count),
                    port=self.server.port,
                    concurrency=concurrency,
                    on_job=lambda: bar.update(1),
                )
            )

    def run_phases(self, phases: Sequence[Phase], *, tenant: Tenant, mixed: bool) -> Results:
        """Only these phases, against ``tenant``, then the mixed run if asked (the scale mode,
        bench.scale): into a Results of their own."""
        self.results = Results()
        for phase in phases:
            if phase is MEMORY_PHASE:
                self._memory_phase()
            else:
                self._phase(phase, tenant)
        if mixed:
            self._mixed()
        return self.results

    def _phase(self, phase: Phase, tenant: Tenant | None = None) -> None:
        tenant = tenant or self.big
        jobs = phase.source(tenant, random.Random(self.seed))  # noqa: S311 (not security)
        floor = phase.floor
        if floor:
            floor = paired_floor(phase)
            floors = scenarios.floor(tenant, random.Random(self.seed + 1))  # noqa: S311
            jobs = with_floor(jobs, floors, floor)
        name = f"{phase.source.__name__} x{phase.concurrency}"
        self._send(jobs, self.sizes.warm_up(phase), phase.concurrency, f"{name} (warm-up)")
        samples = self._send(jobs, self.sizes.jobs(phase), phase.concurrency, name)
        self.results.record(samples, phase.concurrency, floor)

    def _memory_phase(self) -> None:
        """GET the 10,000-member team, watching the workers' resident memory: the peak while
        serving it, less what each worker held before its first such request."""
        pids = self.server.worker_pids()
        for pid in pids:
            reset_peak(pid)
        before = {pid: memory(pid).rss for pid in pids}
        self._phase(MEMORY_PHASE)
        self.results.memory_growth = max(memory(pid).peak - before[pid] for pid in pids)

    # --- SAML -----------------------------------------------------------------------------

    def _saml(self, idp: TestIdP) -> None:
        """Fresh responses for people of the SAML pool, made before the clock starts; the bare
        python3-saml figure and our validation's on the same responses, in this process, then
        the ACS over HTTP, one at a time."""
        connection = connection_of(self.big)
        warm_up = 2 if self.sizes.smoke else 20
        people = self.big.pool("saml")[: warm_up + self.sizes.saml_responses]
        responses = saml.signed_responses(idp, connection, people)
        timed = saml.validations(connection, responses)
        for key, seconds, floor in (
            ("saml_bare", timed.bare[warm_up:], ""),
            ("saml_validation", timed.ours[warm_up:], "saml_bare"),
        ):
            measurement = self.results.measurements.setdefault(
                key, Measurement(key=key, concurrency=C1, floor=floor)
            )
            measurement.samples += [Sample(key, "", 0, each, None) for each in seconds]
        jobs = scenarios.saml_acs(self.big, responses)
        self._send(jobs, warm_up, C1, "saml_acs (warm-up)")
        samples = self._send(jobs, len(responses) - warm_up, C1, "saml_acs x1")
        self.results.record(samples, C1, "saml_bare")

    # --- query counts at another size -----------------------------------------------------

    def _probe_small_organisation(self, idp: TestIdP) -> None:
        """The same requests against the organisation of 1,000 people: the usual number of
        queries of each must be the same as at full size."""
        probes: list[Sample] = []
        sources = [phase.source for phase in [*PHASES, MEMORY_PHASE]]
        for source in dict.fromkeys(sources):
            jobs = source(self.small, random.Random(self.seed))  # noqa: S311
            probes += self._send(jobs, self.sizes.probes, C1, f"{source.__name__} (1,000 people)")
        connection = connection_of(self.small)
        people = self.small.pool("saml")[: self.sizes.probes]
        responses = saml.signed_responses(idp, connection, people)
        probes += self._send(
            scenarios.saml_acs(self.small, responses), len(responses), C1, "saml_acs (1,000 people)"
        )
        small = Results()
        small.record(probes, C1, "")
        self.results.helpers += small.helpers
        self.results.small_queries = {
            key: measurement.queries() for key, measurement in small.measurements.items()
        }

    # --- the sustained mixed run ----------------------------------------------------------

    def _mixed(self) -> None:
        """Both big organisations at once, each at a fixed rate, for a fixed time; the first
        seconds warm up and are left out."""
        rate, warm_up = self.sizes.mixed_rate, self.sizes.mixed_warm_up_seconds
        total = warm_up + self.sizes.mixed_seconds
        schedule: list[tuple[float, Request]] = []
        for number, tenant in enumerate((self.big, self.other)):
            requests = scenarios.mixed(tenant, random.Random(self.seed + number))  # noqa: S311
            for step in range(int(total * rate)):
                # The two tenants interleave, half an interval apart.
                due = (step + number / 2) / rate
                request = next(requests)
                label = tenant.slug if due >= warm_up else ""
                schedule.append((due, dataclasses.replace(request, label=label)))
        schedule.sort(key=lambda item: item[0])
        self.results.mixed_seconds = self.sizes.mixed_seconds
        with progress.bar(len(schedule), "mixed run", "request") as bar:
            samples = asyncio.run(
                open_loop(schedule, port=self.server.port, on_sample=lambda _: bar.update(1))
            )
        for sample in samples:
            if not sample.label:
                self.results.helpers.append(sample)  # warm-up: its errors still count
                continue
            for key in (sample.label, "both"):
                measurement = self.results.mixed.setdefault(
                    key, Measurement(key=f"mixed_{key}", concurrency=0, floor="")
                )
                measurement.samples.append(sample)
