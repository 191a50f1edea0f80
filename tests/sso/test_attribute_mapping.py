"""SAML attribute mapping (sso.mapping): on the SAML tab the admin maps attribute statements to
profile fields and the organisation's own attributes; every sign-in sets them, through the
services, when they changed; a value that does not fit is skipped and shown in the attempt's
checks, never a refused sign-in; the Test sign-in shows what each would set. Responses are signed
for real by the test IdP (STYLE 15), shaped as Google Workspace sends them unless said."""

import re
from urllib.parse import urlsplit

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts import services as accounts_services
from accounts.models import ActorKind, AuditEvent, CustomAttribute, Role, User
from bench.budgets import ACS_STATEMENTS
from sso import mapping, services
from sso.mapping import AttributeMapping, Reading
from sso.models import SamlConnection, SignInAttempt, SignInOutcome
from tests import factories
from tests.sso import idp as test_idp

SYSTEM = factories.SYSTEM


def tab(provider: str = "google") -> str:
    return reverse("sso_settings:saml", args=[provider])


def map_url(provider: str = "google") -> str:
    return reverse("sso_settings:saml-attribute-map", args=[provider])


def unmap_url(provider: str = "google") -> str:
    return reverse("sso_settings:saml-attribute-unmap", args=[provider])


def define(org, name, type="string"):
    return accounts_services.custom_attribute_add(
        organisation=org, actor=SYSTEM, name=name, type=type
    )


def map_attribute(connection, attribute, target):
    return services.connection_map_attribute(
        connection=connection, actor=SYSTEM, attribute=attribute, target=target
    )


def stored(connection: SamlConnection) -> list[dict[str, str]]:
    connection.refresh_from_db()
    return list(connection.attribute_mapping)


def mapping_panel(response) -> str:
    page = response.content.decode()
    start = page.index('<section class="panel" aria-labelledby="mapping-heading">')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def google():
    return test_idp.google_idp()


@pytest.fixture
def connection(org, google):
    return factories.saml_connection(org, google, provider="google")


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def sign_in(client, idp, connection, name_id, extra, *, first="Lee", last="Learner"):
    """A signed response from the IdP's tile with the usual attributes and ``extra``."""
    attributes = {**idp.default_attributes(first, last, name_id), **extra}
    xml = idp.response(
        acs_url=connection.acs_url,
        audience=connection.sp_entity_id,
        name_id=name_id,
        attributes=attributes,
    )
    return client.post(urlsplit(connection.acs_url).path, idp.post_form(xml, "/"))


def mapping_checks(attempt: SignInAttempt) -> list[tuple[str, bool | None, str]]:
    return [
        (check["name"], check["passed"], check["detail"])
        for check in attempt.checks
        if check["code"] == "mapping"
    ]


# --- what can be mapped (pure) -------------------------------------------------------------


def test_every_text_field_of_user_fields_may_be_mapped_but_role_and_external_id():
    targets = {target.key: target.label for target in mapping.profile_targets()}

    assert targets["field:given_name"] == "Given name"
    assert targets["field:family_name"] == "Family name"
    assert targets["field:email"] == "Email"
    assert targets["field:title"] == "Title"
    assert targets["field:department"] == "Department"
    assert targets["field:employee_number"] == "Employee number"
    assert "field:role" not in targets  # a sign-in never makes anyone an admin
    assert "field:external_id" not in targets  # SCIM's link to the person
    assert "field:username" not in targets


def test_the_choice_list_follows_user_fields(monkeypatch):
    """A text field added to accounts.services.UserFields can be mapped at once."""
    fields = dict(accounts_services.UserFields.__annotations__)
    monkeypatch.setattr(
        accounts_services.UserFields, "__annotations__", {**fields, "shoe_size": str}
    )
    monkeypatch.setattr(mapping, "field_label", lambda name: name)

    assert "field:shoe_size" in {target.key for target in mapping.profile_targets()}


def _definition(name, type_):
    return CustomAttribute(name=name, type=type_)


