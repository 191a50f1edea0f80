"""When a person's SCIM representation last changed (RFC 7644 §3.14: the version, and with it
meta.lastModified, changes whenever the representation does; DESIGN §5).

A person's representation shows the names of their teams. Renaming a team of 10,000 people must
not write 10,000 rows, nor adding 256 people to a team 256 person rows, so a team keeps when it
was renamed (``Team.renamed_at``), a membership when it began (``TeamMembership.created_at``),
and a person's lastModified is the latest of their own ``updated_at``, their teams' renaming and
their joining, worked out in the query that reads them. Everything else that changes what a
person looks like (their own fields, leaving a team, their manager's email, the manager's
deletion or revival) moves the person's own ``updated_at`` in the same transaction
(``accounts.services``).
"""

import datetime as dt

from django.db.models import DateTimeField, Max, OuterRef, Q, Subquery
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest

from accounts.models import TeamMembership


def user_last_modified() -> Expression:
    """A person's lastModified, as an expression over their row: one correlated lookup of their
    memberships (an index scan of a handful of rows), in the same statement."""
    teams_renamed = Subquery(
        TeamMembership.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(latest=Max(membership_changed()))
        .values("latest"),
        output_field=DateTimeField(),
    )
    # Coalesce: SQLite's GREATEST (MAX) is NULL when any argument is, and most people's
    # teams were never renamed after they joined, or they have none.
    return Greatest(
        "updated_at", Coalesce(teams_renamed, "updated_at"), output_field=DateTimeField()
    )


def membership_changed() -> Expression:
    """What a membership adds to its person's lastModified: the later of its team's renaming
    and its own beginning."""
    return Greatest("team__renamed_at", "created_at", output_field=DateTimeField())


def last_modified_is(lookup: str, moment: dt.datetime) -> Q:
    """``lastModified <lookup> moment`` as a condition on people, for filters.

    Spelled out over the two sources rather than by comparing ``user_last_modified()``, so
    that an incremental import (``meta.lastModified gt "…"``) does not work the expression out
    for each of 100,000 people: the renamed teams are found first, then their members.
    ``lookup`` is one of exact, gt, gte, lt, lte."""
    if lookup == "exact":
        return last_modified_is("gte", moment) & last_modified_is("lte", moment)
    own = Q(**{f"updated_at__{lookup}": moment})
    if lookup in ("gt", "gte"):
        return own | _in_team_renamed(lookup, moment)
    # The latest of several is before the moment only if every one of them is.
    opposite = {"lt": "gte", "lte": "gt"}[lookup]
    return own & ~_in_team_renamed(opposite, moment)


def _in_team_renamed(lookup: str, moment: dt.datetime) -> Q:
    """In a team renamed, or joined, ``lookup`` the moment (each side by its own index)."""
    changed = TeamMembership.objects.filter(
        Q(**{f"team__renamed_at__{lookup}": moment}) | Q(**{f"created_at__{lookup}": moment})
    )
    return Q(pk__in=changed.values("user_id"))
