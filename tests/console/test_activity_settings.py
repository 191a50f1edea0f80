"""Settings → Single Sign-on → Okta → Activity, SCIM requests (console.views.activity and
scim.request_log): a plain sentence a row from what the log recorded, the raw request one click
away, a search by person or team, and a CSV download of what is shown. Real SCIM requests through
the API write the log, as Okta and Entra do."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts import services
from accounts.models import Role
from scim.models import Outcome, ScimRequest
from scim.request_log import MAX_SEARCH, neutralise
from tests import factories
from tests.scim.conftest import ENTRA_AGENT, scim_client_for

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def activity_url(provider: str = "okta") -> str:
    return reverse("console:activity", args=[provider])


def csv_url(provider: str = "okta") -> str:
    return reverse("console:activity-csv", args=[provider])


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def person(given: str, family: str, username: str) -> dict[str, object]:
    return {
        "schemas": [CORE_USER],
        "userName": username,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": username, "type": "work", "primary": True}],
        "active": True,
        "password": "Okta's random one",
    }


@pytest.fixture
def provisioned(org):
    """What Okta did: a lookup that found nobody, Dana created, three people pushed to Sales,
    Dana deactivated; and Entra deleting Casey."""
    okta = scim_client_for(org)
    assert okta.get('Users?filter=userName eq "dana@demo.test"').status_code == 200
    dana = okta.post("Users", person("Dana", "Smith", "dana@demo.test")).json()["id"]
    others = [
        okta.post("Users", person(given, "Lee", f"{given.lower()}@demo.test")).json()["id"]
        for given in ("Quinn", "Casey")
    ]
    sales = okta.post("Groups", {"schemas": [CORE_GROUP], "displayName": "Sales"}).json()["id"]
    members = [{"value": value} for value in [dana, *others]]
    pushed = okta.patch(
        f"Groups/{sales}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": members}]},
    )
    assert pushed.status_code in (200, 204)
    deactivated = okta.patch(
        f"Users/{dana}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated.status_code == 200
    entra = scim_client_for(org, ENTRA_AGENT)
    assert entra.delete(f"Users/{others[1]}").status_code == 204
    return {"dana": dana, "casey": others[1], "sales": sales}


def sentences(response) -> list[str]:
    return [row.sentence for row in response.context["rows"]]


# --- sentences ----------------------------------------------------------------------------------


def test_every_row_has_a_plain_sentence_and_the_raw_request_one_click_away(
    admin_client, provisioned
):
    response = admin_client.get(activity_url(), {"log": "scim"})

    assert sentences(response) == [
        "Entra deleted Casey Lee.",
        "Okta deactivated Dana Smith.",
        "Okta added 3 people to Sales.",
        "Okta created team Sales.",
        "Okta added Casey Lee.",
        "Okta added Quinn Lee.",
        "Okta added Dana Smith.",
        "Okta looked up dana@demo.test: not found.",
    ]
    assertContains(response, '<p class="sentence">Okta added 3 people to Sales.</p>')
    # The raw request, folded: method, path and the body without the password.
    html = response.content.decode()
    assert html.count("<details><summary>The request</summary>") == 8
    assertContains(response, f"<code>PATCH /Users/{provisioned['dana']}</code>")
    assertNotContains(response, "Okta&#x27;s random one")


def test_the_log_is_still_one_insert_a_request(org):
    okta = scim_client_for(org)
    with CaptureQueriesContext(connection) as queries:
        okta.get('Users?filter=userName eq "nobody@demo.test"')
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT") and "scim" in q["sql"]]
    assert len(inserts) == 1
    entry = ScimRequest.objects.get()
    assert entry.resource_label == "nobody@demo.test"
    assert entry.facts == {"returned": 0, "total": 0}


def test_a_request_refused_for_want_of_a_key_stores_nothing_it_sent(org, admin_client):
    okta = scim_client_for(org)
    answer = okta.get('Users?filter=userName eq "secret@demo.test"', authorization="Bearer wrong")

    assert answer.status_code == 401
    assert not ScimRequest.objects.exists()
    assertNotContains(admin_client.get(activity_url(), {"log": "scim"}), "secret@demo.test")


def test_a_refused_request_is_said_in_plain_words(admin_client, org):
    okta = scim_client_for(org)
    okta.post("Users", person("Dana", "Smith", "dana@demo.test"))
    okta.post("Users", person("Dana", "Smith", "dana@demo.test"))

    rows = sentences(admin_client.get(activity_url(), {"log": "scim", "outcome": "failed"}))

    assert len(rows) == 1
    assert rows[0].startswith("Okta tried to create user dana@demo.test, but:")


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # Dana's requests, and the lookup of her userName before she existed.
        ("Dana Smith", None),
        ("dana@demo", None),
        ("DANA@demo.test", None),
        ("sales", ["Okta added 3 people to Sales.", "Okta created team Sales."]),
        ("Casey", ["Entra deleted Casey Lee.", "Okta added Casey Lee."]),
    ],
)
def test_search_by_person_or_team(admin_client, provisioned, words, expected):
    response = admin_client.get(activity_url(), {"log": "scim", "q": words})

    if expected is None:
        expected = [
            "Okta deactivated Dana Smith.",
            "Okta added Dana Smith.",
            "Okta looked up dana@demo.test: not found.",
        ]
    assert sentences(response) == expected
    assertContains(response, f'value="{words}"')


def test_search_keeps_the_outcome_and_the_links_keep_the_search(admin_client, provisioned):
    response = admin_client.get(activity_url(), {"log": "scim", "q": "Dana", "outcome": "failed"})

    assert sentences(response) == []
    assertContains(response, "No SCIM requests about “Dana” (failed).")
    response = admin_client.get(activity_url(), {"log": "scim", "q": "Dana Smith"})
    assertContains(response, "?log=scim&amp;q=Dana%20Smith&amp;outcome=failed")
    assertContains(response, f'href="{csv_url()}?q=Dana%20Smith"')


@pytest.mark.parametrize(
    "words", ["%", "_", "'", '"', "\\", "%_%", "' OR 1=1 --", "dana\x00", "ü" * 5, "x" * 5000]
)
def test_search_with_odd_input_is_plain_text(admin_client, provisioned, words):
    response = admin_client.get(activity_url(), {"log": "scim", "q": words})

    assert response.status_code == 200
    assert sentences(response) == []  # %, _ and quotes match only themselves: nobody here
    assert len(response.context["search"]) <= MAX_SEARCH
    if len(words) > MAX_SEARCH:
        assertContains(response, f"Only the first {MAX_SEARCH} characters were searched for.")


def test_search_never_finds_another_organisations_people(admin_client, other_org, provisioned):
    globex = scim_client_for(other_org)
    globex.post("Users", person("Dana", "Other", "dana@globex.test"))
    globex.get('Users?filter=userName eq "dana@demo.test"')

    rows = sentences(admin_client.get(activity_url(), {"log": "scim", "q": "dana"}))

    assert "Okta added Dana Other." not in rows
    assert rows.count("Okta looked up dana@demo.test: not found.") == 1


def test_search_reads_the_same_number_of_statements_whatever_the_log_holds(
    admin_client, org, provisioned, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as few:
        admin_client.get(activity_url(), {"log": "scim", "q": "dana"})
    ScimRequest.objects.bulk_create(
        ScimRequest(
            organisation=org,
            created_at=timezone.now() - timedelta(minutes=n),
            method="GET",
            path=f"/scim/v2/{org.public_id}/Users/{n}",
            status=404,
            outcome=Outcome.FAILED,
            duration_ms=1,
            resource_type="User",
            resource_label=f"someone-{n}@demo.test",
        )
        for n in range(200)
    )
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(activity_url(), {"log": "scim", "q": "dana"})
    assert len(sentences(response)) == 3


# --- CSV ----------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_csv_holds_what_is_shown_with_the_same_filters(admin_client, provisioned, org):
    response = admin_client.get(csv_url(), {"q": "Dana Smith"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        rf'attachment; filename="scim-requests-{org.slug}-\d{{4}}-\d\d-\d\d-\d{{4}}\.csv"',
        response["Content-Disposition"],
    )
    rows = read_csv(response)
    assert rows[0][:3] == ["Time (UTC)", "What happened", "Client"]
    assert [row[1] for row in rows[1:]] == [
        "Okta deactivated Dana Smith.",
        "Okta added Dana Smith.",
        "Okta looked up dana@demo.test: not found.",
    ]
    assert rows[1][3:6] == ["PATCH", f"/Users/{provisioned['dana']}", "200"]
    everything = read_csv(admin_client.get(csv_url()))
    assert len(everything) == 1 + 8
    failed = read_csv(admin_client.get(csv_url(), {"outcome": "failed"}))
    assert failed == [everything[0]]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_would_run_as_formulas_are_neutralised(admin_client, org, start):
    okta = scim_client_for(org)
    name = f'{start}HYPERLINK("http://evil.example","x")'
    okta.post("Users", {**person(name, "Doe", "formula@demo.test")})
    okta.post("Groups", {"schemas": [CORE_GROUP], "displayName": f"{start}cmd|' /C calc'!A0"})

    rows = read_csv(admin_client.get(csv_url()))

    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert f"'Okta added {name} Doe." not in cells  # the sentence starts with the client
    assert f"'{start}cmd|' /C calc'!A0" in cells


def test_neutralise_leaves_ordinary_cells_alone():
    assert neutralise("Okta added Dana.") == "Okta added Dana."
    assert neutralise("-1") == "'-1"
    assert neutralise("\tcmd") == "'\tcmd"
    assert neutralise("\r=1") == "'\r=1"
    assert neutralise("") == ""


def test_csv_is_the_admins_own_organisation_only(client, org, other_org, provisioned):
    globex_admin = factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)
    scim_client_for(other_org).post("Users", person("Gail", "Globex", "gail@globex.test"))
    client.force_login(globex_admin)

    rows = read_csv(client.get(csv_url(), {"q": "dana"}))
    everything = read_csv(client.get(csv_url()))

    assert rows == [rows[0]]
    assert [row[1] for row in everything[1:]] == ["Okta added Gail Globex."]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_csv_refuses_everyone_but_primary_admins(client, org, provisioned, role):
    client.force_login(factories.user(org, f"{role}@acme.test", role=role))

    response = client.get(csv_url())

    assert response.status_code == 403
    assert b"Dana" not in response.content


def test_csv_refuses_support_staff_and_sends_the_signed_out_to_sign_in(client, staff_user, org):
    assert client.get(csv_url()).status_code == 302
    assert client.get(csv_url())["Location"].startswith(reverse("accounts:login"))
    client.force_login(staff_user)
    assert client.get(csv_url()).status_code == 403


def test_csv_exists_only_for_providers_that_provision(admin_client):
    assert admin_client.get("/settings/sso/google/activity/scim.csv").status_code == 404
    assert admin_client.get(csv_url("entra")).status_code == 200
    assert admin_client.post(csv_url()).status_code == 405


def test_a_deactivated_primary_admin_gets_no_csv(client, primary_admin, provisioned):
    client.force_login(primary_admin)
    services.user_deactivate(user=primary_admin, actor=factories.SYSTEM)

    response = client.get(csv_url())

    assert response.status_code == 302
