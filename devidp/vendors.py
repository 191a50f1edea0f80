"""What Okta and Microsoft Entra ID send, request by request: the one place their differences
live. Each method is one provisioning task of the vendor's engine and sends what that engine
sends for it; devidp.simulation decides which tasks a run has.

Sources: Okta's SCIM 2.0 guide (lookups by ``filter=userName eq`` with startIndex and count,
POST with a random password, profile updates as PUT of the whole user; catalog apps deactivate
and reactivate with PATCH and push groups with PATCH, App Integration Wizard apps send every
change as PUT; Okta never DELETEs a user), and Microsoft's "Develop a SCIM endpoint" guide
(Test Connection filtering on a random GUID, capitalised PATCH operations, booleans as the
strings "True" and "False", the manager as a bare id in its own operation, groups read with
``excludedAttributes=members`` and filled with Add and Remove of member lists, DELETE once a
user is hard-deleted). tests/browser/test_okta_*_journey.py and test_entra_journey.py show the
same shapes against the API.
"""

import secrets
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal
from urllib.parse import quote

from devidp.directory import Person
from devidp.scim_http import Document, ScimHttp

CORE_USER: Final = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER: Final = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP: Final = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP: Final = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"
PATCH_OP: Final = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

OktaApp = Literal["catalog", "aiw"]


@dataclass(frozen=True)
class Found:
    id: str
    active: bool


class Lookup(Enum):
    FAILED = "failed"  # the lookup itself failed: nothing is known of this person


@dataclass(frozen=True)
class TeamState:
    id: str
    name: str
    members: tuple[str, ...]  # member ids, after the change being sent


def where(expression: str) -> str:
    return "filter=" + quote(expression, safe="")


