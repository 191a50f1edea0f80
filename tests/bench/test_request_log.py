"""The request-log mode's pure parts (bench.request_log): its command line, how the entries are
shared out, the months of the partitioned copy, the SQL it rewrites and reads, the kinds of
request it loads, and its verdicts from given figures."""

import itertools
import json
from datetime import UTC, datetime

import pytest

from bench import layout
from bench import request_log as log
from scim.models import Outcome


def test_the_command_line_defaults_to_ten_million_entries():
    args = log.arguments([])
    assert (args.entries, args.organisations, args.people, args.days) == (
        10_000_000,
        4,
        20_000,
        60,
    )
    assert args.database == "auzlearn_bench_log"
    assert not (args.reuse_db or args.keep_db)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--entries", "999"], "--entries must be at least 1000"),
        (["--organisations", "0"], "--organisations must be at least 1"),
        (["--entries", "1000", "--organisations", "501"], "at least twice --organisations"),
        (["--people", "999"], "--people must be at least 1000"),
        (["--days", "30"], "--days must be more than 30"),
        (["--entries", "ten"], "invalid int value"),
    ],
)
def test_a_wrong_command_line_is_refused_with_a_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        log.arguments(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("entries", "organisations"),
    [(10_000_000, 4), (200_000, 4), (1_001, 3), (7, 2), (1_000, 7), (10, 5)],
)
def test_the_shares_add_up_to_every_entry_and_the_first_holds_half(entries, organisations):
    shares = log.entry_shares(entries, organisations)

    assert len(shares) == organisations
    assert sum(shares) == entries
    assert shares[0] == entries - entries // 2
    others = shares[1:]
    assert not others or max(others) - min(others) <= 1


def test_the_default_shares_and_one_organisation_alone():
    assert log.entry_shares(10_000_000, 4) == [5_000_000, 1_666_667, 1_666_667, 1_666_666]
    assert log.entry_shares(1_001, 1) == [1_001]


def test_each_organisation_has_its_sizes_in_its_name_and_one_client():
    plans = log.log_plans(200_000, 3, 2_000)

    assert [plan.slug for plan in plans] == ["bench-log-1", "bench-log-2", "bench-log-3"]
    assert plans[0].organisation.name == "Bench Log 1 (2000 people, 100000 log entries)"
    assert [plan.organisation.people for plan in plans] == [2_000] * 3
    assert [plan.client for plan in plans] == ["Okta", "Microsoft Entra ID", "Okta"]
    assert all(plan.organisation.teams == 0 for plan in plans)


def test_one_partition_per_month_and_one_more_for_new_rows():
    bounds = log.month_bounds(
        datetime(2026, 10, 8, 3, 47, tzinfo=UTC), datetime(2026, 12, 7, 3, 46, tzinfo=UTC)
    )

    assert bounds == [
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
    ]
    assert [log.partition_name(lower) for lower, _ in bounds] == [
        "bench_scimrequest_by_month_2026_10",
        "bench_scimrequest_by_month_2026_11",
        "bench_scimrequest_by_month_2026_12",
        "bench_scimrequest_by_month_2027_01",
    ]


def test_months_are_taken_in_utc_and_cover_both_ends():
    # 00:30 on 1 March in Sydney is still February in UTC.
    from zoneinfo import ZoneInfo

    sydney = ZoneInfo("Australia/Sydney")
    oldest = datetime(2027, 3, 1, 0, 30, tzinfo=sydney)
    newest = datetime(2027, 3, 31, 23, 0, tzinfo=UTC)
    bounds = log.month_bounds(oldest, newest)

    assert bounds[0][0] == datetime(2027, 2, 1, tzinfo=UTC)
    assert bounds[-1] == (datetime(2027, 4, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))
    assert all(one[1] == other[0] for one, other in itertools.pairwise(bounds))
    assert bounds[0][0] <= oldest and newest < bounds[-1][0]


