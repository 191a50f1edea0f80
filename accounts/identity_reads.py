"""The two reads a create makes before it writes, by SQL compiled once per process
(auzlearn/compiled_reads.py): who already holds the userName or the externalId, and who waits
for the new person as their manager. Building and compiling these two querysets (a Q of four
branches, a Lower, an annotation to order by, a lock) was 40% of a POST /Users' Python, more
than the statements themselves (cProfile, bench/README.md, issue 15). Each read comes in a few
fixed shapes, so that one compiled SQL text serves every person of that shape.
"""

from functools import cache
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.db.models.functions import Lower

from accounts.models import User
from auzlearn.compiled_reads import BoundRead, CompiledRead

# Marker values (compiled_reads): each differs from every value these queries send otherwise.
_ORGANISATION, _PERSON = -1, -2
_USERNAME, _EXTERNAL_ID = "\x00username-marker", "\x00external-id-marker"


def identifier_holder(user: User) -> User | None:
    """Someone else in the organisation (active, inactive or deleted) whose userName matches
    ``user``'s ignoring case, or, failing that, whose externalId equals ``user``'s; only their
    pk is read. ``holds_the_username`` tells which of the two they hold."""
    read = _holders(bool(user.external_id), user.pk is not None)
    values: dict[str, Any] = {"organisation_id": user.organisation_id, "username": user.username}
    if user.external_id:
        values["external_id"] = user.external_id
    if user.pk is not None:
        values["pk"] = user.pk
    found = read(**values)
    return found[0] if found else None


@cache
def _holders(with_external_id: bool, excluding_a_person: bool) -> CompiledRead[User]:
    def build(
        organisation_id: int, username: str, external_id: str = "", pk: int = 0
    ) -> QuerySet[User]:
        people = (
            User.objects.get_queryset()
            .filter(organisation_id=organisation_id)
            .alias(username_lower=Lower("username"))
        )
        if excluding_a_person:
            people = people.exclude(pk=pk)
        same_name = Q(username_lower=Lower(Value(username)))
        wanted = same_name | Q(external_id=external_id) if with_external_id else same_name
        # The userName's holder first: that is the conflict reported when both are taken.
        return (
            people.filter(wanted)
            .annotate(holds_the_username=ExpressionWrapper(same_name, output_field=BooleanField()))
            .order_by("-holds_the_username")
            .only("pk")[:1]
        )

    markers: dict[str, Any] = {"organisation_id": _ORGANISATION, "username": _USERNAME}
    if with_external_id:
        markers["external_id"] = _EXTERNAL_ID
    if excluding_a_person:
        markers["pk"] = _PERSON
    return CompiledRead(build, repeated=("username",), **markers)


def waiting_reports(manager: User) -> list[User]:
    """The people of ``manager``'s organisation whose pending manager reference names them (by
    id or externalId as value, by userName or email as display), locked FOR NO KEY UPDATE in id
    order; only what linking them and auditing it needs is read."""
    return waiting_reports_read(manager).fetch()


def waiting_reports_read(manager: User) -> BoundRead[User]:
    """That read, not yet sent: a create sends it with its inserts, in one round trip
    (auzlearn/one_trip_inserts.py)."""
    public_id = str(manager.public_id)
    return _WAITING.bound(
        organisation_id=manager.organisation_id,
        pk=manager.pk,
        value_a=public_id,
        value_b=manager.external_id or public_id,
        display_a=manager.username,
        display_b=manager.email or manager.username,
    )


def _waiting(
    organisation_id: int, pk: int, value_a: str, value_b: str, display_a: str, display_b: str
) -> QuerySet[User]:
    # Each condition repeats "not empty" so that PostgreSQL can use the partial indexes on the
    # pending reference (accounts.models.User.Meta); two values and two displays whatever the
    # manager has (a missing one repeats the other), so that one SQL text serves everyone.
    names_manager = Q(pending_manager_value__in=[value_a, value_b]) & ~Q(pending_manager_value="")
    for display in (display_a, display_b):
        names_manager |= Q(display_lower=Lower(Value(display))) & ~Q(pending_manager_display="")
    return (
        User.objects.filter(organisation_id=organisation_id)
        .exclude(pk=pk)
        .alias(display_lower=Lower("pending_manager_display"))
        .filter(names_manager)
        .order_by("pk")
        .select_for_update(no_key=True)
        .only("pk", "organisation_id", "public_id", "username")
    )


_WAITING = CompiledRead(
    _waiting,
    organisation_id=_ORGANISATION,
    pk=_PERSON,
    value_a="\x00value-marker-a",
    value_b="\x00value-marker-b",
    display_a="\x00display-marker-a",
    display_b="\x00display-marker-b",
)
