"""The results of a run: a markdown table and a PNG plot in bench/results/, and the same table
and the budgets on the terminal."""

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib import ticker

from bench import layout
from bench.budgets import MB, Verdict
from bench.measure import Results
from bench.stats import Measurement, percentile

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def titles(people: int) -> dict[str, str]:
    """What each row measures, in the order of the table."""
    big = f"{len(layout.big_team_members(people)):,}"
    return {
        "floor_c2": "floor: one indexed userName lookup, tiny JSON",
        "users_filter": 'GET /Users?filter=userName eq "…" (hit/miss, mixed case)',
        "users_get": "GET /Users/{id} (anyone)",
        "users_first_page": "GET /Users?startIndex=1&count=100",
        "users_last_page": f"GET /Users?startIndex={people - 99:,}&count=100 (last page)",
        "group_get_excluded": f"GET /Groups/{{id}}?excludedAttributes=members ({big} members)",
        "users_post": "POST /Users",
        "users_put": "PUT /Users/{id}",
        "users_deactivate": 'PATCH /Users/{id} {"active": false}',
        "users_reactivate": 'PATCH /Users/{id} {"active": true}',
        "floor_c1": "floor: one indexed userName lookup, tiny JSON",
        "group_add_1": "PATCH /Groups/{id} add 1 member",
        "group_add_256": "PATCH /Groups/{id} add 256 members",
        "group_remove_1_of_big": f"PATCH /Groups/{{id}} remove 1 of {big} members",
        "group_remove_1_of_10": "PATCH /Groups/{id} remove 1 of 10 members",
        "group_get_members": f"GET /Groups/{{id}} with {big} members",
        "saml_bare": "python3-saml is_valid, in-process (the ACS's floor)",
        "saml_validation": "sso.validation.validate, in-process (the ACS's own checks)",
        "saml_acs": "POST SAML ACS: validate, sign in, redirect",
    }


@dataclass(frozen=True)
class RunInfo:
    people: int
    smoke: bool
    command: str
    started: str  # UTC, ISO 8601
    commit: str
    machine: str
    postgres: str
    postgres_connect_ms: float  # opening one connection, p50
    conn_max_age: int | None  # the product's CONN_MAX_AGE: 0 opens a connection per request
    cpu: str  # who used the CPUs while measuring (bench.machine)
    duration_seconds: float


