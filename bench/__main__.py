"""python -m bench: build the benchmark database, start the server, measure, judge, report.

python -m bench                      # the full run: 100,000 people per organisation
python -m bench --users 2000 --smoke # CI: a few requests each, query-count budgets only
python -m bench --scale 100000,1000000 --many-organisations 1000x1000  # issue 19 (bench.scale)
"""

import argparse
import os
import platform
import random
import secrets
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

from bench import database, progress, scale
from bench.server import HOST, free_port

DEFAULT_POSTGRES = "postgres://root@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--users", type=int, help="people per organisation (default 100000; not with --scale)"
    )
    parser.add_argument(
        "--scale",
        metavar="SIZES",
        help="the scale mode: the size-sensitive requests at each of these sizes (people per"
        " organisation, separated by commas, e.g. 100000,1000000) in one run, each in a database"
        " of its own named DATABASE_<size>; budgets on how each grows",
    )
    parser.add_argument(
        "--many-organisations",
        metavar="ORGANISATIONSxPEOPLE",
        help="with --scale: at the largest size, also measure one organisation alone and then"
        " beside that many others of that many people, e.g. 1000x1000",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few requests per endpoint; judge query counts and errors only, not timing",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="any database of the PostgreSQL server to create the bench database on "
        "(default: $BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument(
        "--database",
        help="its name (default: auzlearn_bench[_smoke]; with --scale, the prefix of each size's"
        " database, default auzlearn_bench_scale)",
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the bench database of an earlier --keep-db run of the same --users, if there",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument(
        "--progress", action="store_true", help="progress bars even when stderr is not a terminal"
    )
    parser.add_argument("--seed", type=int, default=6, help="random seed of the data and requests")
    args = parser.parse_args(argv)
    if args.scale is not None:
        if args.users is not None:
            parser.error("--users and --scale do not go together: --scale names the sizes")
        try:
            args.scale = scale.parse_sizes(args.scale)
            if args.many_organisations is not None:
                args.many_organisations = scale.parse_many(args.many_organisations)
        except ValueError as error:
            parser.error(str(error))
        return args
    if args.many_organisations is not None:
        parser.error("--many-organisations is measured in the scale mode: add --scale")
    args.users = 100_000 if args.users is None else args.users
    if args.users < 1_000:
        parser.error("--users must be at least 1000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.progress:
        progress.force()
    if args.scale is not None:
        return _scale(args)
    began = time.monotonic()
    load = os.getloadavg()[0]
    started = datetime.now(UTC).replace(microsecond=0)
    name = args.database or ("auzlearn_bench_smoke" if args.smoke else "auzlearn_bench")
    port = free_port()
    # Production settings (DEBUG off) with bench secrets; read by this process and gunicorn's.
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        SCIM_KEY_SECRET=secrets.token_urlsafe(48),
        PUBLIC_BASE_URL=f"http://{HOST}:{port}",
        DATABASE_URL=database.database_url(args.postgres, name),
    )
    reuse = args.reuse_db and database.exists(args.postgres, name)
    if not reuse:
        database.recreate(args.postgres, name)
    django.setup()
    try:
        return _run(args, port, reuse, started, began, load)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep_db or args.reuse_db):
            database.drop(args.postgres, name)


def _run(
    args: argparse.Namespace, port: int, reuse: bool, started: datetime, began: float, load: float
) -> int:
    # Django is set up: these import models.
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from bench import budgets, layout, machine, populate, report, saml, tenants
    from bench.measure import Runner, Sizes
    from bench.server import Server

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # as on deploy (README)
    plans = layout.plans(args.users)
    if reuse and populate.is_loaded(plans):
        print(f"Reusing the loaded database ({args.users:,} people per organisation).")
    else:
        if reuse:
            raise SystemExit("The database to reuse holds other data; run without --reuse-db.")
        rng = random.Random(args.seed)  # noqa: S311 (test data, not security)
        for plan in plans:
            populate.load(plan, rng)
    populate.analyse()
    idp = saml.identity_provider()
    big = tenants.prepare(plans[0], idp)
    other = tenants.prepare(plans[1], None)
    small = tenants.prepare(plans[2], idp)
    connections.close_all()
    conn_max_age = settings.DATABASES["default"].get("CONN_MAX_AGE")
    connect_ms = database.connect_seconds(os.environ["DATABASE_URL"]) * 1000

    report.RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"bench-{args.users}-{started:%Y%m%d-%H%M%S}"
    log = report.RESULTS_DIR / f"{stem}-gunicorn.log"
    with Server(port, dict(os.environ), log) as server:
        cpu_before, measuring = machine.snapshot(), time.monotonic()
        results = Runner(server, big, small, other, Sizes(smoke=args.smoke), args.seed).run(idp)
        cpu = machine.describe(machine.snapshot() - cpu_before, time.monotonic() - measuring)
    connections.close_all()

    verdicts = budgets.evaluate(results, people=args.users, smoke=args.smoke)
    info = report.RunInfo(
        people=args.users,
        smoke=args.smoke,
        command=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        started=started.isoformat().replace("+00:00", "Z"),
        commit=_commit(),
        machine=f"{_machine()}; load average {load:.2f} before the run",
        postgres=database.server_version(args.postgres),
        postgres_connect_ms=connect_ms,
        conn_max_age=conn_max_age,
        cpu=cpu,
        duration_seconds=time.monotonic() - began,
    )
    text = report.markdown(info, results, verdicts)
    for path in (report.RESULTS_DIR / f"{stem}.md", report.RESULTS_DIR / "latest.md"):
        path.write_text(text)
    for path in (report.RESULTS_DIR / f"{stem}.png", report.RESULTS_DIR / "latest.png"):
        report.plot(info, results, path)
    print(text)
    print(f"Written: {report.RESULTS_DIR / stem}.md and .png (server log: {log.name})")
    print(report.terminal(verdicts))
    return 1 if any(verdict.passed is False for verdict in verdicts) else 0


