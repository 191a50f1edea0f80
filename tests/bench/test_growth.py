"""The scale mode's budgets (bench.growth): growth from the smallest size to the largest, the
last page against the first, the many organisations against one alone."""

from collections.abc import Mapping

import pytest

from bench import growth
from bench.loadgen import Sample
from bench.measure import Results
from bench.stats import Measurement


def results(p50_ms: Mapping[str, float], *, queries: int = 5, mixed_ms: float = 20.0) -> Results:
    """Every sample of a row at the same latency, so that its p50 and p95 are that."""
    found = Results()
    for key, ms in p50_ms.items():
        measurement = Measurement(key=key, concurrency=2, floor="")
        measurement.samples = [Sample(key, "", 200, ms / 1000, queries) for _ in range(5)]
        found.measurements[key] = measurement
    both = Measurement(key="mixed_both", concurrency=0, floor="")
    both.samples = [Sample("bench-a", "filter", 200, mixed_ms / 1000, 5) for _ in range(5)]
    found.mixed["both"] = both
    return found


FLAT = {
    "floor_c2": 10,
    "users_filter": 16,
    "users_get": 17,
    "users_first_page": 80,
    "users_last_page": 100,
    "group_get_members": 300,
}


def by_budget(verdicts):
    return {verdict.budget.split(":")[0]: verdict for verdict in verdicts}


def test_flat_costs_pass():
    runs = {100_000: results(FLAT), 1_000_000: results(FLAT)}
    verdicts = growth.evaluate(runs, None, smoke=False)
    judged = [v for v in verdicts if not v.informational]
    assert judged and all(v.passed for v in judged), [v for v in judged if not v.passed]
    assert by_budget(verdicts)["list, first page of 100"].measured.startswith("1.00x")


def test_the_issues_measured_growth_fails_each_budget_it_broke():
    """The issue's figures at 100,000 and 1,000,000: the list pages and the big group fail,
    filter and GET pass."""
    large = {
        **FLAT,
        "users_filter": 17.4,
        "users_get": 17.9,
        "users_first_page": 275,
        "users_last_page": 488,
        "group_get_members": 777,
    }
    small = {
        **FLAT,
        "users_filter": 15.9,
        "users_get": 16.8,
        "users_first_page": 75.7,
        "users_last_page": 107,
        "group_get_members": 304,
    }
    verdicts = by_budget(
        growth.evaluate({100_000: results(small), 1_000_000: results(large)}, None, smoke=False)
    )
    assert verdicts['filter userName eq "…"'].passed is True
    assert verdicts["GET /Users/{id}"].passed is True
    assert verdicts["list, first page of 100"].passed is False
    assert verdicts["list, first page of 100"].measured.startswith("3.63x")
    assert verdicts["GET of the 10,000-member group"].passed is False
    last = next(v for v in verdicts.values() if v.budget.startswith("list, last page ≤ 2x"))
    assert last.passed is True  # 488 ÷ 275: deep pages are a separate budget from growth


def test_limits_are_inclusive_and_only_the_ends_count():
    small = {**FLAT, "users_filter": 10, "users_first_page": 80}
    middle = {**FLAT, "users_filter": 50, "users_first_page": 500}  # not judged
    large = {**FLAT, "users_filter": 12, "users_first_page": 100.1}
    verdicts = by_budget(
        growth.evaluate(
            {1_000: results(small), 5_000: results(middle), 9_000: results(large)},
            None,
            smoke=False,
        )
    )
    assert verdicts['filter userName eq "…"'].passed is True  # 1.2x exactly
    assert verdicts["list, first page of 100"].passed is False  # just over 1.25x


def test_last_page_over_twice_the_first_at_the_largest_size_fails():
    large = {**FLAT, "users_first_page": 100, "users_last_page": 201}
    verdicts = growth.evaluate({1_000: results(FLAT), 2_000: results(large)}, None, smoke=False)
    last = next(v for v in verdicts if v.budget.startswith("list, last page ≤"))
    assert last.passed is False and last.measured.startswith("2.01x")


