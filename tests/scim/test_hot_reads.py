"""The reads compiled once (scim/hot_reads.py) answer exactly what the general path answers:
the same documents, versions and totals, for the same people, in the same organisation only."""

import urllib.parse
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import services
from accounts.models import User
from scim import hot_reads
from tests import factories
from tests.scim.conftest import scim_client_for


def _quoted(value: str, extra: str = "") -> str:
    return urllib.parse.quote(f'userName eq "{value}"{extra}')


def _lookup(scim, value: str, extra: str = "") -> Any:
    return scim.get(f"Users?filter={_quoted(value, extra)}")


def _general(scim, value: str) -> Any:
    """The same lookup by the general path: a condition that changes nothing keeps it there."""
    return _lookup(scim, value, " and userName pr")


def _same_answer(fast, general) -> None:
    assert fast.status_code == general.status_code == 200, (fast.content, general.content)
    assert fast.json() == general.json()


@pytest.fixture
def person(org):
    boss = factories.user(org, "boss@acme.test")
    lee = factories.user(org, "Lee@Acme.test", given_name="Lee", title="Engineer")
    services.user_set_manager(user=lee, actor=factories.SYSTEM, manager=boss)
    factories.team(org, "Sales", members=[lee])
    factories.team(org, "art", members=[lee])
    return lee


@pytest.mark.parametrize(
    "value", ["Lee@Acme.test", "lee@acme.test", "LEE@ACME.TEST", "nobody@acme.test"]
)
@pytest.mark.parametrize("extra", ["", "&excludedAttributes=groups", "&attributes=userName"])
def test_a_lookup_answers_as_the_general_path(scim, person, value, extra):
    assert hot_reads.username_lookup({"filter": f'userName eq "{value}"'}) is not None
    fast = scim.get(f"Users?filter={_quoted(value)}{extra}")
    general = scim.get(f"Users?filter={_quoted(value, ' and userName pr')}{extra}")

    _same_answer(fast, general)
    assert fast.json()["totalResults"] == (0 if value.startswith("nobody") else 1)


@settings(max_examples=40, deadline=None)
@given(
    username=st.text(
        st.characters(exclude_categories=["Cs", "Cc"], exclude_characters='"\\'),
        min_size=1,
        max_size=40,
    )
)
def test_any_username_is_found_as_the_general_path_finds_it(org, username):
    scim = scim_client_for(org)
    User.objects.create(organisation=org, username=username)
    try:
        for value in (username, username.upper()):
            _same_answer(_lookup(scim, value), _general(scim, value))
    finally:
        User.objects.filter(organisation=org).delete()


def test_a_get_by_id_answers_as_a_page_shows_the_person(scim, person):
    by_id = scim.get(f"Users/{person.public_id}")
    by_filter = urllib.parse.quote(f'id eq "{person.public_id}"')
    page = scim.get(f"Users?filter={by_filter}")

    assert by_id.status_code == 200
    assert by_id.json() == page.json()["Resources"][0]
    assert by_id.headers["ETag"] == by_id.json()["meta"]["version"]


def test_another_organisations_person_is_not_found(scim, person, other_org):
    theirs = factories.user(other_org, "ada@other.test")
    factories.user(other_org, "lee@acme.test")  # the same userName in another organisation

    assert scim.get(f"Users/{theirs.public_id}").status_code == 404
    assert _lookup(scim, "ada@other.test").json()["totalResults"] == 0
    found = _lookup(scim, "lee@acme.test").json()["Resources"]
    assert [resource["id"] for resource in found] == [str(person.public_id)]


def test_a_deleted_person_is_not_found(scim, person):
    assert scim.delete(f"Users/{person.public_id}").status_code == 204

    assert scim.get(f"Users/{person.public_id}").status_code == 404
    assert _lookup(scim, "lee@acme.test").json()["totalResults"] == 0


