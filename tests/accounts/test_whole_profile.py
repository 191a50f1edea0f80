"""The whole profile in accounts (issue 13): the services keep the sign-in address and the filter
rows in step with the lists, refuse what a list may not hold, the migration keeps the one email
and phone number people had, and the home page, /me.json and the admin show everything."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts import profile_values, services
from accounts.models import AuditEvent, ProfileValue, TeamMembership, User
from accounts.versions import user_last_modified
from tests import factories

HOME_URL = reverse("accounts:home")
ME_URL = reverse("accounts:me")

WORK = {"value": "jane@acme.test", "type": "work"}
HOME = {"value": "jane@home.example", "type": "home"}


# --- the sign-in address and the lists ------------------------------------------------------


@pytest.mark.parametrize(
    ("emails", "address"),
    [
        ([WORK, HOME | {"primary": True}], "jane@home.example"),
        ([HOME, WORK], "jane@acme.test"),
        ([WORK, {"value": "j2@acme.test", "type": "WORK"}], "j2@acme.test"),
        ([HOME], "jane@home.example"),
        ([], ""),
    ],
)
def test_the_sign_in_address_is_the_primary_email_else_the_last_work_one(emails, address):
    assert profile_values.sign_in_address(emails) == address


@pytest.mark.parametrize(
    ("emails", "address", "expected"),
    [
        ([WORK, HOME], "new@acme.test", [{"value": "new@acme.test", "type": "work"}, HOME]),
        (
            [HOME | {"primary": True}],
            "x@acme.test",
            [HOME | {"value": "x@acme.test", "primary": True}],
        ),
        ([], "new@acme.test", [{"value": "new@acme.test", "type": "work"}]),
        ([WORK, HOME], "", [HOME]),
        ([], "", []),
    ],
)
def test_a_new_sign_in_address_changes_that_email_and_keeps_the_others(emails, address, expected):
    assert profile_values.with_sign_in_address(emails, address) == expected


def test_an_admin_or_saml_change_of_the_email_changes_that_one_of_the_emails(org):
    user = factories.user(org, "jane@acme.test", emails=[WORK, HOME])

    services.user_update(user=user, actor=factories.SYSTEM, email="jane.doe@acme.test")

    user.refresh_from_db()
    assert user.email == "jane.doe@acme.test"
    assert user.emails == [{"value": "jane.doe@acme.test", "type": "work"}, HOME]
    assert sorted(
        ProfileValue.objects.filter(user=user, attribute="emails").values_list("value", flat=True)
    ) == ["jane.doe@acme.test", "jane@home.example"]


def test_new_emails_move_the_sign_in_address_and_the_reports_see_it(org):
    boss = factories.user(org, "boss@acme.test")
    report = factories.user(org, "report@acme.test")
    services.user_set_manager(user=report, actor=factories.SYSTEM, manager=boss)
    before = User.objects.get(pk=report.pk).updated_at

    services.user_update(
        user=boss, actor=factories.SYSTEM, emails=[{"value": "b@acme.test", "primary": True}]
    )

    boss.refresh_from_db()
    assert boss.email == "b@acme.test"
    # The reports show the manager's email, so their representation changed too.
    assert User.objects.get(pk=report.pk).updated_at > before


def test_an_update_that_changes_no_list_writes_no_rows(org, django_assert_num_queries):
    user = factories.user(org, "jane@acme.test", emails=[WORK], addresses=[{"locality": "Leeds"}])

    # Nothing read, nothing written, not even a savepoint opened and released.
    with django_assert_num_queries(0):
        services.user_update(user=user, actor=factories.SYSTEM, emails=[WORK], title="")


def test_a_list_change_is_one_delete_and_one_insert_whatever_its_size(
    org, django_assert_num_queries
):
    user = factories.user(org, "jane@acme.test")
    addresses = [{"locality": f"Town {n}", "type": "work"} for n in range(15)]

    # Inside the test's transaction, no savepoint of the service's own (accounts.services): the
    # UPDATE, the rows' DELETE and INSERT, the audit event.
    with django_assert_num_queries(4):
        services.user_update(user=user, actor=factories.SYSTEM, addresses=addresses)

    assert ProfileValue.objects.filter(user=user, attribute="addresses").count() == 15
    event = AuditEvent.objects.filter(action="user.update").latest("id")
    assert event.changes == {"addresses": [[], addresses]}


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("emails", "jane@acme.test", "must be a list of objects."),
        ("emails", [WORK] * 21, "has 21 values; at most 20 are kept."),
        ("addresses", [{"town": "Leeds"}], "value 1: 'town' is not kept."),
        ("phone_numbers", [{"value": 44}], "value 1: value must be text."),
        ("photos", [{"value": "x", "primary": "yes"}], "value 1: primary must be a boolean."),
        ("addresses", [{}, {"postalCode": "x" * 65}], "value 2: postalCode is longer than 64"),
    ],
)
def test_the_services_refuse_a_list_the_profile_does_not_keep(org, field, values, message):
    user = factories.user(org, "jane@acme.test")

    with pytest.raises(ValidationError) as refused:
        services.user_update(user=user, actor=factories.SYSTEM, **{field: values})

    assert message in " ".join(refused.value.message_dict[field])
    user.refresh_from_db()
    assert getattr(user, field) == ([WORK] if field == "emails" else [])
    with pytest.raises(ValidationError):
        services.user_create(
            organisation=org, actor=factories.SYSTEM, username="new@acme.test", **{field: values}
        )
    assert not User.objects.filter(username="new@acme.test").exists()


def test_reviving_a_person_takes_the_lists_sent_now(org):
    user = factories.user(org, "jane@acme.test", addresses=[{"locality": "Leeds"}])
    services.user_delete(user=user, actor=factories.SYSTEM)

    services.user_revive(user=user, actor=factories.SYSTEM, addresses=[{"locality": "York"}])

    rows = ProfileValue.objects.filter(user=user, attribute="addresses")
    assert list(rows.values_list("locality", flat=True)) == ["York"]


# --- the migration keeps the one email and phone number people had -------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_persons_email_and_phone_number_and_back():
    executor = MigrationExecutor(connection)
    before = ("accounts", "0004_custom_attributes")
    after = ("accounts", "0006_remove_user_phone_number")
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    organisation = old.get_model("accounts", "Organisation").objects.create(slug="m", name="M")
    OldUser = old.get_model("accounts", "User")
    OldUser.objects.create(
        organisation=organisation, username="a", email="a@m.test", phone_number="+44 1"
    )
    OldUser.objects.create(organisation=organisation, username="b", email="", phone_number="")

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    new = executor.loader.project_state([after]).apps
    NewUser = new.get_model("accounts", "User")
    a, b = NewUser.objects.get(username="a"), NewUser.objects.get(username="b")
    assert (a.email, a.emails) == ("a@m.test", [{"value": "a@m.test", "type": "work"}])
    assert a.phone_numbers == [{"value": "+44 1", "type": "work"}]
    assert (b.emails, b.phone_numbers) == ([], [])
    rows = new.get_model("accounts", "ProfileValue").objects.filter(user_id=a.pk)
    assert sorted(rows.values_list("attribute", "value", "type", "primary")) == [
        ("emails", "a@m.test", "work", False),
        ("phone_numbers", "+44 1", "work", False),
    ]

    a.phone_numbers = [{"value": "+44 1", "type": "work"}, {"value": "+44 2", "primary": True}]
    a.save(update_fields=["phone_numbers"])
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    back = executor.loader.project_state([before]).apps.get_model("accounts", "User")
    assert back.objects.get(username="a").phone_number == "+44 2"  # the primary one

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_memberships_older_than_their_beginning_change_no_persons_version():
    executor = MigrationExecutor(connection)
    before = ("accounts", "0009_user_live_public_id_idx")
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    organisation = old.get_model("accounts", "Organisation").objects.create(slug="m", name="M")
    person = old.get_model("accounts", "User").objects.create(
        organisation=organisation, username="a", updated_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    )
    team = old.get_model("accounts", "Team").objects.create(
        organisation=organisation,
        display_name="T",
        renamed_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    old.get_model("accounts", "TeamMembership").objects.create(team=team, user=person)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    membership = TeamMembership.objects.get(user_id=person.pk)
    assert membership.created_at == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    last = User.objects.annotate(last=user_last_modified()).get(pk=person.pk).last
    assert last == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)  # as before the migration


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_each_members_scim_id_and_deletion_onto_their_memberships():
    executor = MigrationExecutor(connection)
    before = ("accounts", "0011_membership_created_at_idx")
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    organisation = old.get_model("accounts", "Organisation").objects.create(slug="m", name="M")
    OldUser = old.get_model("accounts", "User")
    live = OldUser.objects.create(organisation=organisation, username="live")
    gone = OldUser.objects.create(
        organisation=organisation,
        username="gone",
        is_active=False,
        deactivated_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        deleted_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    )
    team = old.get_model("accounts", "Team").objects.create(
        organisation=organisation, display_name="T"
    )
    for person in (live, gone):
        old.get_model("accounts", "TeamMembership").objects.create(team=team, user=person)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    copies = TeamMembership.objects.filter(team_id=team.pk).values_list(
        "user_id", "user_public_id", "user_deleted"
    )
    assert set(copies) == {(live.pk, live.public_id, False), (gone.pk, gone.public_id, True)}


# --- seen where people look -----------------------------------------------------------------


@pytest.fixture
def jane(org):
    for name, type_ in [
        ("costCode", "string"),
        ("mentor", "boolean"),
        ("level", "integer"),
        ("fte", "decimal"),
        ("hireDate", "dateTime"),
        ("lastReview", "dateTime"),
    ]:
        services.custom_attribute_add(
            organisation=org, actor=factories.SYSTEM, name=name, type=type_
        )
    user = factories.user(
        org,
        "jane@acme.test",
        given_name="Jane",
        middle_name="Quinn",
        family_name="Doe",
        honorific_prefix="Dr.",
        nick_name="JD",
        user_type="Contractor",
        preferred_language="fr-CA",
        cost_center="4130",
        company="Acme Ltd",
        division="Sales",
        emails=[WORK | {"primary": True}, HOME],
        phone_numbers=[{"value": "+44 7700 900000", "type": "mobile"}],
        addresses=[{"streetAddress": "1 Main St", "locality": "London", "type": "work"}],
        photos=[{"value": "https://photos.example/jane.jpg", "type": "photo"}],
    )
    services.user_set_custom_attributes(
        user=user,
        actor=factories.SYSTEM,
        values={
            "costCode": "<b>CC-1</b>",
            "mentor": True,
            "level": 7,
            "fte": 1e-7,
            "hireDate": "2026-01-31",
            "lastReview": "2026-02-03T14:05:00Z",
        },
    )
    user.refresh_from_db()
    return user


def test_home_shows_the_whole_profile_and_the_organisations_attributes(client, jane):
    client.force_login(jane)

    response = client.get(HOME_URL)

    for shown in (
        "<dt>Middle name</dt><dd>Quinn</dd>",
        "<dt>Honorific prefix</dt><dd>Dr.</dd>",
        "<dt>Nickname</dt><dd>JD</dd>",
        "<dt>Kind of worker</dt><dd>Contractor</dd>",
        "<dt>Preferred language</dt><dd>fr-CA</dd>",
        "<dt>Cost centre</dt><dd>4130</dd>",
        "<dt>Organization</dt><dd>Acme Ltd</dd>",
        "<dt>Division</dt><dd>Sales</dd>",
        "<dt>Email</dt><dd>jane@acme.test (work, primary)</dd>",
        "<dt>Email</dt><dd>jane@home.example (home)</dd>",
        "<dt>Phone</dt><dd>+44 7700 900000 (mobile)</dd>",
        "<dt>Address</dt><dd>1 Main St, London (work)</dd>",
        "<dt>Photo</dt><dd>https://photos.example/jane.jpg (photo)</dd>",
        # The organisation's own attributes, by their types.
        "<dt>mentor</dt><dd>Yes</dd>",
        "<dt>level</dt><dd>7</dd>",
        "<dt>fte</dt><dd>0.0000001</dd>",
        "<dt>hireDate</dt><dd>31 Jan 2026</dd>",
        "<dt>lastReview</dt><dd>3 Feb 2026, 14:05 UTC</dd>",
        "<dt>costCode</dt><dd>&lt;b&gt;CC-1&lt;/b&gt;</dd>",
    ):
        assertContains(response, shown, html=False)
    assertNotContains(response, "<b>CC-1</b>", html=False)
    # A URL sent by the identity provider is shown, never linked or loaded.
    assertNotContains(response, 'href="https://photos.example', html=False)
    assertNotContains(response, "<img", html=False)


def test_me_json_has_the_whole_profile_and_the_attributes_with_their_types(client, jane):
    client.force_login(jane)

    body = client.get(ME_URL).json()

    assert body["profile"] == {
        "honorific_prefix": "Dr.",
        "given_name": "Jane",
        "middle_name": "Quinn",
        "family_name": "Doe",
        "nick_name": "JD",
        "user_type": "Contractor",
        "preferred_language": "fr-CA",
        "company": "Acme Ltd",
        "division": "Sales",
        "cost_center": "4130",
        "emails": jane.emails,
        "phone_numbers": jane.phone_numbers,
        "addresses": jane.addresses,
        "photos": jane.photos,
    }
    assert body["custom_attributes"] == [
        {"name": "costCode", "type": "string", "value": "<b>CC-1</b>"},
        {"name": "fte", "type": "decimal", "value": 1e-7},
        {"name": "hireDate", "type": "dateTime", "value": "2026-01-31T00:00:00Z"},
        {"name": "lastReview", "type": "dateTime", "value": "2026-02-03T14:05:00Z"},
        {"name": "level", "type": "integer", "value": 7},
        {"name": "mentor", "type": "boolean", "value": True},
    ]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _change_url(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def test_the_admin_shows_the_lists_and_the_own_attributes_read_only(staff_client, jane):
    response = staff_client.get(_change_url(jane))

    assert response.status_code == 200
    for shown in (
        "<tr><th>Email</th><td>jane@home.example (home)</td></tr>",
        "<tr><th>Address</th><td>1 Main St, London (work)</td></tr>",
        "<tr><th>mentor (boolean)</th><td>Yes</td></tr>",
        "<tr><th>hireDate (dateTime)</th><td>31 Jan 2026</td></tr>",
        "<tr><th>costCode (string)</th><td>&lt;b&gt;CC-1&lt;/b&gt;</td></tr>",
    ):
        assertContains(response, shown, html=False)
    form = response.context["adminform"].form
    assert {"middle_name", "cost_center", "company", "division", "nick_name"} <= set(form.fields)
    assert not {"emails", "addresses", "custom_attributes"} & set(form.fields)


def test_the_admin_saves_a_new_single_valued_field_through_the_service(staff_client, jane):
    form = staff_client.get(_change_url(jane)).context["adminform"].form
    data: dict[str, Any] = {
        name: form[name].value() for name in form.fields if form[name].value() not in (None, False)
    }
    data |= {"division": "Marketing", "middle_name": ""}

    response = staff_client.post(_change_url(jane), data)

    assert response.status_code == 302
    jane.refresh_from_db()
    assert (jane.division, jane.middle_name) == ("Marketing", "")
    assert jane.emails == [WORK | {"primary": True}, HOME]  # the lists are as they were
    event = AuditEvent.objects.filter(action="user.update").latest("id")
    assert event.changes == {"division": ["Sales", "Marketing"], "middle_name": ["Quinn", ""]}