def test_reading_takes_the_first_non_blank_value_by_name_ignoring_case():
    defined = {"level": _definition("level", "integer"), "fte": _definition("fte", "decimal")}
    lines = [
        AttributeMapping("Department", "field:department"),
        AttributeMapping("level", "custom:Level"),
        AttributeMapping("FTE", "custom:fte"),
        AttributeMapping("title", "field:title"),
        AttributeMapping("cc", "custom:costCentre"),
        AttributeMapping("mail", "field:email"),
    ]
    attributes = {
        "department": ["  ", "Sales", "Support"],
        "LEVEL": ["seven"],
        "fte": ["0.5"],
        "cc": ["CC-1"],
        "mail": ["not an address"],
    }

    readings = mapping.read(attributes, lines, defined)

    assert readings == [
        Reading(lines[0], "Department", value="Sales"),
        Reading(lines[1], "level", problem="'seven' is not a whole number."),
        Reading(lines[2], "fte", value=0.5),
        Reading(lines[3], "Title"),  # not sent
        Reading(
            lines[4],
            "costCentre",
            problem="auzlearn has no such field or attribute any more, so this mapping sets "
            "nothing.",
        ),
        Reading(lines[5], "Email", problem="Enter a valid email address."),
    ]


def test_a_value_longer_than_its_field_is_skipped():
    line = AttributeMapping("title", "field:title")

    (reading,) = mapping.read({"title": ["x" * 256]}, [line], {})

    assert reading.problem == "Ensure this value has at most 255 characters (it has 256)."


# --- the SAML tab ----------------------------------------------------------------------------


def test_the_tab_offers_the_mapping_with_profile_fields_and_own_attributes(admin_client, org):
    define(org, "costCentre")

    panel = mapping_panel(admin_client.get(tab("google")))

    assert '<h2 id="mapping-heading">More attributes</h2>' in panel
    assert "No attributes mapped" in panel
    assert "click Add mapping: choose the Google Directory attribute" in panel
    assert '<option value="" selected>Choose…</option>' in panel
    assert '<optgroup label="Profile">' in panel
    assert '<option value="field:department">Department</option>' in panel
    assert '<optgroup label="Your own attributes">' in panel
    assert '<option value="custom:costCentre">costCentre</option>' in panel
    assert 'value="field:role"' not in panel
    assert 'value="field:external_id"' not in panel
    assert 'href="/settings/sso/okta/scim/">Okta</a>' in panel  # where own attributes are made


def test_admin_maps_an_attribute_and_the_audit_trail_names_them(
    admin_client, org, primary_admin, connection
):
    define(org, "costCentre")

    response = admin_client.post(
        map_url(), {"attribute": " Cost Centre ", "target": "custom:costCentre"}
    )

    assert response.status_code == 302 and response["Location"] == tab() + "#main"
    assert stored(connection) == [{"attribute": "Cost Centre", "target": "custom:costCentre"}]
    event = AuditEvent.objects.get(action="saml.attribute_map")
    assert (event.organisation, event.actor_user, event.actor_kind) == (
        org,
        primary_admin,
        ActorKind.ADMIN,
    )
    assert event.changes == {
        "provider": "google",
        "attribute": "Cost Centre",
        "target": "custom:costCentre",
    }
    page = admin_client.get(tab())
    assertContains(page, "“Cost Centre” now sets costCentre at each sign-in.")
    panel = mapping_panel(page)
    assert '<td data-label="Attribute name"><code>Cost Centre</code></td>' in panel
    assert 'costCentre <span class="aka">(your own attribute)</span>' in panel


TAKEN = "Title is already set from “title”: remove that mapping first."
LONG = "An attribute name is at most 512 characters."
NOT_A_CHOICE = "Select a valid choice. {} is not one of the available choices."


