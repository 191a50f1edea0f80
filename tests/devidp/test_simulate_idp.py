"""manage.py simulate_idp against a live server over real HTTP, as Okta and as Entra: twice
each (the second run matches and updates, creating nobody), then the database and the request
log checked against the directory the run was built from."""

import math
import re
import time
from collections import Counter
from io import StringIO
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent, Organisation, Role, Team, User
from devidp import directory, keys
from devidp.scim_http import MAX_WAIT_SECONDS, _wait_seconds
from scim import limits
from scim.models import ScimKey, ScimRequest
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE, TEAMS = 24, 4


@pytest.fixture
def acme(settings: Any, live_server: Any) -> Organisation:
    """An organisation with its primary admin (made with a password, as create_organisation
    makes one), and the simulation pointed at the live server."""
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL = live_server.url
    organisation = factories.organisation("acme")
    factories.user(organisation, "it@acme.test", role=Role.PRIMARY_ADMIN)
    return organisation


def simulate(vendor: str, *options: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "simulate_idp", vendor, "acme", "--people", str(PEOPLE), "--teams", str(TEAMS),
        *options, stdout=out, stderr=err,
    )  # fmt: skip
    return out.getvalue(), err.getvalue()


def figures(summary: str) -> dict[str, int]:
    return {
        name.strip(): int(value)
        for name, value in re.findall(r"^  ([a-z ]+):\s+(\d+)", summary, flags=re.MULTILINE)
    }


def the_directory(vendor: directory.Vendor) -> directory.Directory:
    return directory.build(vendor=vendor, seed=14, people=PEOPLE, teams=TEAMS, domain="acme.test")


def people_of(organisation: Organisation) -> dict[str, User]:
    everyone = User.objects.for_organisation(organisation).select_related("manager")
    return {user.username: user for user in everyone.exclude(username="it@acme.test")}


def requests_of(organisation: Organisation) -> list[str]:
    """The request log, oldest first: "METHOD path" below the Tenant URL, the query decoded."""
    log = ScimRequest.objects.filter(organisation=organisation).order_by("pk")
    base = f"/scim/v2/{organisation.public_id}"
    return [f"{row.method} {unquote(row.path).removeprefix(base)}" for row in log]


def check_people_and_teams(organisation: Organisation, built: directory.Directory) -> None:
    """The app holds the directory as the run leaves it."""
    people = people_of(organisation)
    gone = {built.people[i].username for i in built.gone}
    assert set(people) == {p.username for p in built.people}
    for person in built.people:
        user = people[person.username]
        assert (user.given_name, user.family_name) == (person.given_name, person.family_name)
        assert (user.title, user.department) == (person.title, person.department)
        assert user.email == person.username
        manager = built.people[person.manager].username if person.manager is not None else None
        assert (user.manager.username if user.manager else None) == manager, person.username
        assert user.pending_manager_value == ""
        deleted = person.username in gone
        assert (user.deleted_at is not None) == deleted
        inactive = person.index in built.leavers or deleted
        assert user.is_active is not inactive, person.username
    by_index = {person.index: people[person.username].pk for person in built.people}
    teams = {team.display_name: team for team in Team.objects.filter(organisation=organisation)}
    assert set(teams) == {team.name for team in built.teams}
    move = built.move
    assert move is not None
    for number, team in enumerate(built.teams):
        expected = set(team.members)
        if number == move.from_team:
            expected.discard(move.person)
        if number == move.to_team:
            expected.add(move.person)
        members = set(teams[team.name].members.values_list("pk", flat=True))
        assert members == {by_index[i] for i in expected}, team.name


