"""The budgets of the scale mode (issue 19, bench.scale): how the cost of each size-sensitive
request grows from the smallest directory measured to the largest, and what a thousand other
organisations cost one organisation's requests. Pure functions of the measurements, each
budget a line as in bench.budgets; ratios of p50s measured in one run.

A smoke run judges only what does not depend on timing: the number of statements of each
request at every size, and that every response was the one expected.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bench.budgets import Verdict
from bench.measure import Results
from bench.stats import Measurement

# (key, what, largest ÷ smallest p50 at most): issue 19, item 7.
GROWTH_BUDGETS: tuple[tuple[str, str, float], ...] = (
    ("users_filter", 'filter userName eq "…"', 1.2),
    ("users_get", "GET /Users/{id}", 1.2),
    ("users_first_page", "list, first page of 100", 1.25),
    ("group_get_members", "GET of the 10,000-member group", 1.25),
)
LAST_PAGE_OVER_FIRST = 2.0  # at the largest size (item 2)
# Growth shown for reference, never judged: the deep page on its own, and the floor, which
# says how much of any growth is the machine's rather than the directory's.
REFERENCE_GROWTH: tuple[tuple[str, str], ...] = (
    ("users_last_page", "list, last page of 100"),
    ("floor_c2", "the floor (one indexed lookup, no SCIM): the machine, not the directory"),
)
# One organisation's requests beside a thousand others, against the same alone (item 6).
MANY_BUDGETS: tuple[tuple[str, str], ...] = (
    ("users_filter", 'filter userName eq "…"'),
    ("users_get", "GET /Users/{id}"),
    ("users_first_page", "list, first page of 100"),
    ("users_last_page", "list, last page of 100"),
)
MANY_LIMIT = 1.2


@dataclass(frozen=True)
class Many:
    """The organisation measured alone, then beside ``organisations`` others of ``people``."""

    organisations: int
    people: int
    alone: Results
    among: Results


def growth(runs: Mapping[int, Results], key: str) -> tuple[float, float, float] | None:
    """(largest ÷ smallest, smallest p50, largest p50) of one row, or None if not measured at
    both ends."""
    smallest, largest = runs[min(runs)], runs[max(runs)]
    if key not in smallest.measurements or key not in largest.measurements:
        return None
    low, high = smallest.measurements[key].p50, largest.measurements[key].p50
    return high / low, low, high


def evaluate(runs: Mapping[int, Results], many: Many | None, *, smoke: bool) -> list[Verdict]:
    low, high = min(runs), max(runs)
    span = f"{low:,} to {high:,} people"
    verdicts = []
    for key, what, limit in GROWTH_BUDGETS:
        verdicts.append(
            _growth(runs, key, f"{what}: growth from {span} ≤ {limit}x (p50)", limit, smoke)
        )
    verdicts.append(_last_page(runs[high], high, smoke))
    verdicts.append(_same_queries(runs))
    for key, what in REFERENCE_GROWTH:
        verdicts.append(
            _information(_growth(runs, key, f"{what}: growth from {span}", math.inf, smoke))
        )
    for key, what, _ in GROWTH_BUDGETS:
        verdicts.append(_information(_growth_over_floor(runs, key, what, span)))
    verdicts.append(_information(_mixed_p95(runs)))
    verdicts.append(_mixed_errors(runs))
    if many is not None:
        verdicts += _many(many, smoke)
    verdicts.append(_as_expected(runs, many))
    return verdicts


def _growth(
    runs: Mapping[int, Results], key: str, budget: str, limit: float, smoke: bool
) -> Verdict:
    found = growth(runs, key)
    if found is None:
        return Verdict(budget, "not measured", False)
    ratio, low, high = found
    measured = f"{ratio:.2f}x ({_ms(low)} at {min(runs):,}, {_ms(high)} at {max(runs):,})"
    return Verdict(budget, measured, None if smoke else ratio <= limit)


def _growth_over_floor(runs: Mapping[int, Results], key: str, what: str, span: str) -> Verdict:
    """How the request's ratio to the floor measured alongside it (bench.measure) grew: the
    growth that is the request's own, once the machine's (the floor's: a bigger database in the
    same memory, a busier CPU) is taken out."""
    budget = f"{what}, over the floor paired with it: growth from {span}"
    smallest, largest = runs[min(runs)].measurements, runs[max(runs)].measurements
    if key not in smallest or key not in largest:
        return Verdict(budget, "not measured", None)
    floors = smallest[key].floor, largest[key].floor
    if floors[0] not in smallest or floors[1] not in largest:
        return Verdict(budget, "no paired floor", None)
    low = smallest[key].p50 / smallest[floors[0]].p50
    high = largest[key].p50 / largest[floors[1]].p50
    return Verdict(
        budget,
        f"{high / low:.2f}x ({low:.2f}x the floor at {min(runs):,}, {high:.2f}x at {max(runs):,})",
        None,
    )


def _last_page(results: Results, people: int, smoke: bool) -> Verdict:
    budget = f"list, last page ≤ {LAST_PAGE_OVER_FIRST:g}x the first page at {people:,} (p50)"
    m = results.measurements
    if "users_last_page" not in m or "users_first_page" not in m:
        return Verdict(budget, "not measured", False)
    last, first = m["users_last_page"].p50, m["users_first_page"].p50
    measured = f"{last / first:.2f}x ({_ms(last)} vs {_ms(first)})"
    return Verdict(budget, measured, None if smoke else last / first <= LAST_PAGE_OVER_FIRST)


def _same_queries(runs: Mapping[int, Results]) -> Verdict:
    """Every request's usual number of statements the same at every size: a statement that
    appears only in a large directory (a fallback, a second page of something) shows here
    even in the smoke run."""
    budget = "queries per request the same at every size"
    sizes = sorted(runs)
    keys = sorted({key for results in runs.values() for key in results.measurements})
    differing = []
    for key in keys:
        counts = [
            runs[size].measurements[key].queries() if key in runs[size].measurements else {}
            for size in sizes
        ]
        if any(count != counts[0] for count in counts):
            differing.append(f"{key}: " + " vs ".join(_counts(c) for c in counts))
    if not keys:
        return Verdict(budget, "not measured", False)
    if differing:
        return Verdict(budget, "; ".join(differing), False)
    return Verdict(budget, f"{len(keys)} requests, each the same at {len(sizes)} sizes", True)


def _mixed_p95(runs: Mapping[int, Results]) -> Verdict:
    budget = "mixed Okta-like run, both tenants at their fixed rate: p95 at each size"
    found = {size: results.mixed.get("both") for size, results in runs.items()}
    if any(measurement is None or not measurement.samples for measurement in found.values()):
        return Verdict(budget, "not measured", None)
    p95 = {size: measurement.p95 for size, measurement in found.items() if measurement}
    low, high = min(p95), max(p95)
    measured = ", ".join(f"{_ms(value)} at {size:,}" for size, value in sorted(p95.items()))
    return Verdict(budget, f"{measured}; growth {p95[high] / p95[low]:.2f}x", None)


def _mixed_errors(runs: Mapping[int, Results]) -> Verdict:
    budget = "mixed run: 0 errors at every size"
    parts, errors = [], 0
    for size, results in sorted(runs.items()):
        both = results.mixed.get("both")
        if both is None:
            return Verdict(budget, f"not measured at {size:,}", False)
        errors += len(both.errors)
        parts.append(f"{len(both.errors)} of {len(both.samples)} at {size:,}")
    return Verdict(budget, ", ".join(parts), errors == 0)


def _many(many: Many, smoke: bool) -> list[Verdict]:
    beside = f"beside {many.organisations:,} organisations of {many.people:,}"
    verdicts = []
    for key, what in MANY_BUDGETS:
        budget = f"one organisation's {what} {beside} ≤ {MANY_LIMIT}x alone (p50)"
        alone, among = many.alone.measurements.get(key), many.among.measurements.get(key)
        if alone is None or among is None:
            verdicts.append(Verdict(budget, "not measured", False))
            continue
        ratio = among.p50 / alone.p50
        measured = f"{ratio:.2f}x ({_ms(among.p50)} vs {_ms(alone.p50)} alone)"
        verdicts.append(Verdict(budget, measured, None if smoke else ratio <= MANY_LIMIT))
    alone_queries = {key: m.queries() for key, m in many.alone.measurements.items()}
    among_queries = {key: m.queries() for key, m in many.among.measurements.items()}
    verdicts.append(
        Verdict(
            f"one organisation's queries per request the same {beside} as alone",
            "the same" if alone_queries == among_queries else f"{among_queries} vs {alone_queries}",
            bool(alone_queries) and alone_queries == among_queries,
        )
    )
    floor_alone = many.alone.measurements.get("floor_c2")
    floor_among = many.among.measurements.get("floor_c2")
    if floor_alone is not None and floor_among is not None:
        verdicts.append(
            _information(
                Verdict(
                    f"the floor {beside}, against alone (the machine, not the request)",
                    f"{floor_among.p50 / floor_alone.p50:.2f}x",
                    None,
                )
            )
        )
    return verdicts


def _as_expected(runs: Mapping[int, Results], many: Many | None) -> Verdict:
    everything = list(runs.values()) + ([many.alone, many.among] if many else [])
    samples = [
        sample
        for results in everything
        for measurement in results.measurements.values()
        for sample in measurement.samples
    ] + [sample for results in everything for sample in results.helpers]
    errors = [sample for sample in samples if not sample.ok]
    measured = f"{len(errors)} unexpected of {len(samples)}"
    if errors:
        measured += f"; first: {errors[0].error[:200]}"
    return Verdict("every response outside the mixed runs as expected", measured, not errors)


def _information(verdict: Verdict) -> Verdict:
    return Verdict(verdict.budget, verdict.measured, None, informational=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _counts(queries: dict[str, int]) -> str:
    if not queries:
        return "none"
    if list(queries) == [""]:
        return str(queries[""])
    return "/".join(f"{count} {variant}" for variant, count in sorted(queries.items()))


def row(measurement: Measurement | None) -> tuple[float, float]:
    """(p50, p95) in seconds, NaN when not measured."""
    if measurement is None or not measurement.samples:
        return math.nan, math.nan
    return measurement.p50, measurement.p95