def _members(ids: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    return [{"value": member_id} for member_id in ids]


def _patch(*operations: dict[str, Any]) -> Document:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def _found(document: Document | None) -> Found | Lookup | None:
    if document is None:
        return Lookup.FAILED
    resources = document.get("Resources") or []
    if not resources:
        return None
    return Found(id=str(resources[0]["id"]), active=resources[0].get("active") is not False)


def _created_id(document: Document | None) -> str | None:
    return None if document is None else str(document.get("id") or "") or None


class IdentityProvider(ABC):
    """The tasks a provisioning run is made of; each vendor sends them its own way."""

    name: str
    user_agent: str
    deletes_users: bool  # whether the vendor DELETEs users it no longer has
    imports_users: bool  # whether a run starts by reading every user the app has
    sends_manager_with_user: bool  # or links it in a request of its own (link_manager)

    def __init__(self, http: ScimHttp, seed: int) -> None:
        self.http = http
        self.seed = seed

    @abstractmethod
    def test_connection(self) -> bool:
        """The connection test the admin clicks; False when it failed."""

    @abstractmethod
    def import_users(self) -> None:
        """Read every user the app has (only when ``imports_users``)."""

    @abstractmethod
    def lookup_user(self, person: Person) -> Found | Lookup | None:
        """The app's user with the person's userName, None, or ``Lookup.FAILED``."""

    @abstractmethod
    def create_user(self, person: Person, *, manager: Person | None) -> str | None:
        """Create the person with their first title; their id in the app, or None."""

    @abstractmethod
    def update_user(
        self, person: Person, user_id: str, *, manager: Person | None, manager_id: str | None
    ) -> bool:
        """Send the person's whole current profile to the app."""

    @abstractmethod
    def link_manager(self, person: Person, user_id: str, manager_id: str) -> bool:
        """Set the manager once both are in the app (unless ``sends_manager_with_user``)."""

    @abstractmethod
    def deactivate(self, person: Person, user_id: str, *, manager: Person | None) -> bool:
        """Unassigned, disabled or soft-deleted in the IdP."""

    @abstractmethod
    def reactivate(self, person: Person, user_id: str, *, manager: Person | None) -> bool:
        """Assigned again, or enabled again."""

    @abstractmethod
    def delete(self, person: Person, user_id: str) -> bool:
        """Hard-deleted in the IdP (only when ``deletes_users``)."""

    @abstractmethod
    def lookup_team(self, name: str) -> Found | Lookup | None:
        """The app's group with this displayName, None, or ``Lookup.FAILED``."""

    @abstractmethod
    def create_team(self, name: str, member_ids: tuple[str, ...]) -> str | None:
        """Push a new group with these members; its id in the app, or None."""

    @abstractmethod
    def push_members(self, team: TeamState) -> bool:
        """Push an existing group's members again."""

    @abstractmethod
    def move_member(self, member_id: str, *, source: TeamState, target: TeamState) -> bool:
        """One member leaves ``source`` for ``target`` (their member lists after it)."""


class Okta(IdentityProvider):
    name = "Okta"
    user_agent = "Okta SCIM Client 1.0.0"
    deletes_users = False  # Okta deactivates; it never DELETEs a user
    imports_users = True  # "Import Now", and before provisioning
    sends_manager_with_user = True  # in the enterprise extension of POST and PUT

    def __init__(self, http: ScimHttp, seed: int, app: OktaApp = "catalog") -> None:
        super().__init__(http, seed)
        self.app = app

    def test_connection(self) -> bool:
        # "Test Connector Configuration" / "Test API Credentials".
        return (
            self.http.call("GET", "Users?startIndex=1&count=2", what="test the connection")
            is not None
        )

    def import_users(self) -> None:
        # "Import Now": every page of users, 100 at a time.
        start = 1
        while True:
            page = self.http.call("GET", f"Users?startIndex={start}&count=100", what="import users")
            if page is None:
                return
            returned = int(page.get("itemsPerPage") or len(page.get("Resources") or []))
            start += returned
            if returned == 0 or start > int(page.get("totalResults") or 0):
                return

    def lookup_user(self, person: Person) -> Found | Lookup | None:
        query = where(f'userName eq "{person.username}"') + "&startIndex=1&count=100"
        return _found(self.http.call("GET", f"Users?{query}", what=f"look up {person.username}"))

    def create_user(self, person: Person, *, manager: Person | None) -> str | None:
        body = self._user(person, person.first_title, manager, active=True)
        # Okta sends a random password with every create; the app is expected to ignore it.
        body["password"] = secrets.token_urlsafe(12)
        created = self.http.call(
            "POST", "Users", body, what=f"create user {person.username}", ok=(201,)
        )
        return _created_id(created)

    def update_user(
        self, person: Person, user_id: str, *, manager: Person | None, manager_id: str | None
    ) -> bool:
        # Profile updates are a PUT of the whole profile, for catalog and AIW apps alike.
        return self._put(person, user_id, manager, active=True, what="update user")

    def deactivate(self, person: Person, user_id: str, *, manager: Person | None) -> bool:
        if self.app == "aiw":
            return self._put(person, user_id, manager, active=False, what="deactivate user")
        return self._set_active(person, user_id, active=False, what="deactivate user")

    def reactivate(self, person: Person, user_id: str, *, manager: Person | None) -> bool:
        if self.app == "aiw":
            return self._put(person, user_id, manager, active=True, what="reactivate user")
        return self._set_active(person, user_id, active=True, what="reactivate user")

    def link_manager(self, person: Person, user_id: str, manager_id: str) -> bool:
        raise NotImplementedError("Okta sends the manager with the user.")

    def delete(self, person: Person, user_id: str) -> bool:
        raise NotImplementedError("Okta never deletes users; it deactivates them.")

    def lookup_team(self, name: str) -> Found | Lookup | None:
        query = where(f'displayName eq "{name}"') + "&startIndex=1&count=100"
        return _found(self.http.call("GET", f"Groups?{query}", what=f"look up team {name}"))

    def create_team(self, name: str, member_ids: tuple[str, ...]) -> str | None:
        # Push Groups: the group and its members in one POST.
        body = {"schemas": [CORE_GROUP], "displayName": name, "members": _members(member_ids)}
        created = self.http.call("POST", "Groups", body, what=f"push team {name}", ok=(201,))
        return _created_id(created)

    def push_members(self, team: TeamState) -> bool:
        if self.app == "aiw":
            return self._put_team(team, what=f"push team {team.name}")
        # Okta re-sends the name (as a no-path replace carrying the id) with every update.
        body = _patch(
            {"op": "replace", "value": {"id": team.id, "displayName": team.name}},
            {"op": "add", "path": "members", "value": _members(team.members)},
        )
        return self._patch_team(team, body, what=f"push team {team.name}")

    def move_member(self, member_id: str, *, source: TeamState, target: TeamState) -> bool:
        if self.app == "aiw":
            # The whole member list of each group, without and then with the person.
            return self._put_team(source, what=f"update team {source.name}") and self._put_team(
                target, what=f"update team {target.name}"
            )
        removed = self._patch_team(
            source,
            _patch(
                {"op": "replace", "value": {"id": source.id, "displayName": source.name}},
                {"op": "remove", "path": f'members[value eq "{member_id}"]'},
            ),
            what=f"update team {source.name}",
        )
        added = self._patch_team(
            target,
            _patch(
                {"op": "replace", "value": {"id": target.id, "displayName": target.name}},
                {"op": "add", "path": "members", "value": _members([member_id])},
            ),
            what=f"update team {target.name}",
        )
        return removed and added

    # -- bodies ---------------------------------------------------------------------------------

    def _user(
        self, person: Person, title: str, manager: Person | None, *, active: bool
    ) -> Document:
        """A user as Okta's profile mappings send it; the manager as the admin maps it (Manager
        value = the manager's Okta id, Manager display name = their email)."""
        enterprise: Document = {
            "employeeNumber": person.employee_number,
            "department": person.department,
        }
        if manager is not None:
            enterprise["manager"] = {"value": manager.external_id, "displayName": manager.username}
        return {
            "schemas": [CORE_USER, ENTERPRISE_USER],
            "userName": person.username,
            "name": {"givenName": person.given_name, "familyName": person.family_name},
            "emails": [{"primary": True, "value": person.username, "type": "work"}],
            "displayName": person.display_name,
            "locale": "en-US",
            "externalId": person.external_id,
            "groups": [],
            "title": title,
            "active": active,
            ENTERPRISE_USER: enterprise,
        }

    def _put(
        self, person: Person, user_id: str, manager: Person | None, *, active: bool, what: str
    ) -> bool:
        body = {"id": user_id, **self._user(person, person.title, manager, active=active)}
        answer = self.http.call("PUT", f"Users/{user_id}", body, what=f"{what} {person.username}")
        return answer is not None

    def _set_active(self, person: Person, user_id: str, *, active: bool, what: str) -> bool:
        body = _patch({"op": "replace", "value": {"active": active}})
        answer = self.http.call(
            "PATCH", f"Users/{user_id}", body, what=f"{what} {person.username}", ok=(200, 204)
        )
        return answer is not None

    def _put_team(self, team: TeamState, *, what: str) -> bool:
        body = {
            "schemas": [CORE_GROUP],
            "id": team.id,
            "displayName": team.name,
            "members": _members(team.members),
        }
        return self.http.call("PUT", f"Groups/{team.id}", body, what=what) is not None

    def _patch_team(self, team: TeamState, body: Document, *, what: str) -> bool:
        answer = self.http.call("PATCH", f"Groups/{team.id}", body, what=what, ok=(200, 204))
        return answer is not None


class Entra(IdentityProvider):
    name = "Microsoft Entra ID"
    user_agent = "Microsoft.Identity.Provisioning (AAD SCIM Provisioning)"
    deletes_users = True  # after a hard delete in Entra
    imports_users = False
    sends_manager_with_user = False  # a PATCH of its own, once both are in the app

    def test_connection(self) -> bool:
        # Test Connection: a filter on a random GUID, expecting an empty list.
        query = where(f'userName eq "{uuid.uuid4()}"')
        return self.http.call("GET", f"Users?{query}", what="test the connection") is not None

    def import_users(self) -> None:
        raise NotImplementedError("Entra matches each user by a lookup; it does not import.")

    def lookup_user(self, person: Person) -> Found | Lookup | None:
        query = where(f'userName eq "{person.username}"')
        return _found(self.http.call("GET", f"Users?{query}", what=f"look up {person.username}"))

    def create_user(self, person: Person, *, manager: Person | None) -> str | None:
        # The manager follows in a PATCH of its own, once both are in the app (link_manager).
        body = {
            "schemas": [CORE_USER, ENTERPRISE_USER],
            "externalId": person.external_id,
            "userName": person.username,
            "active": "True",
            "displayName": person.display_name,
            "title": person.first_title,
            "emails": [{"primary": True, "type": "work", "value": person.username}],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": person.display_name,
                "familyName": person.family_name,
                "givenName": person.given_name,
            },
            "roles": [],
            ENTERPRISE_USER: {
                "employeeNumber": person.employee_number,
                "department": person.department,
            },
        }
        created = self.http.call(
            "POST", "Users", body, what=f"create user {person.username}", ok=(201,)
        )
        return _created_id(created)

    def update_user(
        self, person: Person, user_id: str, *, manager: Person | None, manager_id: str | None
    ) -> bool:
        operations: list[dict[str, Any]] = [
            {"op": "Replace", "path": "displayName", "value": person.display_name},
            {"op": "Replace", "path": "title", "value": person.title},
            {"op": "Replace", "path": "name.givenName", "value": person.given_name},
            {"op": "Replace", "path": "name.familyName", "value": person.family_name},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": person.username},
            {
                "op": "Replace",
                "path": f"{ENTERPRISE_USER}:department",
                "value": person.department,
            },
        ]
        if manager_id is not None:
            operations.append(
                {"op": "Add", "path": f"{ENTERPRISE_USER}:manager", "value": manager_id}
            )
        return self._patch_user(person, user_id, _patch(*operations), what="update user")

    def link_manager(self, person: Person, user_id: str, manager_id: str) -> bool:
        body = _patch({"op": "Add", "path": f"{ENTERPRISE_USER}:manager", "value": manager_id})
        return self._patch_user(person, user_id, body, what="link the manager of")

    def deactivate(self, person: Person, user_id: str, *, manager: Person | None) -> bool:
        body = _patch({"op": "Replace", "path": "active", "value": "False"})
        return self._patch_user(person, user_id, body, what="disable user")

    def reactivate(self, person: Person, user_id: str, *, manager: Person | None) -> bool:
        body = _patch({"op": "Replace", "path": "active", "value": "True"})
        return self._patch_user(person, user_id, body, what="enable user")

    def delete(self, person: Person, user_id: str) -> bool:
        answer = self.http.call(
            "DELETE", f"Users/{user_id}", what=f"delete user {person.username}", ok=(204,)
        )
        return answer is not None

    def lookup_team(self, name: str) -> Found | Lookup | None:
        query = "excludedAttributes=members&" + where(f'displayName eq "{name}"')
        return _found(self.http.call("GET", f"Groups?{query}", what=f"look up team {name}"))

    def create_team(self, name: str, member_ids: tuple[str, ...]) -> str | None:
        body = {
            "schemas": [CORE_GROUP, ENTRA_GROUP],
            "externalId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"entra-group:{self.seed}:{name}")),
            "displayName": name,
            "meta": {"resourceType": "Group"},
        }
        created = _created_id(
            self.http.call("POST", "Groups", body, what=f"push team {name}", ok=(201,))
        )
        if created is None:
            return None
        # Members follow in a PATCH of their own.
        if member_ids and not self.push_members(TeamState(created, name, member_ids)):
            return None
        return created

    def push_members(self, team: TeamState) -> bool:
        if not team.members:
            return True  # Entra sends no empty Add
        body = _patch({"op": "Add", "path": "members", "value": _members(team.members)})
        return self._patch_team(team, body, what=f"push team {team.name}")

    def move_member(self, member_id: str, *, source: TeamState, target: TeamState) -> bool:
        member = _members([member_id])
        removed = self._patch_team(
            source,
            _patch({"op": "Remove", "path": "members", "value": member}),
            what=f"update team {source.name}",
        )
        added = self._patch_team(
            target,
            _patch({"op": "Add", "path": "members", "value": member}),
            what=f"update team {target.name}",
        )
        return removed and added

    def _patch_user(self, person: Person, user_id: str, body: Document, *, what: str) -> bool:
        answer = self.http.call(
            "PATCH", f"Users/{user_id}", body, what=f"{what} {person.username}", ok=(200, 204)
        )
        return answer is not None

    def _patch_team(self, team: TeamState, body: Document, *, what: str) -> bool:
        answer = self.http.call("PATCH", f"Groups/{team.id}", body, what=what, ok=(200, 204))
        return answer is not None
