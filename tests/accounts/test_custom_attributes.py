"""The organisation's own attributes: defining, describing and removing them, and people's values
of them (accounts.services, accounts.custom_attributes). On PostgreSQL and SQLite alike: the
removal's JSON key deletion is written for each."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.audit import Actor
from accounts.custom_attributes import ValueRefused, typed_value
from accounts.errors import CustomAttributeNameTaken, CustomAttributeRefused, UserDeleted
from accounts.models import ActorKind, AttributeType, AuditEvent, CustomAttribute, User
from tests import factories

SYSTEM = factories.SYSTEM
SCIM = Actor.scim_key("k3y")


def add(org, name="costCentre", type="string", description=""):
    return services.custom_attribute_add(
        organisation=org, actor=SYSTEM, name=name, type=type, description=description
    )


def values_of(user: User) -> dict[str, object]:
    user.refresh_from_db()
    return dict(user.custom_attributes)


# --- defining ------------------------------------------------------------------------------


def test_an_admin_adds_an_attribute_and_the_audit_trail_says_who(org, primary_admin):
    attribute = services.custom_attribute_add(
        organisation=org,
        actor=Actor.admin(primary_admin),
        name="costCentre",
        type=AttributeType.STRING,
        description="Finance's code for the person's unit",
    )

    assert attribute.pk is not None
    assert list(
        CustomAttribute.objects.values_list("organisation", "name", "type", "description")
    ) == [(org.pk, "costCentre", "string", "Finance's code for the person's unit")]
    event = AuditEvent.objects.get(action="custom_attribute.add")
    assert (event.organisation, event.actor_kind, event.actor_user) == (
        org,
        ActorKind.ADMIN,
        primary_admin,
    )
    assert event.changes == {
        "name": "costCentre",
        "type": "string",
        "description": "Finance's code for the person's unit",
    }


@pytest.mark.parametrize("type_", AttributeType.values)
def test_every_scim_simple_type_may_be_used(org, type_):
    assert add(org, name=f"a{type_}", type=type_).type == type_


@pytest.mark.parametrize(
    "name", ["COSTCENTRE", "costcentre", "CostCentre"], ids=["upper", "lower", "mixed"]
)
def test_a_name_the_organisation_has_already_is_refused_whatever_its_case(org, name):
    add(org, name="costCentre")

    with pytest.raises(CustomAttributeNameTaken) as refused:
        add(org, name=name, type="integer")

    assert refused.value.field == "name"
    assert str(refused.value) == (
        f"This organisation already has an attribute named {name!r} "
        "(SCIM compares attribute names ignoring case)."
    )
    assert list(CustomAttribute.objects.values_list("name", "type")) == [("costCentre", "string")]
    assert AuditEvent.objects.filter(action="custom_attribute.add").count() == 1


def test_another_organisation_may_use_the_same_name(org, other_org):
    add(org, name="costCentre")
    add(other_org, name="costCentre", type="integer")

    assert CustomAttribute.objects.filter(name="costCentre").count() == 2


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1stDay",
        "_private",
        "cost centre",
        "cost.centre",
        "costCentre\n",
        "urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User:costCentre",
        "kostenstellé",
        "a" * 65,
    ],
)
def test_a_name_outside_scims_attribute_grammar_is_refused(org, name):
    with pytest.raises(CustomAttributeRefused) as refused:
        add(org, name=name)

    assert refused.value.field == "name"
    assert str(refused.value) == (
        f"{name!r} is not a SCIM attribute name: use 1 to 64 letters, digits, hyphens and "
        "underscores, starting with a letter."
    )
    assert not CustomAttribute.objects.exists()
    assert not AuditEvent.objects.filter(action="custom_attribute.add").exists()


@pytest.mark.parametrize("name", ["a", "cost-centre", "cost_centre", "A1", "a" * 64])
def test_names_inside_the_grammar_are_kept_as_given(org, name):
    assert add(org, name=name).name == name


@pytest.mark.parametrize("type_", ["text", "String", "date", "complex", "reference", ""])
def test_an_unknown_type_is_refused(org, type_):
    with pytest.raises(CustomAttributeRefused) as refused:
        add(org, type=type_)

    assert refused.value.field == "type"
    assert str(refused.value) == (
        f"{type_!r} is not a type; use one of string, boolean, integer, decimal, dateTime."
    )
    assert not CustomAttribute.objects.exists()


def test_a_description_longer_than_500_characters_is_refused(org):
    with pytest.raises(CustomAttributeRefused, match="Keep the description to 500 characters"):
        add(org, description="x" * 501)

    assert not CustomAttribute.objects.exists()


def test_the_description_changes_and_is_audited_only_when_it_changes(org):
    attribute = add(org, description="Old words")

    services.custom_attribute_update(attribute=attribute, actor=SYSTEM, description="Old words")
    services.custom_attribute_update(attribute=attribute, actor=SYSTEM, description="New words")

    attribute.refresh_from_db()
    assert attribute.description == "New words"
    assert list(
        AuditEvent.objects.filter(action="custom_attribute.update").values_list(
            "organisation", "changes"
        )
    ) == [(org.pk, {"name": "costCentre", "description": ["Old words", "New words"]})]


# --- people's values -----------------------------------------------------------------------


def test_values_are_stored_under_the_attributes_own_name_as_their_type(org, learner):
    add(org, name="costCentre")
    add(org, name="onboarded", type="boolean")
    add(org, name="level", type="integer")
    add(org, name="fte", type="decimal")
    add(org, name="hireDate", type="dateTime")
    before = learner.updated_at

    services.user_set_custom_attributes(
        user=learner,
        actor=SCIM,
        values={
            "COSTCENTRE": "CC-104",
            "onboarded": "False",
            "level": "7",
            "fte": "0.8",
            "hiredate": "2026-01-31T09:30:00+01:00",
        },
    )

    assert values_of(learner) == {
        "costCentre": "CC-104",
        "onboarded": False,
        "level": 7,
        "fte": 0.8,
        "hireDate": "2026-01-31T08:30:00Z",
    }
    assert learner.updated_at > before  # a new SCIM lastModified
    event = AuditEvent.objects.get(action="user.set_custom_attributes")
    assert (event.target_id, event.actor_kind) == (str(learner.public_id), ActorKind.SCIM)
    assert event.changes == {
        "costCentre": [None, "CC-104"],
        "onboarded": [None, False],
        "level": [None, 7],
        "fte": [None, 0.8],
        "hireDate": [None, "2026-01-31T08:30:00Z"],
    }


def test_only_real_changes_are_saved_and_audited(org, learner):
    add(org, name="costCentre")
    add(org, name="level", type="integer")
    services.user_set_custom_attributes(
        user=learner, actor=SCIM, values={"costCentre": "CC-1", "level": 3}
    )
    saved = values_of(learner)
    updated_at = learner.updated_at

    services.user_set_custom_attributes(
        user=learner, actor=SCIM, values={"costCentre": "CC-1", "level": "3"}
    )
    services.user_set_custom_attributes(user=learner, actor=SCIM, values={"level": 4})

    assert values_of(learner) == {**saved, "level": 4}
    assert learner.updated_at > updated_at
    changes = AuditEvent.objects.filter(action="user.set_custom_attributes").order_by("id")
    assert [event.changes for event in changes] == [
        {"costCentre": [None, "CC-1"], "level": [None, 3]},
        {"level": [3, 4]},
    ]


def test_none_or_empty_clears_a_value_and_others_stay(org, learner):
    add(org, name="costCentre")
    add(org, name="track")
    add(org, name="level", type="integer")
    services.user_set_custom_attributes(
        user=learner, actor=SCIM, values={"costCentre": "CC-1", "track": "Sales", "level": 2}
    )

    services.user_set_custom_attributes(
        user=learner, actor=SCIM, values={"costCentre": None, "track": ""}
    )

    assert values_of(learner) == {"level": 2}


def test_replace_clears_every_attribute_not_given(org, learner):
    add(org, name="costCentre")
    add(org, name="track")
    services.user_set_custom_attributes(
        user=learner, actor=SCIM, values={"costCentre": "CC-1", "track": "Sales"}
    )

    services.user_set_custom_attributes(
        user=learner, actor=SCIM, values={"track": "Support"}, replace=True
    )

    assert values_of(learner) == {"track": "Support"}


@pytest.mark.parametrize(
    ("type_", "value", "error"),
    [
        ("string", 42, "42 is not text."),
        ("boolean", "yes", "'yes' is not true or false."),
        ("integer", "7.5", "'7.5' is not a whole number."),
        ("integer", True, "True is not a whole number."),
        ("decimal", "NaN", "'NaN' is not a number."),
        ("decimal", "1e400", "'1e400' is not a number."),
        # Beyond any float: found by the fuzz test (make fuzz), a 500 before.
        ("decimal", 10**400, "1" + "0" * 56 + "… is not a number."),
        ("dateTime", "31/01/2026", "'31/01/2026' is not a date and time"),
    ],
)
def test_a_value_that_does_not_fit_changes_nothing(org, learner, type_, value, error):
    add(org, name="good")
    add(org, name="bad", type=type_)

    with pytest.raises(ValidationError) as refused:
        services.user_set_custom_attributes(
            user=learner, actor=SCIM, values={"good": "fine", "bad": value}
        )

    assert list(refused.value.message_dict) == ["bad"]
    assert refused.value.message_dict["bad"][0].startswith(f"bad: {error}")
    assert values_of(learner) == {}
    assert not AuditEvent.objects.filter(action="user.set_custom_attributes").exists()


def test_an_attribute_the_organisation_does_not_have_is_refused(org, other_org, learner):
    add(other_org, name="costCentre")  # another organisation's is not this one's

    with pytest.raises(ValidationError) as refused:
        services.user_set_custom_attributes(user=learner, actor=SCIM, values={"costCentre": "CC-1"})

    assert refused.value.message_dict == {
        "costCentre": ["There is no attribute named 'costCentre' in this organisation."]
    }
    assert values_of(learner) == {}


def test_a_deleted_persons_values_cannot_change(org, learner):
    add(org)
    services.user_delete(user=learner, actor=SCIM)

    with pytest.raises(UserDeleted):
        services.user_set_custom_attributes(user=learner, actor=SCIM, values={"costCentre": "x"})


def test_values_are_read_as_committed_so_a_stale_copy_loses_nothing(org, learner):
    add(org, name="costCentre")
    add(org, name="track")
    stale = User.objects.get(pk=learner.pk)  # read before SCIM's change below
    services.user_set_custom_attributes(user=learner, actor=SCIM, values={"costCentre": "CC-1"})

    services.user_set_custom_attributes(user=stale, actor=SYSTEM, values={"track": "Sales"})

    assert values_of(learner) == {"costCentre": "CC-1", "track": "Sales"}


# --- removing ------------------------------------------------------------------------------


def test_removing_deletes_the_values_of_every_person_in_one_statement(
    org, other_org, primary_admin
):
    attribute = add(org, name="costCentre")
    add(org, name="track")
    add(other_org, name="costCentre")
    people = factories.many_users(org, 30)
    for n, person in enumerate(people[:20]):
        values = {"costCentre": f"CC-{n}", "track": "Sales"} if n % 2 else {"costCentre": "x"}
        services.user_set_custom_attributes(user=person, actor=SCIM, values=values)
    deleted_person = people[0]
    services.user_delete(user=deleted_person, actor=SCIM)  # revival must not bring it back
    theirs = factories.user(other_org, "them@globex.test")
    services.user_set_custom_attributes(user=theirs, actor=SCIM, values={"costCentre": "G-1"})
    untouched = people[25]
    untouched_at = User.objects.get(pk=untouched.pk).updated_at
    an_hour_ago = timezone.now() - timedelta(hours=1)
    User.objects.filter(pk__in=[p.pk for p in people[:20]]).update(updated_at=an_hour_ago)

    with CaptureQueriesContext(connection) as queries:
        deleted = services.custom_attribute_remove(
            attribute=attribute, actor=Actor.admin(primary_admin)
        )

    assert deleted == 20
    updates = [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{User._meta.db_table}"')]
    assert len(updates) == 1
    assert not CustomAttribute.objects.filter(organisation=org, name="costCentre").exists()
    for n, person in enumerate(people[:20]):
        assert values_of(person) == ({"track": "Sales"} if n % 2 else {})
        assert person.updated_at > an_hour_ago  # their SCIM representation changed
    assert values_of(untouched) == {}
    assert User.objects.get(pk=untouched.pk).updated_at == untouched_at
    assert values_of(theirs) == {"costCentre": "G-1"}
    assert CustomAttribute.objects.filter(organisation=other_org).count() == 1
    event = AuditEvent.objects.get(action="custom_attribute.remove")
    assert (event.organisation, event.actor_user) == (org, primary_admin)
    assert event.changes == {"name": "costCentre", "type": "string", "values_deleted": 20}


def test_removing_an_attribute_nobody_has_a_value_of(org, learner):
    attribute = add(org)

    assert services.custom_attribute_remove(attribute=attribute, actor=SYSTEM) == 0

    assert not CustomAttribute.objects.exists()
    assert values_of(learner) == {}


def test_a_new_attribute_of_a_removed_name_starts_without_values(org, learner):
    """A value a request racing the removal wrote after it (its definitions read before) is
    never published, and a new attribute of that name does not inherit it."""
    add(org, name="costCentre")
    User.objects.filter(pk=learner.pk).update(custom_attributes={"costCentre": "left over"})
    services.custom_attribute_remove(
        attribute=CustomAttribute.objects.get(name="costCentre"), actor=SYSTEM
    )
    User.objects.filter(pk=learner.pk).update(custom_attributes={"costCentre": "raced in"})

    add(org, name="costCentre", type="integer")

    assert values_of(learner) == {}


def test_a_name_may_be_used_again_after_removal(org):
    services.custom_attribute_remove(attribute=add(org, name="costCentre"), actor=SYSTEM)

    assert add(org, name="COSTCENTRE", type="integer").type == "integer"


# --- typed values (pure) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "given", "stored"),
    [
        ("string", "  kept exactly  ", "  kept exactly  "),
        ("boolean", True, True),
        ("boolean", " TRUE ", True),
        ("boolean", "False", False),
        ("integer", 42, 42),
        ("integer", "-7", -7),
        ("integer", "+007", 7),
        ("integer", 2**63 - 1, 2**63 - 1),
        ("decimal", 3, 3.0),
        ("decimal", "12.50", 12.5),
        ("decimal", 0.25, 0.25),
        ("dateTime", "2026-01-31T09:00:00Z", "2026-01-31T09:00:00Z"),
        ("dateTime", "2026-01-31T09:00:00.250-05:00", "2026-01-31T14:00:00.250000Z"),
        ("dateTime", "2026-01-31T09:00:00", "2026-01-31T09:00:00Z"),
        ("dateTime", "2026-01-31", "2026-01-31T00:00:00Z"),
    ],
)
def test_values_are_read_as_their_type(type_, given, stored):
    value = typed_value(type_, given)
    assert value == stored and type(value) is type(stored)


@pytest.mark.parametrize("type_", AttributeType.values)
@pytest.mark.parametrize("empty", [None, ""])
def test_none_and_empty_mean_no_value_for_every_type(type_, empty):
    assert typed_value(type_, empty) is None


@pytest.mark.parametrize(
    ("type_", "given"),
    [
        ("string", True),
        ("string", "x" * 2049),
        ("boolean", 1),
        ("boolean", "1"),
        ("integer", 1.0),
        ("integer", "1e3"),
        ("integer", 2**63),
        ("integer", "99999999999999999999"),
        ("decimal", False),
        ("decimal", "Infinity"),
        ("decimal", "twelve"),
        ("decimal", float("nan")),
        ("dateTime", "yesterday"),
        ("dateTime", 1767225600),
    ],
)
def test_values_that_do_not_fit_are_refused(type_, given):
    with pytest.raises(ValueRefused):
        typed_value(type_, given)