@pytest.mark.parametrize(
    ("posted", "field", "error"),
    [
        ({"attribute": "dept", "target": "field:title"}, "target", TAKEN),
        (
            {"attribute": "   ", "target": "field:department"},
            "attribute",
            "This field is required.",
        ),
        ({"attribute": "dept", "target": ""}, "target", "This field is required."),
        ({"attribute": "x" * 513, "target": "field:department"}, "attribute", LONG),
        (
            {"attribute": "role", "target": "field:role"},
            "target",
            NOT_A_CHOICE.format("field:role"),
        ),
        (
            {"attribute": "cc", "target": "custom:theirs"},
            "target",
            NOT_A_CHOICE.format("custom:theirs"),
        ),
    ],
    ids=["taken", "blank", "unchosen", "long", "role", "another-organisations"],
)
def test_a_refused_mapping_is_shown_next_to_its_field_and_nothing_changes(
    admin_client, org, other_org, connection, posted, field, error
):
    define(other_org, "theirs")
    map_attribute(connection, "title", "field:title")
    before = stored(connection)

    response = admin_client.post(map_url(), posted)

    assert response.status_code == 200
    assertContains(response, f'<p class="field-error" id="id_{field}_error">{error}</p>')
    assert stored(connection) == before
    assert AuditEvent.objects.filter(action="saml.attribute_map").count() == 1


def test_the_service_refuses_role_and_another_organisations_attribute(org, other_org, connection):
    define(other_org, "theirs")

    for target in ("field:role", "field:external_id", "custom:theirs", "custom:nothing", "x"):
        with pytest.raises(services.MappingRefused) as refused:
            map_attribute(connection, "a", target)
        assert refused.value.field == "target"
    assert stored(connection) == []


def test_a_custom_target_is_stored_under_the_attributes_own_name(org, connection):
    define(org, "costCentre")

    map_attribute(connection, "cc", "custom:COSTCENTRE")

    assert stored(connection) == [{"attribute": "cc", "target": "custom:costCentre"}]


def test_removing_a_mapping_keeps_peoples_values(admin_client, org, connection, learner):
    map_attribute(connection, "department", "field:department")
    map_attribute(connection, "title", "field:title")
    accounts_services.user_update(user=learner, actor=SYSTEM, department="Sales")

    response = admin_client.post(unmap_url(), {"target": "field:department"})

    assert response.status_code == 302
    assert stored(connection) == [{"attribute": "title", "target": "field:title"}]
    learner.refresh_from_db()
    assert learner.department == "Sales"
    event = AuditEvent.objects.get(action="saml.attribute_unmap")
    assert event.changes == {
        "provider": "google",
        "attribute": "department",
        "target": "field:department",
    }
    assertContains(
        admin_client.get(tab()),
        "“department” no longer sets Department; the values people have stay.",
    )


def test_a_mapping_of_a_removed_attribute_is_flagged_on_the_tab(admin_client, org, connection):
    map_attribute(connection, "cc", f"custom:{define(org, 'costCentre').name}")
    accounts_services.custom_attribute_remove(
        attribute=CustomAttribute.objects.get(name="costCentre"), actor=SYSTEM
    )

    panel = mapping_panel(admin_client.get(tab()))

    assert '<span class="badge warn">Removed</span>' in panel
    assert "There is no such attribute any more, so this mapping sets nothing." in panel


def test_another_organisations_admin_maps_on_their_own_connection_only(
    client, org, other_org, connection
):
    define(org, "costCentre")
    client.force_login(factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN))

    panel = mapping_panel(client.get(tab()))
    client.post(map_url(), {"attribute": "dept", "target": "field:department"})
    client.post(unmap_url(), {"target": "field:department"})  # theirs, not acme's
    map_attribute(connection, "dept", "field:department")
    client.post(unmap_url(), {"target": "field:department"})

    assert "costCentre" not in panel
    assert stored(connection) == [{"attribute": "dept", "target": "field:department"}]
    theirs = SamlConnection.objects.get(organisation=other_org, provider="google")
    assert theirs.attribute_mapping == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_other_roles_cannot_change_the_mapping(client, org, connection, role):
    map_attribute(connection, "title", "field:title")
    client.force_login(factories.user(org, f"{role}@acme.test", role=role))

    assert client.get(tab()).status_code == 403
    assert (
        client.post(map_url(), {"attribute": "d", "target": "field:department"}).status_code == 403
    )
    assert client.post(unmap_url(), {"target": "field:title"}).status_code == 403
    assert stored(connection) == [{"attribute": "title", "target": "field:title"}]


def test_anonymous_visitors_are_sent_to_sign_in(client, connection):
    for path in (map_url(), unmap_url()):
        response = client.post(path, {"attribute": "d", "target": "field:department"})
        assert response.status_code == 302
        assert response.url == f"{reverse('accounts:login')}?next={path}"
    assert stored(connection) == []


