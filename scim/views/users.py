"""/Users: Okta's and Entra's view of the organisation's people (RFC 7644 §3; DESIGN §4 and §5)."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.errors import UserConflict
from accounts.models import User, UserQuerySet
from scim import filters, patch, query, users
from scim.api import ScimView, by_public_id
from scim.documents import list_response, version_of
from scim.errors import not_found, uniqueness
from scim.query import (
    Projection,
    projection_of,
    search_parameters,
)
from scim.schema import ENTERPRISE_USER, USER

FULL = Projection()


class UsersView(ScimView):
    resource_type = "User"

    def get(self, request: Request, organisation_id: str) -> Response:
        return self.listing(request.query_params)

    def listing(self, params: Mapping[str, str]) -> Response:
        found = query.listing(
            params,
            User.objects.for_organisation(self.organisation).not_deleted(),
            resource=USER,
            to_filter=filters.user_filter,
            ordering=filters.user_ordering,
            load=lambda people, _: users.with_manager(people),
        )
        users.attach_teams(found.rows, found.projection)
        resources = [self.render(user, found.projection) for user in found.rows]
        return Response(
            list_response(resources, total=found.total, start_index=found.page.start_index)
        )

    def post(self, request: Request, organisation_id: str) -> Response:
        user_input = users.parse(self.body(request))
        self.target.label, self.target.ignored = user_input.username, user_input.ignored
        with transaction.atomic():
            user = self._create_or_revive(user_input)
        user = self.fresh(user.pk)
        self.target.resource_id = str(user.public_id)
        response = Response(self.render(user, FULL), status=201)
        response["Location"] = self.location(user)
        response["ETag"] = version_of(user)
        return response

    def _create_or_revive(self, user_input: users.UserInput) -> User:
        """A person who was deactivated or deleted comes back as the same row, with their
        history; only an active match is a conflict (DESIGN §4)."""
        active = True if user_input.active is None else user_input.active
        try:
            with transaction.atomic():
                return services.user_create(
                    organisation=self.organisation,
                    actor=self.actor,
                    username=user_input.username,
                    active=active,
                    manager=user_input.manager,
                    **user_input.fields,
                )
        except UserConflict as conflict:
            existing = conflict.existing
            if existing is None or (existing.is_active and not existing.is_deleted):
                raise uniqueness(
                    f'An active user with {conflict.field} "{conflict.value}" already exists. '
                    "Link the identity provider's user to it instead of creating another."
                ) from None
        user = services.user_revive(
            user=existing,
            actor=self.actor,
            active=active,
            username=user_input.username,
            **user_input.fields,
        )
        if user_input.manager is not None:
            services.user_set_manager_reference(
                user=user, actor=self.actor, reference=user_input.manager
            )
        return user

    def render(self, user: User, projection: Projection) -> dict[str, Any]:
        return users.render(user, tenant_url=self.tenant_url(), projection=projection)

    @staticmethod
    def fresh(pk: int) -> User:
        """The person as the database now holds them, with what rendering needs."""
        user = users.with_manager(User.objects.filter(pk=pk)).get()
        users.attach_teams([user], FULL)
        return user

    def location(self, user: User) -> str:
        return f"{self.tenant_url()}/Users/{user.public_id}"


class UsersSearchView(UsersView):
    """POST /Users/.search: the same query, its parameters in a SearchRequest body."""

    http_method_names = ["post"]

    def post(self, request: Request, organisation_id: str) -> Response:
        return self.listing(search_parameters(self.body(request)))


class UserView(UsersView):
    def get(self, request: Request, organisation_id: str, resource_id: str) -> Response:  # type: ignore[override]
        projection = projection_of(request.query_params, USER)
        user = self._find(resource_id, users.with_manager(self._people()))
        version = version_of(user)
        if self.not_modified(request, version):
            return Response(status=304, headers={"ETag": version})
        users.attach_teams([user], projection)
        return Response(self.render(user, projection), headers={"ETag": version})

    def put(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        user_input = users.parse(self.body(request))
        self.target.ignored = user_input.ignored
        with transaction.atomic():
            user = self._for_update(request, resource_id)
            # PUT replaces the profile; the enterprise extension (department, employee number,
            # manager) only when the body carries it, so a PUT from an app that does not map
            # it does not wipe a manager linked earlier.
            touch_manager = user_input.manager is not None
            users.apply(user, user_input, actor=self.actor, touch_manager=touch_manager)
        return self._answer(user.pk)

    def patch(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        operations = patch.parse_patch(self.body(request))
        with transaction.atomic():
            user = self._for_update(request, resource_id)
            before = self.render(self.fresh(user.pk), FULL)
            result = patch.apply_user_patch(before, operations)
            self.target.ignored = result.ignored
            # The extension is always part of a patched user, even when the patch emptied it:
            # leaving it out would mean "unchanged" (as for PUT) and undo a removal.
            user_input = users.parse({ENTERPRISE_USER: {}, **result.resource})
            touch_manager = users.manager_part(before) != users.manager_part(result.resource)
            users.apply(user, user_input, actor=self.actor, touch_manager=touch_manager)
        return self._answer(user.pk)

    def delete(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        with transaction.atomic():
            user = self._for_update(request, resource_id)
            services.user_delete(user=user, actor=self.actor)
        return Response(status=204)

    def _people(self) -> UserQuerySet:
        return User.objects.for_organisation(self.organisation).not_deleted()

    def _find(self, resource_id: str, people: QuerySet[User]) -> User:
        """The user, or a SCIM 404 for anything else: malformed ids, deleted users and other
        organisations' users alike."""
        user = by_public_id(people, resource_id)
        if user is None:
            raise not_found(f'No user with id "{resource_id[:64]}" in this organisation.')
        self.target.resource_id, self.target.label = str(user.public_id), user.username
        return user

    def _for_update(self, request: Request, resource_id: str) -> User:
        user = self._find(resource_id, self._people().select_for_update())
        self.check_if_match(request, version_of(user))
        return user

    def _answer(self, pk: int) -> Response:
        user = self.fresh(pk)
        version = version_of(user)
        return Response(self.render(user, FULL), headers={"ETag": version})
