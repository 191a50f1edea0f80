"""bench.measure pairs each job of a compared endpoint with a floor request, and records the
floor's samples apart, as the floor that endpoint's ratio is taken against."""

from bench import scenarios
from bench.loadgen import Request, Sample
from bench.measure import Phase, Results, paired_floor, with_floor


def test_each_job_is_preceded_by_one_floor_request_labelled_for_its_phase():
    jobs = iter([[Request("GET", "/a", "users_filter")], [Request("GET", "/b", "users_filter")]])
    floors = iter([[Request("GET", f"/floor/{n}", "floor")] for n in range(10)])
    label = paired_floor(Phase(scenarios.filter_by_username, 2, 10, "floor_c2"))

    paired = list(with_floor(jobs, floors, label))

    assert label == "floor@filter_by_username"
    assert [[(r.path, r.label) for r in job] for job in paired] == [
        [("/floor/0", label), ("/a", "users_filter")],
        [("/floor/1", label), ("/b", "users_filter")],
    ]


def test_the_endpoint_is_compared_with_its_paired_floor_which_has_none_of_its_own():
    results = Results()
    label = "floor@filter_by_username"
    samples = [Sample(label, "hit", 200, 0.003, 1), Sample("users_filter", "hit", 200, 0.006, 4)]

    results.record(samples, 2, label)

    assert results.measurements["users_filter"].floor == label
    assert results.measurements[label].floor == ""