def test_the_mapping_forms_need_the_csrf_token_and_refuse_get(org, primary_admin, connection):
    map_attribute(connection, "title", "field:title")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)

    assert (
        browser.post(map_url(), {"attribute": "d", "target": "field:department"}).status_code == 403
    )
    assert browser.post(unmap_url(), {"target": "field:title"}).status_code == 403
    assert browser.get(map_url()).status_code == 405
    assert browser.get(unmap_url()).status_code == 405
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(tab()).content.decode()
    )
    assert token is not None
    posted = {"attribute": "d", "target": "field:department", "csrfmiddlewaretoken": token.group(1)}
    assert browser.post(map_url(), posted).status_code == 302
    assert stored(connection) == [
        {"attribute": "title", "target": "field:title"},
        {"attribute": "d", "target": "field:department"},
    ]


# --- at sign-in ------------------------------------------------------------------------------


@pytest.fixture
def mapped(org, connection):
    """Google Workspace sends department, job title and a cost centre, as its SAML app's
    attribute mapping is usually set up, and a level and a hire date of the organisation's own."""
    define(org, "costCentre")
    define(org, "level", "integer")
    define(org, "hireDate", "dateTime")
    for attribute, target in [
        ("Department", "field:department"),
        ("Job title", "field:title"),
        ("Cost centre", "custom:costCentre"),
        ("Level", "custom:level"),
        ("Hire date", "custom:hireDate"),
    ]:
        map_attribute(connection, attribute, target)
    return connection


GOOGLE_EXTRA = {
    "Department": ["Sales"],
    "Job title": ["Account manager"],
    "Cost centre": ["CC-104"],
    "Level": ["7"],
    "Hire date": ["2026-01-31"],
}


def test_mapped_attributes_set_the_profile_and_own_attributes_at_sign_in(
    client, google, mapped, learner
):
    response = sign_in(client, google, mapped, learner.username, GOOGLE_EXTRA)

    assert response.status_code == 302 and response["Location"] == "/"
    learner.refresh_from_db()
    assert (learner.department, learner.title) == ("Sales", "Account manager")
    assert learner.custom_attributes == {
        "costCentre": "CC-104",
        "level": 7,
        "hireDate": "2026-01-31T00:00:00Z",
    }
    attempt = SignInAttempt.objects.get()
    assert attempt.outcome == SignInOutcome.SIGNED_IN
    assert mapping_checks(attempt) == [
        ("Department → Department", True, "Set Department to “Sales”."),
        ("Job title → Title", True, "Set Title to “Account manager”."),
        ("Cost centre → costCentre", True, "Set costCentre to “CC-104”."),
        ("Level → level", True, "Set level to “7”."),
        ("Hire date → hireDate", True, "Set hireDate to “2026-01-31T00:00:00Z”."),
    ]
    events = AuditEvent.objects.filter(target_id=str(learner.public_id), actor_kind=ActorKind.SAML)
    assert sorted(events.values_list("action", "changes")) == [
        (
            "user.set_custom_attributes",
            {
                "costCentre": [None, "CC-104"],
                "level": [None, 7],
                "hireDate": [None, "2026-01-31T00:00:00Z"],
            },
        ),
        (
            "user.update",
            {"department": ["", "Sales"], "title": ["", "Account manager"]},
        ),
    ]


def test_only_changes_are_saved_and_audited(client, google, mapped, learner):
    sign_in(client, google, mapped, learner.username, GOOGLE_EXTRA)
    audited = AuditEvent.objects.count()

    sign_in(Client(), google, mapped, learner.username, GOOGLE_EXTRA)
    assert AuditEvent.objects.count() == audited
    attempt = SignInAttempt.objects.first()
    assert attempt is not None
    assert mapping_checks(attempt)[0] == (
        "Department → Department",
        True,
        "Department is already “Sales”.",
    )

    sign_in(Client(), google, mapped, learner.username, {**GOOGLE_EXTRA, "Level": ["8"]})
    event = AuditEvent.objects.order_by("-id").filter(action="user.set_custom_attributes").first()
    assert event is not None and event.changes == {"level": [7, 8]}
    assert AuditEvent.objects.count() == audited + 1