def test_a_statement_is_moved_to_the_other_table_and_nothing_else():
    sql = (
        'SELECT COUNT(*) FROM (SELECT "scim_scimrequest"."id" AS "col1" FROM "scim_scimrequest"'
        ' WHERE "scim_scimrequest"."organisation_id" = 1 LIMIT 10001) subquery'
    )
    moved = log.on_table(sql, "scim_scimrequest", "bench_scimrequest_by_month")

    assert moved == sql.replace('"scim_scimrequest"', '"bench_scimrequest_by_month"')
    bare = "SELECT nextval('scim_scimrequest_id_seq') FROM scim_scimrequest, x.scim_scimrequests"
    assert log.on_table(bare, "scim_scimrequest", "other") == (
        "SELECT nextval('scim_scimrequest_id_seq') FROM other, x.scim_scimrequests"
    )


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            "CREATE INDEX scim_request_org_time_idx ON public.scim_scimrequest USING btree"
            " (organisation_id, created_at DESC)",
            "CREATE INDEX scim_request_org_time_idx_by_month ON bench_scimrequest_by_month USING"
            " btree (organisation_id, created_at DESC)",
        ),
        (
            "CREATE INDEX scim_request_org_label_idx ON public.scim_scimrequest USING btree"
            " (organisation_id, lower((resource_label)::text))",
            "CREATE INDEX scim_request_org_label_idx_by_month ON bench_scimrequest_by_month USING"
            " btree (organisation_id, lower((resource_label)::text))",
        ),
        (
            "CREATE UNIQUE INDEX one ON ONLY public.t USING btree (a) WHERE (b IS NULL)",
            "CREATE UNIQUE INDEX one_by_month ON bench_scimrequest_by_month USING btree (a)"
            " WHERE (b IS NULL)",
        ),
    ],
)
def test_an_index_is_defined_again_on_the_partitioned_copy(definition, expected):
    name = definition.split(" INDEX ")[1].split()[0] + "_by_month"
    assert log.index_on(definition, "bench_scimrequest_by_month", name) == expected


def test_what_is_not_an_index_definition_is_refused():
    with pytest.raises(ValueError, match="not an index definition"):
        log.index_on("CREATE TABLE t (a int)", "other", "x")


def test_the_indexes_a_plan_reads():
    plan = """Limit  (cost=0.58..10.39 rows=50 width=325)
  ->  Incremental Sort
        ->  Index Scan Backward using scim_request_time_idx on scim_scimrequest
  ->  BitmapOr
        ->  Bitmap Index Scan on scim_request_org_resource_idx  (cost=0.00..4.45 rows=1)
        ->  Bitmap Index Scan on scim_request_org_label_idx  (cost=0.00..4.45 rows=1)
  ->  Index Only Scan using scim_request_org_time_idx on scim_scimrequest
  ->  Index Scan using scim_request_time_idx on scim_scimrequest"""

    assert log.indexes_in(plan) == [
        "scim_request_time_idx",
        "scim_request_org_resource_idx",
        "scim_request_org_label_idx",
        "scim_request_org_time_idx",
    ]
    assert log.indexes_in("Seq Scan on scim_scimrequest") == []


def test_an_index_the_plan_never_ran_is_not_counted():
    plan = """Limit  (actual time=0.015..0.040 rows=50 loops=1)
  ->  Append  (actual time=0.015..0.040 rows=51 loops=1)
        ->  Index Scan Backward using p_12_time_idx on p_12  (actual time=0..1 rows=51 loops=1)
        ->  Index Scan using p_10_org_idx on p_10  (cost=0.43..75.87 rows=19782) (never executed)"""

    assert log.indexes_in(plan) == ["p_12_time_idx"]


def test_long_in_lists_are_cut_for_reading():
    sql = "SELECT 1 WHERE a IN ('x', 'y, z', 'w') AND lower(b) IN ('p', 'q') AND c IN (1, 2, 3, 4)"
    assert log.shorten(sql) == (
        "SELECT 1 WHERE a IN ('x', 'y, z', … 3 values) AND lower(b) IN ('p', 'q')"
        " AND c IN (1, 2, … 4 values)"
    )


def test_the_kinds_of_request_are_weighed_per_thousand_with_consistent_outcomes():
    assert sum(kind.weight for kind in log.KINDS) == 1000
    for kind in log.KINDS:
        assert kind.outcome == (Outcome.FAILED if kind.status >= 400 else Outcome.SUCCEEDED)
        assert kind.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        assert kind.status in (200, 201, 204, 400, 404, 409)
        assert bool(kind.explanation) == (kind.status >= 400)
    assert {kind.status for kind in log.KINDS} == {200, 201, 204, 400, 404, 409}


def test_every_template_fills_to_what_the_log_holds():
    values = {name: f"v-{name}" for name in log.PLACEHOLDERS}
    values["people"] = "20000"  # a number in the facts' JSON
    for kind in log.KINDS:
        for column in log.TEMPLATE_COLUMNS:
            template = log.template_of(kind, column)
            assert set(log.placeholders_in(template)) <= set(log.PLACEHOLDERS)
            filled = log.fill(template, values)
            assert "{" not in filled or column in ("summary", "facts")
        assert isinstance(json.loads(log.fill(kind.summary, values)), dict)
        assert isinstance(json.loads(log.fill(kind.facts, values)), dict)
        assert log.template_of(kind, "path").startswith("/scim/v2/{tenant}/")


