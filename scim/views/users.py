"""/Users: Okta's and Entra's view of the organisation's people (RFC 7644 §3; DESIGN §4 and §5)."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.errors import UserConflict
from accounts.models import PeopleCount, User
from scim import filters, hot_reads, patch, query, transactions, users
from scim.api import ScimView
from scim.errors import not_found, uniqueness
from scim.query import (
    Projection,
    projection_of,
    search_parameters,
)
from scim.schema import CUSTOM_USER, ENTERPRISE_USER, ResourceType

FULL = Projection()


@dataclass(frozen=True)
class Changed:
    """A person a POST, PUT or PATCH wrote, and whether the answer must read them again."""

    user: User
    read_again: bool


class UserResourceView(ScimView):
    """What the /Users endpoints share: listing, rendering and reading a person back. The
    collection, .search and one-person views each add only their own methods, so a method one
    of them lacks is a 405 rather than another view's handler called with the wrong URL."""

    resource_type = "User"

    @cached_property
    def user_type(self) -> ResourceType:
        """User as this organisation has it: its own attributes are read from the database at
        most once, and only by what names them (never by a lookup, a GET or a list page)."""
        return users.user_type_of(self.organisation)

    def listing(self, params: Mapping[str, str]) -> Response:
        lookup = hot_reads.username_lookup(params)
        if lookup is not None:  # Okta's and Entra's lookup: compiled once (scim.hot_reads)
            name, page = lookup
            projection = projection_of(params, self.user_type)
            found = hot_reads.by_username(self.organisation, name, projection)[: page.count]
            return self._page(query.Listing(found, projection, total=len(found), page=page))
        first_page = hot_reads.first_page_of_everyone(params)
        if first_page is not None:  # an import's first page: compiled once too
            projection = projection_of(params, self.user_type)
            rows, total = hot_reads.first_page(self.organisation, first_page.count, projection)
            return self._page(query.Listing(rows, projection, total=total, page=first_page))
        return self._page(self._general_listing(params))

    def _general_listing(self, params: Mapping[str, str]) -> query.Listing[User]:
        return query.listing(
            params,
            User.objects.for_organisation(self.organisation).not_deleted(),
            resource=self.user_type,
            organisation_id=self.organisation.pk,
            to_filter=lambda text: filters.user_filter(text, self.user_type),
            ordering=lambda by, order: filters.user_ordering(by, order, self.user_type),
            load=users.for_rendering,
            count_all=lambda: PeopleCount.of(self.organisation.pk),
            load_ids=hot_reads.by_ids,
        )

    def _page(self, found: query.Listing[User]) -> Response:
        users.attach_teams(found.rows, found.projection)
        resources = [self.render(user, found.projection) for user in found.rows]
        return Response(found.document(resources))

    def render(self, user: User, projection: Projection) -> dict[str, Any]:
        return users.render(user, tenant_url=self.tenant_url(), projection=projection)

    @staticmethod
    def fresh(pk: int) -> User:
        """The person as the database now holds them, with what rendering needs."""
        user = users.for_rendering(User.objects.filter(pk=pk), FULL, one=True).get()
        users.attach_teams([user], FULL)
        return user

    def location(self, user: User) -> str:
        return f"{self.tenant_url()}/Users/{user.public_id}"


class UsersView(UserResourceView):
    """GET /Users (list, filter) and POST /Users (create, or revive)."""

    def get(self, request: Request, organisation_id: str) -> Response:
        return self.listing(request.query_params)

    def post(self, request: Request, organisation_id: str) -> Response:
        user_input = users.parse(self.body(request), self.user_type)
        self.target.label, self.target.ignored = user_input.username, user_input.ignored

        def create() -> Changed:
            user, revived = self._create_or_revive(user_input)
            if user_input.custom is not None:  # all of them, as for PUT
                services.user_set_custom_attributes(
                    user=user, actor=self.actor, values=user_input.custom, replace=True
                )
            # A new person is answered from the row just written, as a PUT's answer is
            # (_answer): no teams yet, and no manager's columns to join. Read again when they
            # came back with their teams, were given a manager or their own attributes.
            has_manager = user_input.manager is not None and not user_input.manager.is_empty
            return Changed(user, revived or has_manager or user_input.custom is not None)

        created = transactions.write(create)
        user = created.user
        user = self.fresh(user.pk) if created.read_again else users.as_created(user)
        self.target.resource_id = str(user.public_id)
        response = Response(self.render(user, FULL), status=201)
        response["Location"] = self.location(user)
        response["ETag"] = users.version(user)
        return response

    def _create_or_revive(self, user_input: users.UserInput) -> tuple[User, bool]:
        """A person who was deactivated or deleted comes back as the same row, with their
        history; only an active match is a conflict (DESIGN §4). True when they came back."""
        active = True if user_input.active is None else user_input.active
        try:
            # user_create checks before it writes, and a create that loses a race inserts
            # nothing: a conflict leaves this request's transaction usable, and the revival
            # below goes on in it without a savepoint here.
            created = services.user_create(
                organisation=self.organisation,
                actor=self.actor,
                username=user_input.username,
                active=active,
                manager=user_input.manager,
                **user_input.fields,
            )
            return created, False
        except UserConflict as conflict:
            existing = conflict.existing
            if existing is not None:
                # Okta retries and Entra sends in parallel: of several POSTs of the same person
                # at once, the first to lock the row revives it; the others, once it commits,
                # see an active person and get the 409 below.
                existing = User.objects.select_for_update(no_key=True).get(pk=existing.pk)
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
        return user, True


