"""python -m bench.profile: where a hot path's time goes, sampled in the running server.

Issue 15 asks to profile before changing anything. This runs one scenario of bench.scenarios
against the database an earlier ``make bench BENCH_ARGS="--keep-db"`` left (same --users), under
the same gunicorn as the benchmark, while py-spy samples both workers. It writes each worker's
collapsed stacks (what a flame graph is drawn from) to bench/results/ and prints where the
workers' time went: the share of the samples spent in each layer (waiting for PostgreSQL, DRF, our
rendering...) and the functions that take the most time themselves.

    python -m bench.profile filter_by_username
    python -m bench.profile create_user --jobs 1000 --concurrency 2
"""

import argparse
import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import django

from bench import database, scale
from bench.__main__ import DEFAULT_POSTGRES
from bench.server import free_port

# Where a sample is attributed (layer_of), by the files of its stack's frames: to the first
# layer, the database driver, when any frame is the driver's (a wait for PostgreSQL inside DRF is
# the database's); else to the layer of the innermost frame that belongs to one of the others.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("psycopg: waiting for PostgreSQL, reading its rows", ("(psycopg/", "(psycopg_c/")),
    ("Django ORM: building SQL, making objects", ("(django/db/",)),
    ("JSON and rendering", ("json/encoder", "json/decoder", "orjson", "(scim/rendering.py")),
    ("auzlearn: scim/, accounts/, sso/", ("(scim/", "(accounts/", "(sso/", "(auzlearn/")),
    ("DRF: request, parsing, negotiation", ("(rest_framework/",)),
    ("Django: handler, middleware, URL routing", ("(django/",)),
    ("gunicorn: socket, parsing HTTP", ("(gunicorn/",)),
]
OTHER = "other (interpreter, stdlib)"
TOP = 25


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", help="a function of bench.scenarios, e.g. filter_by_username")
    parser.add_argument("--users", type=int, default=100_000, help="as the --keep-db run had")
    parser.add_argument("--jobs", type=int, default=2_000, help="measured jobs (default 2000)")
    parser.add_argument("--concurrency", type=int, default=2, help="clients (default 2)")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--database", default="auzlearn_bench")
    parser.add_argument("--seed", type=int, default=6)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not database.exists(args.postgres, args.database):
        raise SystemExit(
            f'No database {args.database}: run make bench BENCH_ARGS="--keep-db" first.'
        )
    port = free_port()
    os.environ.update(scale.environment(port, database.database_url(args.postgres, args.database)))
    django.setup()
    from bench import scenarios  # imports the models: after setup

    source = getattr(scenarios, args.scenario, None)
    if not callable(source):
        raise SystemExit(f"bench.scenarios has no scenario {args.scenario!r}")
    return _profile(args, source, port)


def _profile(args: argparse.Namespace, source: object, port: int) -> int:
    from django.core.management import call_command
    from django.db import connections

    from bench import layout, populate, report, saml, tenants
    from bench.loadgen import closed_loop
    from bench.server import Server

    call_command("collectstatic", "--noinput", verbosity=0)
    plans = layout.plans(args.users)
    if not populate.is_loaded(plans):
        raise SystemExit(f"{args.database} does not hold the organisations of --users {args.users}")
    big = tenants.prepare(plans[0], saml.identity_provider())
    connections.close_all()
    stem = f"profile-{args.scenario}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    report.RESULTS_DIR.mkdir(exist_ok=True)
    log = report.RESULTS_DIR / f"{stem}-gunicorn.log"
    jobs = source(big, random.Random(args.seed))  # type: ignore[operator]  # noqa: S311

    def send(count: int) -> None:
        asyncio.run(
            closed_loop(itertools.islice(jobs, count), port=port, concurrency=args.concurrency)
        )

    with Server(port, dict(os.environ), log) as server:
        send(100)  # warm-up: imports, caches, the first connections
        pids = server.worker_pids()
        spies = [_spy(pid, report.RESULTS_DIR / f"{stem}-{pid}", args.rate) for pid in pids]
        try:
            send(args.jobs)
        finally:
            for spy, _ in spies:
                spy.send_signal(signal.SIGINT)  # py-spy writes its files on SIGINT
            for spy, _ in spies:
                spy.wait(timeout=60)
    stacks = Counter[str]()
    for _, raw in spies:
        stacks.update(_collapsed(raw.read_text()))
    text = summary(args.scenario, stacks, args.jobs)
    (report.RESULTS_DIR / f"{stem}.txt").write_text(text)
    print(text)
    print(f"Written: {report.RESULTS_DIR / stem}.txt, and each worker's collapsed stacks in")
    print(f"{stem}-<pid>.txt (speedscope, inferno or flamegraph.pl draw them as a flame graph).")
    return 0


def _spy(pid: int, stem: Path, rate: int) -> tuple[subprocess.Popen[bytes], Path]:
    """py-spy on one worker, writing its collapsed stacks."""
    raw = stem.with_suffix(".txt")
    command = [
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
        "--rate", str(rate), "--format", "raw", "--output", str(raw), "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), raw  # noqa: S603


def _collapsed(text: str) -> Counter[str]:
    """py-spy's raw format: one line per distinct stack, frames outermost first separated by
    semicolons, then a space and the number of samples."""
    stacks = Counter[str]()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def layer_of(frames: list[str]) -> str:
    """The layer a sample is spent in: the database's when PostgreSQL is being waited for
    anywhere in the stack, else the innermost frame that belongs to a named layer (time in the
    standard library counts for the layer that called it)."""
    database, *rest = LAYERS
    if any(marker in frame for frame in frames for marker in database[1]):
        return database[0]
    for frame in reversed(frames):
        for name, markers in rest:
            if any(marker in frame for marker in markers):
                return name
    return OTHER


def summary(scenario: str, stacks: Counter[str], jobs: int) -> str:
    total = sum(stacks.values())
    if total == 0:
        return f"{scenario}: py-spy took no samples (is ptrace allowed here?)\n"
    layers = Counter[str]()
    own = Counter[str]()
    for stack, count in stacks.items():
        frames = [frame for frame in stack.split(";") if frame]
        layers[layer_of(_request_part(frames))] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"# Profile of {scenario}: {jobs:,} jobs, {total:,} samples in the workers", ""]
    lines += ["| where the time went | share |", "|---|--:|"]
    lines += [f"| {name} | {count / total:.1%} |" for name, count in layers.most_common()]
    lines += ["", f"Functions taking the most time themselves (top {TOP}):", ""]
    lines += ["| function | share |", "|---|--:|"]
    lines += [f"| `{name}` | {count / total:.1%} |" for name, count in own.most_common(TOP)]
    return "\n".join(lines) + "\n"


def _request_part(frames: Iterable[str]) -> list[str]:
    """The frames from Django's handler inwards, when there is one: gunicorn's own frames are
    around every request and would otherwise claim it."""
    frames = list(frames)
    for index, frame in enumerate(frames):
        if "django/core/handlers" in frame:
            return frames[index:]
    return frames


if __name__ == "__main__":
    sys.exit(main())