def markdown(info: RunInfo, results: Results, verdicts: list[Verdict]) -> str:
    m = results.measurements
    lines = [
        f"# auzlearn benchmark: {info.people:,} people per organisation"
        + (" (smoke run: query counts only)" if info.smoke else ""),
        "",
        f"- started {info.started}, took {info.duration_seconds / 60:.1f} min;"
        f" commit {info.commit}",
        f"- `{info.command}`",
        f"- {info.machine}; PostgreSQL {info.postgres}; gunicorn with 2 sync workers, DEBUG off",
        f"- {info.cpu}",
        f"- CONN_MAX_AGE {info.conn_max_age}: {_connections(info)}",
        "- latencies in ms as the client saw them over loopback (in worker: inside Django, from"
        " bench.middleware); x floor = p50 ÷ the p50 of the floor measured alongside it (each"
        " client sends a floor request before each of the endpoint's; that floor's p50 follows"
        ' "of"); req/s ='
        " clients ÷ mean latency (the ACS is compared with its in-process floor by its time in the"
        " worker); queries/request: the usual count (mode), and the same request"
        " against the organisation of 1,000 people",
        "",
        "| endpoint | clients | requests | req/s | p50 | p95 | in worker p50 | queries/request"
        " | at 1,000 people | x floor |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for key, title in titles(info.people).items():
        if key not in m:
            continue
        row = m[key]
        small = results.small_queries.get(key)
        ratio = "-"
        if row.floor in m:
            ratio = f"{_ratio(results, row):.2f}x"
            if row.floor.startswith("floor@"):
                ratio += f" of {_ms(m[row.floor].p50)}"
        lines.append(
            f"| {title} | {row.concurrency} | {len(row.samples)} | {row.requests_per_second:.0f}"
            f" | {_ms(row.p50)} | {_ms(row.p95)} | {_ms(row.server_p50)} | {row.queries_text()}"
            f" | {_counts(small)} | {ratio} |"
        )
    lines += ["", _memory_line(results), "", *_mixed_table(results), "", "## Budgets", ""]
    lines += ["| budget | measured | result |", "|---|---|---|"]
    lines += [f"| {v.budget} | {v.measured} | **{v.status}** |" for v in verdicts]
    return "\n".join(lines) + "\n"


def _ratio(results: Results, row: Measurement) -> float:
    """p50 over the floor's p50; the ACS's floor runs in-process, so the ACS is compared by its
    time inside the worker."""
    floor = results.measurements[row.floor]
    if row.floor == "saml_bare":
        return row.server_p50 / floor.server_p50
    return row.p50 / floor.p50


def _connections(info: RunInfo) -> str:
    if info.conn_max_age == 0:
        return (
            "every request opens a new PostgreSQL connection, which takes"
            f" {info.postgres_connect_ms:.1f} ms here (p50, connect + first query + close)"
        )
    return f"connections are kept; opening one takes {info.postgres_connect_ms:.1f} ms here"


def _memory_line(results: Results) -> str:
    if results.memory_growth is None:
        return ""
    return (
        "Worker memory while serving the big team: peak resident size grew by "
        f"{results.memory_growth / MB:.1f} MB (largest of the two workers, /proc VmHWM)."
    )


def _mixed_table(results: Results) -> list[str]:
    if not results.mixed:
        return []
    lines = [
        "Sustained mixed run (open loop, fixed rate per tenant; latency counted from when each"
        " request was due):",
        "",
        "| tenant | requests | req/s sent | p50 | p95 | errors |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for key, row in results.mixed.items():
        span = results.mixed_seconds
        rate = f"{len(row.samples) / span:.1f}" if span else "-"
        lines.append(
            f"| {key} | {len(row.samples)} | {rate} | {_ms(row.p50)} | {_ms(row.p95)}"
            f" | {len(row.errors)} |"
        )
    both = results.mixed.get("both")
    if both is not None:
        kinds = sorted({sample.variant for sample in both.samples})
        by_kind = {
            kind: [sample.seconds for sample in both.samples if sample.variant == kind]
            for kind in kinds
        }
        lines += [
            "",
            "p95 by kind of request, both tenants: "
            + ", ".join(
                f"{kind} {_ms(percentile(seconds, 0.95))}" for kind, seconds in by_kind.items()
            ),
        ]
    return lines


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _counts(queries: dict[str, int] | None) -> str:
    if not queries:
        return "-"
    if list(queries) == [""]:
        return str(queries[""])
    return " · ".join(f"{count} ({variant})" for variant, count in sorted(queries.items()))


def plot(info: RunInfo, results: Results, path: Path) -> None:
    """Each endpoint's latency distribution beside the floor it is compared with, on a log
    scale: the box spans p25 to p75 with the median marked, the whiskers p5 and p95; floors in
    grey."""
    rows = [
        (title, results.measurements[key])
        for key, title in titles(info.people).items()
        if key in results.measurements and results.measurements[key].samples
    ]
    figure, axes = plt.subplots(figsize=(11, 0.45 * len(rows) + 1.8))
    positions = list(range(len(rows)))[::-1]
    floors = {"floor_c1", "floor_c2", "saml_bare"}
    boxes = axes.boxplot(
        [[sample.seconds * 1000 for sample in row.samples] for _, row in rows],
        positions=positions,
        orientation="horizontal",
        whis=(5, 95),
        showfliers=False,
        patch_artist=True,
        widths=0.6,
        medianprops={"color": "black"},
    )
    for box, (_, row) in zip(boxes["boxes"], rows, strict=True):
        box.set_facecolor("#9e9e9e" if row.key in floors else "#3b6ea8")
    for position, (_, row) in zip(positions, rows, strict=True):
        if row.floor in results.measurements:
            axes.annotate(
                f"{_ratio(results, row):.1f}x floor",
                (row.p95 * 1000, position),
                xytext=(6, -3),
                textcoords="offset points",
                fontsize=8,
            )
    axes.set_yticks(positions, [f"{title} [x{row.concurrency}]" for title, row in rows], fontsize=8)
    axes.set_xscale("log")
    # Plain numbers at 1, 2 and 5 of each decade: matplotlib's default labels its minor ticks
    # as powers of ten that run into each other ("3x10^0 4x10^0").
    axes.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_xlim(right=max(row.p95 for _, row in rows) * 1000 * 3)  # room for the labels
    axes.set_xlabel(
        "latency, ms (log scale): box p25-p75 and median, whiskers p5-p95\n"
        "grey: floors; [xn]: concurrent clients"
    )
    axes.set_title(f"auzlearn at {info.people:,} people per organisation ({info.started})")
    axes.grid(axis="x", which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def terminal(verdicts: list[Verdict]) -> str:
    """The budgets, one per line, and a closing count."""
    lines = [f"{v.status}  {v.budget}: {v.measured}" for v in verdicts]
    counts = {
        status: sum(v.status == status for v in verdicts)
        for status in ("PASS", "FAIL", "SKIP", "INFO")
    }
    lines.append(
        f"bench budgets: {counts['PASS']} met, {counts['FAIL']} missed, "
        f"{counts['SKIP']} not judged in this mode; {counts['INFO']} shown for reference"
    )
    return "\n".join(lines)


# --- the scale mode (issue 19, bench.scale) -------------------------------------------------

# The rows of the scale table and plot, in order: key, what, where it was measured.
SCALE_ROWS: tuple[tuple[str, str], ...] = (
    ("floor_c2", "floor: one indexed userName lookup, tiny JSON [x2]"),
    ("users_filter", 'GET /Users?filter=userName eq "…" [x2]'),
    ("users_get", "GET /Users/{id} [x2]"),
    ("users_first_page", "GET /Users?startIndex=1&count=100 [x2]"),
    ("users_last_page", "GET /Users, last page of 100 [x2]"),
    ("floor_c1", "floor: one indexed userName lookup, tiny JSON [x1]"),
    ("group_get_members", "GET /Groups/{id}, the big team (members below) [x1]"),
)
MIXED_ROW = ("mixed", "mixed Okta-like run, both tenants at their rate (open loop)")


@dataclass(frozen=True)
class ScaleInfo:
    sizes: list[int]
    smoke: bool
    command: str
    started: str
    commit: str
    machine: str
    postgres: str
    duration_seconds: float
    loads: list[str]  # one line per size: what was loaded and how long it took
    cpu: list[str]  # one line per size (bench.machine)
    many: tuple[int, int] | None


def scale_markdown(
    info: ScaleInfo,
    runs: dict[int, Results],
    many: "tuple[Results, Results] | None",
    verdicts: list[Verdict],
) -> str:
    sizes = sorted(runs)
    lines = [
        "# auzlearn benchmark, scale mode: "
        + ", ".join(f"{size:,}" for size in sizes)
        + " people per organisation"
        + (" (smoke run: query counts only)" if info.smoke else ""),
        "",
        f"- started {info.started}, took {info.duration_seconds / 60:.1f} min;"
        f" commit {info.commit}",
        f"- `{info.command}`",
        f"- {info.machine}; PostgreSQL {info.postgres}; gunicorn with 2 sync workers, DEBUG off",
        *(f"- {line}" for line in info.loads),
        *(f"- {line}" for line in info.cpu),
        "- the big team: "
        + ", ".join(
            f"{len(layout.big_team_members(size)):,} members at {size:,}" for size in sizes
        ),
        "- each size in a database of its own, served by a fresh gunicorn; latencies in ms as the"
        " client saw them (p50 / p95); growth = p50 at the largest size ÷ p50 at the smallest;"
        " [xn]: concurrent clients",
        "",
        "| request | "
        + " | ".join(f"{size:,}: p50 / p95" for size in sizes)
        + " | queries/request | growth |",
        "|---|" + "--:|" * len(sizes) + "--:|--:|",
    ]
    for key, title in SCALE_ROWS:
        cells = []
        for size in sizes:
            measurement = runs[size].measurements.get(key)
            p50, p95 = _p50_p95(measurement)
            cells.append(f"{_ms(p50)} / {_ms(p95)}")
        counts = {
            runs[size].measurements[key].queries_text()
            for size in sizes
            if key in runs[size].measurements
        }
        low = runs[sizes[0]].measurements.get(key)
        high = runs[sizes[-1]].measurements.get(key)
        growth = f"{high.p50 / low.p50:.2f}x" if low and high else "-"
        lines.append(
            f"| {title} | " + " | ".join(cells) + f" | {' / '.join(sorted(counts)) or '-'}"
            f" | {growth} |"
        )
    mixed = [runs[size].mixed.get("both") for size in sizes]
    if all(mixed):
        cells = [f"{_ms(m.p50)} / {_ms(m.p95)}" for m in mixed if m]
        first, last = mixed[0], mixed[-1]
        growth = f"{last.p95 / first.p95:.2f}x (p95)" if first and last else "-"
        lines.append(f"| {MIXED_ROW[1]} | " + " | ".join(cells) + f" | - | {growth} |")
    if many is not None and info.many is not None:
        alone, among = many
        organisations, people = info.many
        lines += [
            "",
            f"One organisation of {layout.SMALL_ORGANISATION_PEOPLE:,} people, alone in its"
            f" database and then beside the big ones and {organisations:,} organisations of"
            f" {people:,} people:",
            "",
            "| request | alone: p50 / p95 | among many: p50 / p95 | queries/request | ratio |",
            "|---|--:|--:|--:|--:|",
        ]
        for key, title in SCALE_ROWS[:5]:
            one, other = alone.measurements.get(key), among.measurements.get(key)
            if one is None or other is None:
                continue
            lines.append(
                f"| {title} | {_ms(one.p50)} / {_ms(one.p95)} | {_ms(other.p50)} /"
                f" {_ms(other.p95)} | {other.queries_text()} | {other.p50 / one.p50:.2f}x |"
            )
    lines += ["", "## Budgets", "", "| budget | measured | result |", "|---|---|---|"]
    lines += [f"| {v.budget} | {v.measured} | **{v.status}** |" for v in verdicts]
    return "\n".join(lines) + "\n"


def _p50_p95(measurement: Measurement | None) -> tuple[float, float]:
    if measurement is None or not measurement.samples:
        return math.nan, math.nan
    return measurement.p50, measurement.p95


def scale_plot(
    info: ScaleInfo,
    runs: dict[int, Results],
    many: "tuple[Results, Results] | None",
    path: Path,
) -> None:
    """One panel per request: p50 and p95 against the directory's size (people on a log scale,
    milliseconds from zero), and a panel of the one organisation alone and among many when
    measured."""
    sizes = sorted(runs)
    panels: list[tuple[str, list[float], list[float]]] = []
    for key, title in SCALE_ROWS:
        pairs = [_p50_p95(runs[size].measurements.get(key)) for size in sizes]
        panels.append((title, [p50 * 1000 for p50, _ in pairs], [p95 * 1000 for _, p95 in pairs]))
    pairs = [_p50_p95(runs[size].mixed.get("both")) for size in sizes]
    panels.append((MIXED_ROW[1], [a * 1000 for a, _ in pairs], [b * 1000 for _, b in pairs]))
    count = len(panels) + (1 if many is not None else 0)
    columns = 3
    rows = math.ceil(count / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    axes_list = [axes for row in grid for axes in row]
    for axes, (title, p50, p95) in zip(axes_list, panels, strict=False):
        axes.plot(sizes, p50, marker="o", color="#3b6ea8", label="p50")
        axes.plot(sizes, p95, marker="^", color="#c0392b", linestyle="--", label="p95")
        for size, value in zip(sizes, p50, strict=True):
            if not math.isnan(value):
                axes.annotate(
                    f"{value:.0f}", (size, value), xytext=(4, 4), textcoords="offset points",
                    fontsize=7,
                )  # fmt: skip
        axes.set_xscale("log")
        axes.set_xticks(sizes, [_people(size) for size in sizes])
        axes.minorticks_off()
        axes.set_ylim(bottom=0)  # from zero, so that a line's slope is its growth
        growth = p50[-1] / p50[0] if p50[0] else math.nan
        axes.set_title(f"{title}\np50 growth {growth:.2f}x", fontsize=9)
        axes.set_xlabel("people per organisation", fontsize=8)
        axes.set_ylabel("ms", fontsize=8)
        axes.grid(which="both", alpha=0.3)
        axes.legend(fontsize=7)
    if many is not None and info.many is not None:
        axes = axes_list[len(panels)]
        alone, among = many
        keys = [key for key, _ in SCALE_ROWS[:5]]
        names = ["floor", "filter", "GET", "first page", "last page"]
        positions = list(range(len(keys)))
        for offset, (label, results, colour) in enumerate(
            (("alone", alone, "#9e9e9e"), ("among many", among, "#3b6ea8"))
        ):
            values = [_p50_p95(results.measurements.get(key))[0] * 1000 for key in keys]
            axes.bar(
                [p + offset * 0.4 - 0.2 for p in positions], values, 0.4, label=label, color=colour
            )
        organisations, people = info.many
        axes.set_xticks(positions, names, fontsize=8)
        axes.set_title(
            f"one organisation, alone and beside {organisations:,} of {people:,} (p50)", fontsize=9
        )
        axes.set_ylabel("ms", fontsize=8)
        axes.legend(fontsize=7)
    for axes in axes_list[count:]:
        axes.set_visible(False)
    figure.suptitle(f"auzlearn: cost against directory size ({info.started})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _people(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return f"{size:,}"