def test_a_value_that_does_not_fit_is_skipped_and_recorded_and_the_sign_in_goes_ahead(
    client, google, mapped, learner
):
    accounts_services.user_set_custom_attributes(user=learner, actor=SYSTEM, values={"level": 3})
    extra = {**GOOGLE_EXTRA, "Level": ["senior"], "Hire date": ["next Monday"]}

    response = sign_in(client, google, mapped, learner.username, extra)

    assert response.status_code == 302
    assert client.get("/me.json").json()["username"] == learner.username
    learner.refresh_from_db()
    assert learner.custom_attributes == {"costCentre": "CC-104", "level": 3}
    attempt = SignInAttempt.objects.get()
    assert attempt.outcome == SignInOutcome.SIGNED_IN and attempt.reason == ""
    checks = mapping_checks(attempt)
    assert checks[3] == (
        "Level → level",
        False,
        "'senior' is not a whole number. level stays as it is.",
    )
    assert checks[4][1] is False
    assert checks[4][2].startswith("'next Monday' is not a date and time")
    assert all(check["passed"] for check in attempt.checks if check["code"] != "mapping")


def test_an_attribute_that_is_not_sent_leaves_the_value_alone(client, google, mapped, learner):
    accounts_services.user_update(user=learner, actor=SYSTEM, title="Director")

    sign_in(client, google, mapped, learner.username, {"Department": ["Sales"], "Job title": [""]})

    learner.refresh_from_db()
    assert (learner.department, learner.title) == ("Sales", "Director")
    checks = mapping_checks(SignInAttempt.objects.get())
    assert checks[1] == ("Job title → Title", None, "Not sent, so Title stays as it is.")


def test_a_mapping_of_a_removed_attribute_sets_nothing(client, google, mapped, learner):
    accounts_services.custom_attribute_remove(
        attribute=CustomAttribute.objects.get(name="costCentre"), actor=SYSTEM
    )

    sign_in(client, google, mapped, learner.username, GOOGLE_EXTRA)

    learner.refresh_from_db()
    assert "costCentre" not in learner.custom_attributes
    assert learner.custom_attributes["level"] == 7
    name, passed, detail = mapping_checks(SignInAttempt.objects.get())[2]
    assert (name, passed) == ("Cost centre → costCentre", False)
    assert detail.startswith("auzlearn has no such field or attribute any more")


def test_a_mapped_field_wins_over_the_conventional_name(client, org, google, connection, learner):
    map_attribute(connection, "preferredFirstName", "field:given_name")

    sign_in(client, google, connection, learner.username, {"preferredFirstName": ["Lex"]})

    learner.refresh_from_db()
    assert learner.given_name == "Lex"


def test_jit_creates_the_person_with_mapped_values(client, org, google):
    connection = factories.saml_connection(org, google, provider="google", jit=True)
    define(org, "costCentre")
    map_attribute(connection, "Department", "field:department")
    map_attribute(connection, "Cost centre", "custom:costCentre")

    sign_in(client, google, connection, "new@acme.test", GOOGLE_EXTRA, first="Nia", last="New")

    person = User.objects.get(username="new@acme.test")
    assert (person.given_name, person.department) == ("Nia", "Sales")
    assert person.custom_attributes == {"costCentre": "CC-104"}


def test_the_role_is_never_set_by_a_sign_in_even_if_stored(
    client, org, google, connection, learner
):
    # A mapping the tab refuses, written straight into the row: sign-in still never applies it.
    SamlConnection.objects.filter(pk=connection.pk).update(
        attribute_mapping=[{"attribute": "role", "target": "field:role"}]
    )
    connection.refresh_from_db()

    sign_in(client, google, connection, learner.username, {"role": ["primary_admin"]})

    learner.refresh_from_db()
    assert learner.role == Role.LEARNER
    assert mapping_checks(SignInAttempt.objects.get())[0][1] is False