class UsersSearchView(UserResourceView):
    """POST /Users/.search: the same query, its parameters in a SearchRequest body."""

    def post(self, request: Request, organisation_id: str) -> Response:
        return self.listing(search_parameters(self.body(request)))


class UserView(UserResourceView):
    """GET, PUT, PATCH and DELETE of one person."""

    def get(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        projection = projection_of(request.query_params, self.user_type)
        person = hot_reads.by_id(self.organisation, resource_id, projection)
        user = self._found(resource_id, person)
        users.attach_teams([user], projection)
        version = users.version(user)
        if self.not_modified(request, version):
            return Response(status=304, headers={"ETag": version})
        return Response(self.render(user, projection), headers={"ETag": version})

    def put(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        user_input = users.parse(self.body(request), self.user_type)
        self.target.ignored = user_input.ignored

        def replace() -> Changed:
            user = self._for_update(request, resource_id, rendered=True)
            # PUT replaces the profile; each extension (the enterprise one: its attributes and
            # the manager; the organisation's own) only when the body carries it, so a PUT from
            # an app that does not map it does not wipe a manager linked earlier.
            touch_manager = user_input.manager is not None
            manager_before = users.manager_link(user)
            users.apply(user, user_input, actor=self.actor, touch_manager=touch_manager)
            read_again = users.manager_link(user) != manager_before or bool(user_input.custom)
            return Changed(user, read_again)

        return self._answer(transactions.write(replace))

    def patch(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        operations = patch.parse_patch(self.body(request))

        def update() -> Changed:
            # Read once, locked, with what rendering needs: the before-image the patch applies
            # to is rendered from this very row, not from a second read of it.
            user = self._for_update(request, resource_id, rendered=True)
            before = self.render(user, FULL)
            result = patch.apply_user_patch(before, operations, self.user_type)
            self.target.ignored = result.ignored
            # The enterprise extension is always part of a patched user, even when the patch
            # emptied it: leaving it out would mean "unchanged" (as for PUT) and undo a removal.
            # The organisation's own attributes are compared instead, and only those the patch
            # changed are set: a patch that names none reads no definition of them.
            patched = {ENTERPRISE_USER: {}, **result.resource}
            custom = users.custom_changes(before, patched.pop(CUSTOM_USER, {}))
            user_input = users.parse(patched, self.user_type)
            user_input.custom = custom
            touch_manager = "manager" in result.cleared or (
                users.manager_part(before) != users.manager_part(result.resource)
            )
            manager_before = users.manager_link(user)
            users.apply(
                user,
                user_input,
                actor=self.actor,
                touch_manager=touch_manager,
                replace_custom=False,
            )
            return Changed(user, users.manager_link(user) != manager_before or bool(custom))

        return self._answer(transactions.write(update))

    def delete(self, request: Request, organisation_id: str, resource_id: str) -> Response:
        def delete() -> User:
            user = self._for_update(request, resource_id)
            return services.user_delete(user=user, actor=self.actor)

        transactions.write(delete)
        return Response(status=204)

    def _found(self, resource_id: str, user: User | None) -> User:
        """The user, or a SCIM 404 for anything else: malformed ids, deleted users and other
        organisations' users alike."""
        if user is None:
            raise not_found(f'No user with id "{resource_id[:64]}" in this organisation.')
        self.target.resource_id, self.target.label = str(user.public_id), user.username
        return user

    def _for_update(self, request: Request, resource_id: str, *, rendered: bool = False) -> User:
        """The person, locked for this request's transaction (scim.hot_reads.locked);
        ``rendered``: with what render() needs, their manager's columns by a join that is not
        locked and their teams."""
        user = self._found(
            resource_id, hot_reads.locked(self.organisation, resource_id, rendered=rendered)
        )
        if rendered:
            users.attach_teams([user], FULL)
        self.check_if_match(request, users.version(user))
        return user

    def _answer(self, changed: Changed) -> Response:
        """The person as this request left them. Rendered from the row it locked, read with
        what rendering needs (``_for_update``) and changed through the services, which set on
        it exactly what they write: one SELECT of the person and one of their teams fewer per
        PUT or PATCH. Read again when their manager or the organisation's own attributes
        changed: the manager's columns come from a join, and those values are answered as they
        are stored."""
        if changed.read_again:
            user = self.fresh(changed.user.pk)
        else:
            user = changed.user
            users.note_change(user)
        version = users.version(user)
        return Response(self.render(user, FULL), headers={"ETag": version})