def test_okta_catalog_app_provisions_then_updates_the_same_people(acme: Organisation) -> None:
    built = the_directory("okta")

    first, progress = simulate("okta")

    assert "Issued the SCIM key" in progress and "okta [" in progress and "100%" in progress
    numbers = figures(first)
    assert numbers == {
        "created": PEOPLE,
        "updated": len(built.promotions),
        "deactivated": len(built.leavers) + len(built.returners),
        "reactivated": len(built.returners),
        "deleted": 0,
        "teams pushed": TEAMS + 2,
        "requests": numbers["requests"],
        "failures": 0,
    }
    check_people_and_teams(acme, built)
    ids = {user.username: user.public_id for user in people_of(acme).values()}
    log = requests_of(acme)
    assert len(log) == numbers["requests"]
    assert log[:2] == ["GET /Users?startIndex=1&count=2", "GET /Users?startIndex=1&count=100"]
    lookup = f'GET /Users?filter=userName eq "{built.people[built.arrival[0]].username}"'
    assert log[2] == lookup + "&startIndex=1&count=100"
    assert Counter(line.split()[0] for line in log)["DELETE"] == 0  # Okta never deletes users
    assert all(row.client == "Okta" for row in ScimRequest.objects.filter(organisation=acme))
    # Deactivation and group pushes as PATCH; profile updates as PUT.
    assert any(line.startswith("PATCH /Users/") for line in log)
    assert any(line.startswith("PUT /Users/") for line in log)
    assert any(line.startswith("PATCH /Groups/") for line in log)
    returner = people_of(acme)[built.people[built.returners[0]].username]
    events = AuditEvent.objects.filter(target_id=str(returner.public_id)).order_by("pk")
    actions = events.values_list("action", flat=True)
    assert [a for a in actions if a.startswith("user.") and "activate" in a] == [
        "user.deactivate",
        "user.reactivate",
    ]

    second, progress = simulate("okta")

    assert "Using the SCIM key" in progress
    numbers = figures(second)
    assert numbers["created"] == 0 and numbers["failures"] == 0
    # Everyone but the leavers (no longer assigned) again, and the promoted once more.
    assert numbers["updated"] == PEOPLE - len(built.leavers) + len(built.promotions)
    assert numbers["deactivated"] == numbers["reactivated"] == len(built.returners)
    check_people_and_teams(acme, built)
    assert {user.username: user.public_id for user in people_of(acme).values()} == ids
    assert ScimKey.objects.filter(organisation=acme).count() == 1


def test_okta_app_integration_wizard_app_sends_every_change_as_put(acme: Organisation) -> None:
    built = the_directory("okta")

    summary, _ = simulate("okta", "--okta-app", "aiw")

    assert figures(summary)["failures"] == 0
    check_people_and_teams(acme, built)
    methods = Counter(line.split()[0] for line in requests_of(acme))
    assert set(methods) == {"GET", "POST", "PUT"}
    # Deactivations and reactivations are PUTs of the whole user, alongside profile updates.
    assert methods["PUT"] == (
        len(built.promotions) + len(built.leavers) + 2 * len(built.returners) + 2  # the move
    )


def test_entra_provisions_deletes_and_then_only_updates(acme: Organisation) -> None:
    built = the_directory("entra")

    first, _ = simulate("entra")

    numbers = figures(first)
    assert numbers["created"] == PEOPLE
    assert numbers["deleted"] == len(built.gone) and numbers["failures"] == 0
    assert numbers["deactivated"] == len(built.leavers) + len(built.returners) + len(built.gone)
    check_people_and_teams(acme, built)
    log = requests_of(acme)
    assert re.fullmatch(r'GET /Users\?filter=userName eq "[0-9a-f-]{36}"', log[0])
    assert all(row.client == "Microsoft Entra ID" for row in ScimRequest.objects.all())
    deleted = [people_of(acme)[built.people[i].username] for i in built.gone]
    assert {f"DELETE /Users/{user.public_id}" for user in deleted} <= set(log)
    assert any(
        line.startswith('GET /Groups?excludedAttributes=members&filter=displayName eq "')
        for line in log
    )
    assert not any(line.startswith("PUT ") for line in log)  # Entra PATCHes

    second, _ = simulate("entra")

    numbers = figures(second)
    assert numbers["created"] == numbers["deleted"] == numbers["failures"] == 0
    live = PEOPLE - len(built.gone) - len(built.leavers)
    assert numbers["updated"] == live + len(built.promotions)
    check_people_and_teams(acme, built)


def test_okta_after_entra_matches_the_people_entra_created(acme: Organisation) -> None:
    """Okta's directory still has the people Entra's deleted: creating them revives them (the
    same rows), and everyone else is matched by the lookups."""
    gone = {the_directory("entra").people[i].username for i in the_directory("entra").gone}
    simulate("entra")
    before = {user.username: user.public_id for user in people_of(acme).values()}

    summary, _ = simulate("okta")

    assert figures(summary)["created"] == len(gone)
    after = people_of(acme)
    assert {username: user.public_id for username, user in after.items()} == before
    assert all(after[username].deleted_at is None for username in gone)