def test_every_placeholder_of_the_sql_is_used_and_escapes_nothing():
    used = {
        name
        for kind in log.KINDS
        for column in log.TEMPLATE_COLUMNS
        for name in log.placeholders_in(log.template_of(kind, column))
    }
    assert used == set(log.PLACEHOLDERS)
    # The day's INSERT takes named parameters: a bare % in its SQL would be read as one.
    assert all("%" not in expression for expression in log.PLACEHOLDERS.values())


def test_the_tab_is_searched_for_a_loaded_person():
    plan = log.log_plans(200_000, 4, 2_000)[0].organisation
    cases = {case.key: case for case in log.scenarios(plan)}
    index = 2_000 // 3

    assert cases["first_page"].params == {"log": "scim"}
    assert cases["page_5"].params == {"log": "scim", "page": "5"}
    assert cases["failed"].params == {"log": "scim", "outcome": "failed"}
    assert cases["search_name"].params["q"] == (
        f"{layout.given_name(index)} {layout.family_name(index)}"
    )
    assert cases["search_username"].params["q"] == layout.username(plan, index)
    assert [key for key, case in cases.items() if case.judged] == [
        "first_page",
        "search_name",
        "search_username",
        "search_nobody",
    ]


def activity(key: str, ms: float, *, judged: bool = True, sql: tuple[str, ...] = ()):
    case = log.Scenario(key, key.replace("_", " "), {"log": "scim"}, judged=judged)
    return log.ActivityResult(case, log.Timing([ms / 1000] * 5), 6, list(sql))


def prune(layout_name: str, writer_ms: list[float]) -> log.PruneResult:
    return log.PruneResult(
        layout=layout_name,
        how="how",
        rows=5_000_000,
        seconds=120.0,
        statements=log.Timing([0.03] * 1_000 + [0.2]),
        writer=log.Timing([ms / 1000 for ms in writer_ms]),
        writer_before=log.Timing([0.002]),
    )


def statement(label: str, indexes_ms: float, partitions_ms: float) -> log.StatementResult:
    return log.StatementResult(
        label=label,
        short=label,
        sql="SELECT 1",
        indexes=log.Timing([indexes_ms / 1000]),
        partitions=log.Timing([partitions_ms / 1000]),
        result="50 rows",
        plan_indexes="",
        plan_partitions="",
        used_indexes=[],
        used_partitions=[],
    )


def by_budget(verdicts):
    return {verdict.budget.split(":")[0]: verdict for verdict in verdicts}


def test_the_verdicts_from_given_figures():
    verdicts = log.judge(
        [
            activity("first_page", 40),
            activity("page_5", 300, judged=False),
            activity("search_name", 150),
        ],
        [statement("first page: rows", 2.0, 3.0)],
        [prune("indexes", [2, 3, 1500]), prune("partitions", [2, 4])],
    )
    found = by_budget(verdicts)

    assert found["Activity, first page"].status == "PASS"
    assert found["Activity, search name"].status == "FAIL"
    assert found["Activity, search name"].measured == "150 ms (p95 150 ms)"
    assert found["Activity, page 5"].status == "INFO"
    writer = found["prune_scim_requests deletes in batches"]
    assert writer.status == "FAIL"
    assert writer.measured == (
        "1500 ms (3 inserts, p50 3.0 ms); 1001 statements, the longest 200 ms"
    )
    assert found["partitions ÷ indexes, first page"].measured == "1.50x (3.0 ms vs 2.0 ms)"
    assert found["prune on partitions"].status == "INFO"
    assert found["prune on partitions"].measured.startswith("120.00 s for 5,000,000 rows")


def test_a_prune_without_a_long_wait_passes_and_an_unmeasured_one_fails():
    passed = log.judge([], [], [prune("indexes", [2, 900])])
    assert by_budget(passed)["prune_scim_requests deletes in batches"].status == "PASS"
    missing = log.judge([], [], [prune("partitions", [2])])
    unmeasured = by_budget(missing)["prune_scim_requests deletes in batches"]
    assert (unmeasured.status, unmeasured.measured) == ("FAIL", "not measured")


def test_each_statement_is_measured_once_under_the_requests_that_sent_it():
    count = 'SELECT COUNT(*) FROM "scim_scimrequest" WHERE x'
    rows = 'SELECT "scim_scimrequest"."id" FROM "scim_scimrequest" WHERE x LIMIT 50'
    later = 'SELECT "scim_scimrequest"."id" FROM "scim_scimrequest" WHERE x LIMIT 50 OFFSET 200'

    labels = log.statement_labels(
        [activity("first_page", 1, sql=(count, rows)), activity("page_5", 1, sql=(count, later))]
    )

    assert labels == [
        ("first page / page 5: count", "first_page / page_5: count", count),
        ("first page: rows", "first_page: rows", rows),
        ("page 5: rows", "page_5: rows", later),
    ]
