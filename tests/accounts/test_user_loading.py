"""People read, with every column or some, are made without Model.__init__
(accounts.models.User.from_db): the same instance Django makes, and Django's way whenever
something relies on __init__."""

from typing import Any

import pytest
from django.db.models.base import Model
from django.db.models.signals import post_init

from accounts import services
from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def _as_django_makes_it(user: User) -> User:
    values = [getattr(user, field.attname) for field in User._meta.concrete_fields]
    return Model.from_db.__func__(User, user._state.db, None, values)  # type: ignore[attr-defined]


def _contents(user: User) -> dict[str, Any]:
    return {
        **{name: value for name, value in vars(user).items() if name != "_state"},
        "adding": user._state.adding,
        "db": user._state.db,
    }


def test_a_person_read_whole_is_what_django_makes(org):
    boss = factories.user(org, "boss@acme.test")
    person = factories.user(
        org,
        "lee@acme.test",
        emails=[{"value": "lee@acme.test", "primary": True}],
        custom_attributes={"badge": 7},
    )
    services.user_set_manager(user=person, actor=factories.SYSTEM, manager=boss)

    read = User.objects.get(pk=person.pk)

    assert _contents(read) == _contents(_as_django_makes_it(read))
    assert read.manager is not None and read.manager.username == "boss@acme.test"  # as usual
    assert read.organisation == org
    read.title = "Lead"
    read.save(update_fields=["title"])  # and it saves as an instance Django made
    assert User.objects.get(pk=person.pk).title == "Lead"
    assert read._state.adding is False


def test_a_person_read_in_part_is_what_django_makes(org):
    person = factories.user(org, "lee@acme.test", title="Lead")

    partial = User.objects.only("pk", "username", "organisation_id").get(pk=person.pk)

    names = [f.attname for f in User._meta.concrete_fields if f.attname in vars(partial)]
    values = [getattr(partial, name) for name in names]
    django_made = Model.from_db.__func__(User, "default", names, values)  # type: ignore[attr-defined]
    assert names == ["id", "organisation_id", "username"]
    assert _contents(partial) == _contents(django_made)
    assert partial.get_deferred_fields() == django_made.get_deferred_fields() >= {"email", "title"}
    assert partial.title == "Lead"  # a deferred column, loaded when asked


def test_init_receivers_take_django_s_way(org):
    person = factories.user(org, "lee@acme.test")
    seen: list[User] = []

    def receiver(sender: Any, instance: User, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=User)
    try:
        read = User.objects.get(pk=person.pk)
    finally:
        post_init.disconnect(receiver, sender=User)
    assert seen == [read]