def test_it_waits_as_long_as_a_429_says_and_goes_on(
    acme: Organisation, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our organisation rate limit, low, and a window that ends in a second and a half: the
    simulation is answered 429 with Retry-After, waits, and finishes without a failure."""
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 10
    shift = 58.5 - time.time() % 60
    monkeypatch.setattr(limits, "clock", lambda: time.time() + shift)

    out, err = StringIO(), StringIO()
    call_command(
        "simulate_idp", "okta", "acme", "--people", "4", "--teams", "1", stdout=out, stderr=err
    )

    summary = out.getvalue()
    assert re.search(r"requests:\s+\d+ \(1 after waiting for a 429 or 503\)", summary), summary
    assert figures(summary)["failures"] == 0
    assert figures(summary)["created"] == 4


def test_a_failed_request_is_reported_plainly_and_the_run_goes_on(acme: Organisation) -> None:
    built = the_directory("okta")
    first = built.people[built.arrival[0]]
    # Someone else already has this person's externalId: Okta's create is refused.
    factories.user(acme, "someone.else@acme.test", external_id=first.external_id)
    err = StringIO()

    with pytest.raises(CommandError, match=r"1 request\(s\) failed"):
        call_command(
            "simulate_idp", "okta", "acme", "--people", str(PEOPLE), stdout=StringIO(), stderr=err
        )

    failure = next(line for line in err.getvalue().splitlines() if "answered 409" in line)
    assert failure.startswith(
        f"Could not create user {first.username}: POST /Users answered 409: uniqueness: "
    )
    assert len(people_of(acme)) == PEOPLE  # everyone else, and someone.else


def test_a_server_that_does_not_answer_is_reported_plainly(db: None, settings: Any) -> None:
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # discard: nothing listens
    factories.organisation("acme")

    with pytest.raises(CommandError) as error:
        call_command("simulate_idp", "entra", "acme", stdout=StringIO(), stderr=StringIO())

    assert str(error.value).startswith("Cannot reach http://127.0.0.1:9: ")
    assert str(error.value).endswith("Is the server running (make run)?")


def test_it_refuses_to_run_with_debug_off(db: None, settings: Any) -> None:
    settings.DEBUG = False
    acme = factories.organisation("acme")

    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("simulate_idp", "okta", "acme", stdout=StringIO(), stderr=StringIO())

    acme.refresh_from_db()
    assert not acme.scim_enabled and not ScimKey.objects.exists()


def test_an_unknown_organisation_is_refused(db: None, settings: Any) -> None:
    settings.DEBUG = True
    with pytest.raises(CommandError, match="no organisation with the slug 'nope'"):
        call_command("simulate_idp", "okta", "nope", stdout=StringIO(), stderr=StringIO())


def test_a_key_that_stopped_working_is_replaced_as_generate_key_replaces_it(
    db: None, settings: Any
) -> None:
    from accounts.audit import Actor
    from devidp.simulation import scim_key
    from scim import keys as scim_keys

    acme = factories.organisation("acme")
    actor = Actor.system("tests")
    secret, how = scim_key(acme, actor)
    assert how.startswith("Issued") and acme.scim_enabled
    assert keys.remembered_scim_key(acme.public_id) == secret
    again, how = scim_key(acme, actor)
    assert again == secret and how.startswith("Using the SCIM key")

    scim_keys.revoke(organisation=acme, actor=actor)
    replaced, how = scim_key(acme, actor)

    assert replaced != secret and how.startswith("Issued")
    assert scim_keys.verify(replaced) is not None


@pytest.mark.parametrize(
    ("retry_after", "attempt", "seconds"),
    [
        ("3", 1, 3.0),
        ("0", 1, 0.0),
        ("100000", 1, MAX_WAIT_SECONDS),
        ("", 1, 1.0),
        ("", 3, 4.0),
        ("soon", 2, 2.0),
    ],
)
def test_retry_after_is_read_in_seconds(retry_after: str, attempt: int, seconds: float) -> None:
    assert _wait_seconds(retry_after, attempt) == seconds


def test_retry_after_is_read_as_an_http_date() -> None:
    from email.utils import formatdate

    waited = _wait_seconds(formatdate(time.time() + 30, usegmt=True), 1)
    assert math.isclose(waited, 30, abs_tol=1.5)