@pytest.mark.parametrize(
    ("query", "total", "shown"),
    [
        ("&count=1", 1, 1),
        ("&startIndex=1&count=5", 1, 1),
        ("&startIndex=2", 1, 0),  # not the first page: the general path
        ("&count=0", 1, 0),  # no page at all: the general path counts
        ("&sortBy=userName", 1, 1),  # sorting: the general path
    ],
)
def test_pages_of_a_lookup_are_the_general_path_s(scim, person, query, total, shown):
    answer = scim.get(f"Users?filter={_quoted('lee@acme.test')}{query}")

    assert answer.status_code == 200
    assert (answer.json()["totalResults"], len(answer.json()["Resources"])) == (total, shown)


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "lee@acme.test"',
        'USERNAME EQ "lee@acme.test"',
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "lee@acme.test"',
    ],
)
def test_what_takes_the_compiled_lookup(text):
    assert hot_reads.username_lookup({"filter": text, "count": "100"}) is not None


@pytest.mark.parametrize(
    "params",
    [
        {"filter": 'userName eq "lee\\"s"'},  # a JSON escape: the parser decodes it
        {"filter": 'userName eq "a\tb"'},
        {"filter": ' userName eq "lee"'},
        {"filter": 'userName  eq "lee"'},
        {"filter": 'userName eq "lee" or userName eq "ada"'},
        {"filter": 'externalId eq "lee"'},
        {"filter": 'userName eq "lee"', "sortBy": "userName"},
        {"filter": 'userName eq "lee"', "cursor": ""},
        {"filter": 'userName eq "lee"', "startIndex": "3"},
        {"filter": 'userName eq "lee"', "count": "0"},
        {"filter": 'userName eq "' + "x" * 5000 + '"'},
        {},
    ],
)
def test_what_takes_the_general_path(params):
    assert hot_reads.username_lookup(params) is None


@pytest.mark.parametrize("extra", ["", "&startIndex=1", "&excludedAttributes=groups"])
@pytest.mark.parametrize("count", [1, 3, 100])
def test_an_import_s_first_page_is_the_general_path_s(scim, person, other_org, extra, count):
    for n in range(4):
        factories.user(person.organisation, f"p{n}@acme.test")
    gone = factories.user(person.organisation, "gone@acme.test")
    services.user_delete(user=gone, actor=factories.SYSTEM)
    factories.user(other_org, "elsewhere@other.test")
    assert hot_reads.first_page_of_everyone({"count": str(count)}) is not None

    fast = scim.get(f"Users?count={count}{extra}")
    general = scim.get(f"Users?count={count}{extra}&filter=userName%20pr")  # everyone

    _same_answer(fast, general)
    assert fast.json()["totalResults"] == 6  # boss, Lee and four: not the deleted, not theirs


def test_an_import_s_first_page_reads_its_people_and_their_number_in_one_statement(scim, person):
    factories.user(person.organisation, "ada@acme.test")
    with CaptureQueriesContext(connection) as captured:
        answer = scim.get("Users?count=1").json()

    counting = [q["sql"] for q in captured.captured_queries if "accounts_peoplecount" in q["sql"]]
    assert len(counting) == 1 and 'FROM "accounts_user"' in counting[0]
    assert (answer["totalResults"], answer["itemsPerPage"]) == (3, 1)


def test_an_empty_organisation_s_first_page_reads_nobody(other_org):
    scim = scim_client_for(other_org)
    answer = scim.get("Users?count=100").json()
    assert (answer["totalResults"], answer["Resources"]) == (0, [])


@pytest.mark.parametrize(
    "params",
    [
        {"count": "0"},
        {"startIndex": "2"},
        {"sortBy": "userName"},
        {"filter": "userName pr"},
        {"cursor": ""},
    ],
)
def test_other_pages_take_the_general_path(params):
    assert hot_reads.first_page_of_everyone(params) is None


@pytest.mark.parametrize("extra", ["", "&excludedAttributes=groups"])
def test_a_deeper_page_shows_each_person_as_their_get_does(scim, person, extra):
    for n in range(5):
        factories.team(person.organisation, f"T{n}", members=[factories.user(person.organisation)])

    page = scim.get(f"Users?startIndex=3&count=3{extra}").json()

    assert page["totalResults"] == 7 and len(page["Resources"]) == 3
    for resource in page["Resources"]:
        alone = scim.get(f"Users/{resource['id']}?{extra.lstrip('&')}").json()
        assert resource == alone
