"""/Groups: teams pushed from Okta and Entra, and their members (RFC 7644 §3; DESIGN §5)."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.models import Team, User
from scim import filters, groups, patch, query
from scim.api import ScimView, by_public_id
from scim.documents import list_response, version_of
from scim.errors import not_found
from scim.query import (
    Projection,
    projection_of,
    search_parameters,
)
from scim.schema import CORE_GROUP, GROUP

FULL = Projection()


class GroupsView(ScimView):
    resource_type = "Group"

    def get(self, request: Request, organisation_id: str) -> Response:
        return self.listing(request.query_params)

    def listing(self, params: Mapping[str, str]) -> Response:
        found = query.listing(
            params,
            Team.objects.filter(organisation=self.organisation),
            resource=GROUP,
            to_filter=filters.group_filter,
            ordering=filters.group_ordering,
        )
        wants_members = found.projection.wants(CORE_GROUP, "members")
        members = groups.members_of(found.rows) if wants_members else {}
        resources = [
            self.render(team, members.get(team.pk), found.projection) for team in found.rows
        ]
        return Response(
            list_response(resources, total=found.total, start_index=found.page.start_index)
        )

    def post(self, request: Request, organisation_id: str) -> Response:
        group_input = groups.parse(self.body(request))
        self.target.label = group_input.display_name
        with transaction.atomic():
            people = groups.resolve(self.organisation, group_input.member_ids or [])
            team = services.team_create(
                organisation=self.organisation,
                actor=self.actor,
                display_name=group_input.display_name,
                external_id=group_input.external_id,
                members=list(people.values()),
            )
        self.target.resource_id = str(team.public_id)
        response = self._answer(team.pk, status=201)
        response["Location"] = f"{self.tenant_url()}/Groups/{team.public_id}"
        return response

    def render(self, team: Team, members: Any, projection: Projection) -> dict[str, Any]:
        return groups.render(team, members, tenant_url=self.tenant_url(), projection=projection)

    def _answer(self, pk: int, status: int = 200) -> Response:
        team = Team.objects.get(pk=pk)
        members = groups.members_of([team]).get(team.pk)
        return Response(
            self.render(team, members, FULL), status=status, headers={"ETag": version_of(team)}
        )


class GroupsSearchView(GroupsView):
    """POST /Groups/.search: the same query, its parameters in a SearchRequest body."""

    http_method_names = ["post"]

    def post(self, request: Request, organisation_id: str) -> Response:
        return self.listing(search_parameters(self.body(request)))


class GroupView(GroupsView):
    def get(self, request: Request, organisation_id: str, resource_id: str) -> Response:  # type: ignore[override]
        projection = projection_of(request.query_params, GROUP)
        team = self._find(resource_id, self._teams())
        version = version_of(team)
        if self.not_modified(request, version):
            return Response(status=304, headers={"ETag": version})
        wants_members = projection.wants(CORE_GROUP, "members")
        members = groups.members_of([team]).get(team.pk) if wants_members else None
        return Response(self.render(team, members, projection), headers={"ETag": version})

    def put(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        """Okta's App Integration Wizard apps push every change, memberships included, as PUT."""
        group_input = groups.parse(self.body(request))
        with transaction.atomic():
            team = self._for_update(request, resource_id)
            people = groups.resolve(self.organisation, group_input.member_ids or [])
            services.team_update(
                team=team,
                actor=self.actor,
                display_name=group_input.display_name,
                external_id=group_input.external_id,
            )
            self._set_members(team, list(people.values()))
        return self._answer(team.pk)

    def patch(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        operations = patch.parse_patch(self.body(request))
        changes = patch.group_patch(operations)
        self.target.ignored = changes.ignored
        with transaction.atomic():
            team = self._for_update(request, resource_id)
            people = groups.resolve(
                self.organisation, [i for _, ids in changes.member_steps for i in ids]
            )
            team_changes: dict[str, Any] = {}
            if changes.display_name is not patch.UNSET:
                team_changes["display_name"] = changes.display_name
            if changes.external_id is not patch.UNSET:
                team_changes["external_id"] = changes.external_id
            if team_changes:
                services.team_update(team=team, actor=self.actor, **team_changes)
            for step, ids in changes.member_steps:
                users = [people[i] for i in ids]
                if step == "add":
                    services.team_add_members(team=team, actor=self.actor, users=users)
                elif step == "remove":
                    services.team_remove_members(team=team, actor=self.actor, users=users)
                else:
                    self._set_members(team, users)
        return Response(status=204)

    def delete(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        with transaction.atomic():
            team = self._for_update(request, resource_id)
            services.team_delete(team=team, actor=self.actor)
        return Response(status=204)

    def _set_members(self, team: Team, users: list[User]) -> None:
        """A full member list from SCIM speaks for the people SCIM can see: members who are
        deleted (hidden from SCIM) keep their membership for when they are revived."""
        hidden = list(team.members.filter(deleted_at__isnull=False))
        services.team_set_members(team=team, actor=self.actor, users=[*users, *hidden])

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
        self.check_if_match(request, version_of(team))
        return team