def _scale(args: argparse.Namespace) -> int:
    """The scale mode (bench.scale): each size in a process of its own, then the growth
    budgets, the table and the plot here."""
    began = time.monotonic()
    load = os.getloadavg()[0]
    started = datetime.now(UTC).replace(microsecond=0)
    sizes: list[int] = args.scale
    base = args.database or "auzlearn_bench_scale"
    stem = scale.results_stem(sizes, f"{started:%Y%m%d-%H%M%S}")
    jobs = [
        scale.SizeJob(
            people=size,
            database=f"{base}_{size}",
            postgres=args.postgres,
            smoke=args.smoke,
            seed=args.seed,
            reuse=args.reuse_db,
            keep=args.keep_db or args.reuse_db,
            progress=args.progress,
            log_stem=stem,
            many=args.many_organisations if size == sizes[-1] else None,
        )
        for size in sizes
    ]
    # This process only orchestrates and reports: the settings are needed to receive the
    # results (their classes import the models), not a database.
    os.environ.update(scale.environment(0, args.postgres))
    django.setup()
    from bench import growth, report

    outcomes = scale.run_sizes(jobs)

    runs = {outcome.people: outcome.results for outcome in outcomes}
    last = outcomes[-1]
    many = None
    if last.alone is not None and last.among is not None and args.many_organisations:
        organisations, people = args.many_organisations
        many = growth.Many(organisations, people, last.alone, last.among)
    verdicts = growth.evaluate(runs, many, smoke=args.smoke)
    info = report.ScaleInfo(
        sizes=sizes,
        smoke=args.smoke,
        command=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        started=started.isoformat().replace("+00:00", "Z"),
        commit=_commit(),
        machine=f"{_machine()}; load average {load:.2f} before the run",
        postgres=database.server_version(args.postgres),
        duration_seconds=time.monotonic() - began,
        loads=[scale.describe_load(outcome) for outcome in outcomes],
        cpu=[
            f"at {outcome.people:,}: {outcome.cpu}; opening a PostgreSQL connection (each request"
            f" does) {outcome.connect_ms:.1f} ms"
            for outcome in outcomes
        ],
        many=args.many_organisations,
    )
    pair = (many.alone, many.among) if many else None
    text = report.scale_markdown(info, runs, pair, verdicts)
    report.RESULTS_DIR.mkdir(exist_ok=True)
    for path in (report.RESULTS_DIR / f"{stem}.md", report.RESULTS_DIR / "scale-latest.md"):
        path.write_text(text)
    for path in (report.RESULTS_DIR / f"{stem}.png", report.RESULTS_DIR / "scale-latest.png"):
        report.scale_plot(info, runs, pair, path)
    print(text)
    print(f"Written: {report.RESULTS_DIR / stem}.md and .png")
    print(report.terminal(verdicts))
    return 1 if any(verdict.passed is False for verdict in verdicts) else 0


def _commit() -> str:
    def git(*words: str) -> str:
        done = subprocess.run(  # noqa: S603 (fixed arguments)
            ["git", *words],  # noqa: S607 (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" with uncommitted changes" if git("status", "--porcelain") else "")


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, Linux {platform.release()},"
        f" Python {platform.python_version()}"
    )


if __name__ == "__main__":
    sys.exit(main())
