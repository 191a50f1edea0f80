"""/Groups: teams pushed from Okta and Entra, and their members (RFC 7644 §3; DESIGN §5)."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.models import Team
from scim import filters, groups, patch, query, transactions
from scim.api import ScimView, by_public_id
from scim.errors import not_found
from scim.patch import GroupPatch
from scim.query import (
    Projection,
    projection_of,
    search_parameters,
)
from scim.schema import CORE_GROUP, GROUP

FULL = Projection()


class GroupResourceView(ScimView):
    """What the /Groups endpoints share: listing and rendering. The collection, .search and
    one-team views each add only their own methods (see UserResourceView)."""

    resource_type = "Group"

    def listing(self, params: Mapping[str, str]) -> Response:
        found = query.listing(
            params,
            Team.objects.filter(organisation=self.organisation),
            resource=GROUP,
            organisation_id=self.organisation.pk,
            to_filter=filters.group_filter,
            ordering=filters.group_ordering,
        )
        wants_members = found.projection.wants(CORE_GROUP, "members")
        members = groups.members_of(found.rows) if wants_members else {}
        resources = [
            self.render(team, members.get(team.pk), found.projection) for team in found.rows
        ]
        return Response(found.document(resources))

    def render(self, team: Team, members: Any, projection: Projection) -> dict[str, Any]:
        return groups.render(team, members, tenant_url=self.tenant_url(), projection=projection)

    def _answer(self, pk: int, status: int = 200) -> Response:
        team = Team.objects.get(pk=pk)
        members = groups.members_of([team]).get(team.pk)
        return Response(
            self.render(team, members, FULL), status=status, headers={"ETag": groups.version(team)}
        )


class GroupsView(GroupResourceView):
    """GET /Groups (list, filter) and POST /Groups (create)."""

    def get(self, request: Request, organisation_id: str) -> Response:
        return self.listing(request.query_params)

    def post(self, request: Request, organisation_id: str) -> Response:
        group_input = groups.parse(self.body(request))
        self.target.label = group_input.display_name

        def create() -> Team:
            people = groups.resolve(self.organisation, joining=group_input.member_ids or [])
            return services.team_create(
                organisation=self.organisation,
                actor=self.actor,
                display_name=group_input.display_name,
                external_id=group_input.external_id,
                members=list(people.values()),
            )

        team = transactions.write(create)
        self.target.resource_id = str(team.public_id)
        response = self._answer(team.pk, status=201)
        response["Location"] = f"{self.tenant_url()}/Groups/{team.public_id}"
        return response


class GroupsSearchView(GroupResourceView):
    """POST /Groups/.search: the same query, its parameters in a SearchRequest body."""

    def post(self, request: Request, organisation_id: str) -> Response:
        return self.listing(search_parameters(self.body(request)))


class GroupView(GroupResourceView):
    """GET, PUT, PATCH and DELETE of one team."""

    def get(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        projection = projection_of(request.query_params, GROUP)
        team = self._find(resource_id, self._teams())
        version = groups.version(team)
        if self.not_modified(request, version):
            return Response(status=304, headers={"ETag": version})
        wants_members = projection.wants(CORE_GROUP, "members")
        members = groups.members_of([team]).get(team.pk) if wants_members else None
        return Response(self.render(team, members, projection), headers={"ETag": version})

    def put(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        """Okta's App Integration Wizard apps push every change, memberships included, as PUT."""
        group_input = groups.parse(self.body(request))

        def replace() -> Team:
            team = self._for_update(request, resource_id)
            people = groups.resolve(self.organisation, joining=group_input.member_ids or [])
            services.team_update(
                team=team,
                actor=self.actor,
                display_name=group_input.display_name,
                external_id=group_input.external_id,
            )
            return services.team_set_members(
                team=team, actor=self.actor, users=list(people.values())
            )

        return self._answer(transactions.write(replace).pk)

    def patch(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        operations = patch.parse_patch(self.body(request))
        changes = patch.group_patch(operations)
        self.target.ignored = changes.ignored
        transactions.write(lambda: self._apply(request, resource_id, changes))
        return Response(status=204)

    def _apply(self, request: Request, resource_id: str, changes: GroupPatch) -> None:
        """A PATCH's changes, in one transaction: the name, then each membership step in the
        order the request gave them."""
        people = groups.resolve(  # before the team is locked: see groups.resolve
            self.organisation,
            joining=[i for step, ids in changes.member_steps if step != "remove" for i in ids],
            leaving=[i for step, ids in changes.member_steps if step == "remove" for i in ids],
        )
        team = self._for_update(request, resource_id)
        team_changes: dict[str, Any] = {}
        if changes.display_name is not patch.UNSET:
            team_changes["display_name"] = changes.display_name
        if changes.external_id is not patch.UNSET:
            team_changes["external_id"] = changes.external_id
        if team_changes:
            services.team_update(team=team, actor=self.actor, **team_changes)
        for step, ids in changes.member_steps:
            users = [people[i] for i in ids if i in people]  # unknown ids leave no one
            if step == "add":
                services.team_add_members(team=team, actor=self.actor, users=users)
            elif step == "remove":
                services.team_remove_members(team=team, actor=self.actor, users=users)
            else:
                services.team_set_members(team=team, actor=self.actor, users=users)

    def delete(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        def delete() -> None:
            team = self._for_update(request, resource_id)
            services.team_delete(team=team, actor=self.actor)

        transactions.write(delete)
        return Response(status=204)

    def _teams(self) -> QuerySet[Team]:
        return Team.objects.filter(organisation=self.organisation)

    def _find(self, resource_id: str, teams: QuerySet[Team]) -> Team:
        team = by_public_id(teams, resource_id)
        if team is None:
            raise not_found(f'No group with id "{resource_id[:64]}" in this organisation.')
        self.target.resource_id, self.target.label = str(team.public_id), team.display_name
        return team

    def _for_update(self, request: Request, resource_id: str) -> Team:
        team = self._find(resource_id, self._teams().select_for_update())
        self.check_if_match(request, groups.version(team))
        return team