def test_smoke_skips_timing_but_judges_statements_and_errors():
    runs = {2_000: results(FLAT, queries=5), 4_000: results(FLAT, queries=6)}
    verdicts = growth.evaluate(runs, None, smoke=True)
    timing = [v for v in verdicts if "growth from" in v.budget and not v.informational]
    assert timing and all(v.passed is None and v.status == "SKIP" for v in timing)
    queries = next(v for v in verdicts if v.budget.startswith("queries per request"))
    assert queries.passed is False and "users_filter: 5 vs 6" in queries.measured


def test_a_request_missing_at_one_size_fails_rather_than_passes():
    partial = {key: value for key, value in FLAT.items() if key != "users_get"}
    verdicts = by_budget(
        growth.evaluate({1_000: results(FLAT), 2_000: results(partial)}, None, smoke=False)
    )
    assert verdicts["GET /Users/{id}"].passed is False
    assert verdicts["GET /Users/{id}"].measured == "not measured"


def test_errors_fail_even_in_smoke():
    runs = {1_000: results(FLAT), 2_000: results(FLAT)}
    runs[2_000].measurements["users_get"].samples.append(
        Sample("users_get", "", 500, 0.01, 5, error="GET /Users/x: 500")
    )
    runs[1_000].mixed["both"].samples.append(Sample("bench-a", "put", 0, 1.0, None, "timeout"))
    verdicts = growth.evaluate(runs, None, smoke=True)
    expected = next(v for v in verdicts if v.budget.startswith("every response"))
    mixed = next(v for v in verdicts if v.budget.startswith("mixed run: 0 errors"))
    assert expected.passed is False and "500" in expected.measured
    assert mixed.passed is False and "1 of 6 at 1,000" in mixed.measured


@pytest.mark.parametrize(("among_ms", "passed"), [(19.2, True), (19.3, False)])
def test_many_organisations_within_one_point_two_times_alone(among_ms, passed):
    alone = results({**FLAT, "users_filter": 16})
    among = results({**FLAT, "users_filter": among_ms})
    many = growth.Many(1_000, 1_000, alone, among)
    runs = {1_000: results(FLAT), 2_000: results(FLAT)}
    verdicts = growth.evaluate(runs, many, smoke=False)
    found = next(v for v in verdicts if v.budget.startswith("one organisation's filter"))
    assert found.passed is passed
    assert "beside 1,000 organisations of 1,000" in found.budget
    assert next(v for v in verdicts if "queries per request the same beside" in v.budget).passed


def test_many_organisations_with_more_statements_fails():
    many = growth.Many(10, 1_000, results(FLAT, queries=5), results(FLAT, queries=7))
    runs = {1_000: results(FLAT), 2_000: results(FLAT)}
    verdicts = growth.evaluate(runs, many, smoke=True)
    found = next(v for v in verdicts if "queries per request the same beside" in v.budget)
    assert found.passed is False


def test_growth_over_the_paired_floor_takes_the_machines_growth_out():
    def sized(request_ms: float, floor_ms: float) -> Results:
        found = results({"users_filter": request_ms, "floor@filter_by_username": floor_ms})
        found.measurements["users_filter"].floor = "floor@filter_by_username"
        return found

    # The request grew 1.5x, but so did the floor beside it: none of it is the request's own.
    verdicts = growth.evaluate({100_000: sized(8, 4), 1_000_000: sized(12, 6)}, None, smoke=False)
    line = by_budget(verdicts)['filter userName eq "…", over the floor paired with it']
    assert line.status == "INFO"
    assert line.measured.startswith("1.00x (2.00x the floor at 100,000, 2.00x at 1,000,000)")
    grown = growth.evaluate({100_000: sized(8, 4), 1_000_000: sized(16, 4)}, None, smoke=False)
    assert by_budget(grown)[
        'filter userName eq "…", over the floor paired with it'
    ].measured.startswith("2.00x")