def test_the_test_sign_in_shows_what_each_mapped_attribute_would_set_and_changes_nothing(
    client, org, google, mapped, primary_admin, learner, settings
):
    settings.PUBLIC_BASE_URL = "https://lms.example.com"  # an IdP on another site needs https
    client.force_login(primary_admin)
    start = client.post(reverse("sso_settings:saml-test", args=["google"]))
    request = test_idp.decode_authn_request(start["Location"])
    attributes = {
        **google.default_attributes("Ada", "Admin", primary_admin.username),
        **GOOGLE_EXTRA,
        "Level": ["top"],
    }
    xml = google.response(
        acs_url=mapped.acs_url,
        audience=mapped.sp_entity_id,
        name_id=primary_admin.username,
        attributes=attributes,
        in_response_to=request["id"],
    )
    response = client.post(urlsplit(mapped.acs_url).path, google.post_form(xml))

    attempt = SignInAttempt.objects.get()
    assert attempt.outcome == SignInOutcome.TEST_PASSED
    primary_admin.refresh_from_db()
    assert (primary_admin.department, primary_admin.custom_attributes) == ("", {})
    assert not AuditEvent.objects.filter(actor_kind=ActorKind.SAML).exists()
    page = client.get(response["Location"])
    assertContains(page, '<h2 id="mapped-heading">Mapped attributes</h2>')
    assertContains(page, "would set at a sign-in (a Test sign-in changes nothing)")
    assertContains(page, "Would set Department to “Sales”.")
    assertContains(page, "Would set hireDate to “2026-01-31T00:00:00Z”.")
    assertContains(page, "&#x27;top&#x27; is not a whole number. level stays as it is.")
    assertContains(page, "Every check passed.")
    checks = (
        page.content.decode().split('<h2 id="checks-heading">Checks</h2>')[1].split("</section>")[0]
    )
    assert "Department" not in checks  # the response's own checks, apart


def test_the_activity_page_of_a_sign_in_says_what_was_set(
    client, google, mapped, learner, primary_admin
):
    sign_in(client, google, mapped, learner.username, GOOGLE_EXTRA)
    attempt = SignInAttempt.objects.get()
    client.force_login(primary_admin)

    page = client.get(reverse("sso_settings:saml-test-result", args=["google", attempt.pk]))

    assertContains(page, "set at this sign-in")
    assertContains(page, "Set costCentre to “CC-104”.")
    assertContains(page, ">Up to date</span>")
    assertNotContains(page, "Would set")


# --- what it costs ---------------------------------------------------------------------------


def _acs_statements(idp, connection, name_id, extra) -> int:
    """The statements of one sign-in at the ACS, counted as the bench counts them (each
    cursor execution, savepoints included; BEGIN and COMMIT are not statements)."""
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        if sql != "BEGIN":  # SQLite's, which Django sends as a statement; psycopg does not
            executed.append(sql)
        return execute(sql, params, many, context)

    with db_connection.execute_wrapper(count):
        response = sign_in(Client(), idp, connection, name_id, extra)
    assert response.status_code == 302 and response["Location"] == "/"
    return len(executed)


# Real transactions, as in production and the bench: the ACS's own transaction and the session's
# are then a BEGIN and a COMMIT each, which are not statements Django counts, not savepoints.
@pytest.mark.django_db(transaction=True)
def test_without_a_mapping_the_acs_stays_within_its_budget(org, google, connection, learner):
    assert _acs_statements(google, connection, learner.username, GOOGLE_EXTRA) <= ACS_STATEMENTS


@pytest.mark.django_db(transaction=True)
def test_what_a_mapping_adds_to_a_sign_in(org, google, connection, learner):
    """Profile fields alone read nothing more; the organisation's own attributes one SELECT;
    a change, what saving it costs."""
    sign_in(Client(), google, connection, learner.username, {})
    baseline = _acs_statements(google, connection, learner.username, GOOGLE_EXTRA)
    map_attribute(connection, "Department", "field:department")
    sign_in(Client(), google, connection, learner.username, GOOGLE_EXTRA)  # sets it once

    assert _acs_statements(google, connection, learner.username, GOOGLE_EXTRA) == baseline
    define(org, "costCentre")
    map_attribute(connection, "Cost centre", "custom:costCentre")
    sign_in(Client(), google, connection, learner.username, GOOGLE_EXTRA)  # sets it once
    assert _acs_statements(google, connection, learner.username, GOOGLE_EXTRA) == baseline + 1
