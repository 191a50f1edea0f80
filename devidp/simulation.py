"""One provisioning run of a simulated Okta or Entra over real HTTP: what ``manage.py
simulate_idp`` does. The organisation's side (SCIM on, a key) goes through scim.keys and
accounts.services, as the SCIM tab does; everything else is SCIM requests to PUBLIC_BASE_URL.

A run, in the order a provisioning engine works:
1. the connection test, and for Okta an import of every user;
2. a lookup of each person by userName (lookups first, as Okta does: a person the app already
   has is matched, never created twice);
3. each person assigned, in the directory's order (reports before their managers sometimes):
   created when the lookup found nobody, else assigned again if deactivated and updated;
4. promotions (a new title after the create), the teams pushed with their members, someone
   moving from one team to another;
5. leavers unassigned (deactivated), returners unassigned and assigned again, and with Entra
   people deleted from the directory: disabled, then deleted from the app.

The simulation keeps no memory of earlier runs; the app is its memory. A second run finds
everyone it created and updates them; a leaver it finds deactivated is left alone (no longer
assigned). Entra forgets a hard-deleted person entirely, and so does a later run: once the app
knows the directory (someone else of it is found), a deleted person who is not found is not
created again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts import services
from accounts.audit import Actor
from accounts.models import Organisation
from devidp import keys as dev_keys
from devidp.directory import Directory, Person
from devidp.progress import Progress
from devidp.scim_http import Failure
from devidp.vendors import Found, IdentityProvider, Lookup, TeamState
from scim import keys as scim_keys

ACTOR = "manage.py simulate_idp"


def scim_key(organisation: Organisation, actor: Actor) -> tuple[str, str]:
    """The Secret Key the simulated IdP uses, and what was done to get it. SCIM is turned on if
    it is off. The key it was given last time is used again while it works; otherwise a new one
    is made as Generate Key makes it (``scim_key --rotate``): a key the organisation already has
    goes on working until the new one is first used, which the simulation does at once."""
    if not organisation.scim_enabled:
        services.organisation_update(organisation=organisation, actor=actor, scim_enabled=True)
    remembered = dev_keys.remembered_scim_key(organisation.public_id)
    if remembered is not None:
        key = scim_keys.verify(remembered)
        if key is not None and key.organisation_id == organisation.pk:
            return remembered, f"Using the SCIM key {key.prefix}… issued to it before."
    issued = scim_keys.rotate(organisation=organisation, actor=actor, created_by=None)
    dev_keys.remember_scim_key(organisation.public_id, issued.secret)
    return issued.secret, (
        f"Issued the SCIM key {issued.record.prefix}… (as Generate Key does: a key "
        f"{organisation.slug} had before stops once this one is used)."
    )


@dataclass
class Summary:
    vendor: str
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    deleted: int = 0
    teams_pushed: int = 0
    requests: int = 0
    waits: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        waited = f" ({self.waits} after waiting for a 429 or 503)" if self.waits else ""
        return [
            f"{self.vendor} provisioning finished in {self.seconds:.1f} s.",
            f"  created:      {self.created}",
            f"  updated:      {self.updated}",
            f"  deactivated:  {self.deactivated}",
            f"  reactivated:  {self.reactivated}",
            f"  deleted:      {self.deleted}",
            f"  teams pushed: {self.teams_pushed}",
            f"  requests:     {self.requests}{waited}",
            f"  failures:     {len(self.failures)}",
        ]


def steps(idp: IdentityProvider, directory: Directory) -> int:
    """How many steps ``run`` reports progress for."""
    people = len(directory.people)
    return (
        1
        + (1 if idp.imports_users else 0)
        + 2 * people
        + len(directory.promotions)
        + len(directory.teams)
        + (1 if directory.move else 0)
        + len(directory.leavers)
        + len(directory.returners)
        + len(directory.gone)
    )


class Simulation:
    def __init__(
        self,
        idp: IdentityProvider,
        directory: Directory,
        progress: Progress,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idp = idp
        self.directory = directory
        self.progress = progress
        self.clock = clock
        self.summary = Summary(idp.name)
        self.ids: dict[int, str] = {}  # person index → their id in the app
        self.active: dict[int, bool] = {}
        self.found: dict[int, Found | Lookup | None] = {}

    def run(self) -> Summary:
        started = self.clock()
        try:
            self._connect()
            self._look_up_everyone()
            self._assign_everyone()
            self._promote()
            self._push_teams()
            self._unassign()
        finally:
            self.progress.finish()
            http = self.idp.http
            self.summary.requests, self.summary.waits = http.requests, http.waits
            self.summary.failures = list(http.failures)
            self.summary.seconds = self.clock() - started
        return self.summary

    # -- the stages -----------------------------------------------------------------------------

    def _connect(self) -> None:
        self.idp.test_connection()
        self.progress.step("connection test")
        if self.idp.imports_users:
            self.idp.import_users()
            self.progress.step("import")

    def _look_up_everyone(self) -> None:
        for index in self.directory.arrival:
            person = self.directory.people[index]
            self.found[index] = self.idp.lookup_user(person)
            self.progress.step(f"look up {person.username}")

    def _assign_everyone(self) -> None:
        gone = set(self.directory.gone)
        knows_directory = any(
            isinstance(found, Found) for index, found in self.found.items() if index not in gone
        )
        waiting: dict[int, list[int]] = {}  # manager → reports created before them (Entra)
        for index in self.directory.arrival:
            person = self.directory.people[index]
            self.progress.step(f"assign {person.username}")
            found = self.found[index]
            if found is Lookup.FAILED:
                continue
            if found is None:
                if index in gone and knows_directory:
                    continue  # deleted in an earlier run: the directory has them no more
                self._create(person, waiting)
                continue
            assert isinstance(found, Found)
            self.ids[index], self.active[index] = found.id, found.active
            if index in self.directory.leavers and not found.active:
                continue  # left in an earlier run: no longer assigned, so not pushed
            if not found.active:
                self._reactivate(person)  # assigned again
            if self.idp.update_user(
                person,
                found.id,
                manager=self._manager(person),
                manager_id=self._manager_id(person),
            ):
                self.summary.updated += 1

    def _create(self, person: Person, waiting: dict[int, list[int]]) -> None:
        user_id = self.idp.create_user(person, manager=self._manager(person))
        if user_id is None:
            return
        self.ids[person.index], self.active[person.index] = user_id, True
        self.summary.created += 1
        if person.manager is not None:
            manager_id = self._manager_id(person)
            if manager_id is None:
                waiting.setdefault(person.manager, []).append(person.index)
            else:
                self._link_manager(person, user_id, manager_id)
        for report in waiting.pop(person.index, []):
            self._link_manager(self.directory.people[report], self.ids[report], user_id)

    def _link_manager(self, person: Person, user_id: str, manager_id: str) -> None:
        if self.idp.sends_manager_with_user:
            return
        if self.idp.link_manager(person, user_id, manager_id):
            self.summary.updated += 1

    def _promote(self) -> None:
        for index in self.directory.promotions:
            person = self.directory.people[index]
            self.progress.step(f"promote {person.username}")
            if index not in self.ids or not self.active.get(index):
                continue
            if self.idp.update_user(
                person,
                self.ids[index],
                manager=self._manager(person),
                manager_id=self._manager_id(person),
            ):
                self.summary.updated += 1

    def _push_teams(self) -> None:
        team_ids: dict[int, str] = {}
        for number, team in enumerate(self.directory.teams):
            self.progress.step(f"push team {team.name}")
            members = self._member_ids(team.members)
            found = self.idp.lookup_team(team.name)
            if found is Lookup.FAILED:
                continue
            if found is None:
                created = self.idp.create_team(team.name, members)
                if created is None:
                    continue
                team_ids[number] = created
            else:
                assert isinstance(found, Found)
                if not self.idp.push_members(TeamState(found.id, team.name, members)):
                    continue
                team_ids[number] = found.id
            self.summary.teams_pushed += 1
        self._move(team_ids)

    def _move(self, team_ids: dict[int, str]) -> None:
        move = self.directory.move
        if move is None:
            return
        self.progress.step("move between teams")
        member_id = self.ids.get(move.person)
        if member_id is None or move.from_team not in team_ids or move.to_team not in team_ids:
            return
        source = self.directory.teams[move.from_team]
        target = self.directory.teams[move.to_team]
        moved = self.idp.move_member(
            member_id,
            source=TeamState(
                team_ids[move.from_team],
                source.name,
                self._member_ids(tuple(m for m in source.members if m != move.person)),
            ),
            target=TeamState(
                team_ids[move.to_team],
                target.name,
                self._member_ids((*target.members, move.person)),
            ),
        )
        if moved:
            self.summary.teams_pushed += 2

    def _unassign(self) -> None:
        for index in self.directory.leavers:
            person = self.directory.people[index]
            self.progress.step(f"unassign {person.username}")
            if index in self.ids and self.active.get(index):
                self._deactivate(person)
        for index in self.directory.returners:
            person = self.directory.people[index]
            self.progress.step(f"unassign and assign again {person.username}")
            if index in self.ids and (not self.active.get(index) or self._deactivate(person)):
                self._reactivate(person)
        for index in self.directory.gone:
            person = self.directory.people[index]
            self.progress.step(f"delete {person.username}")
            if index not in self.ids or not self.idp.deletes_users:
                continue
            if self.active.get(index):
                self._deactivate(person)  # Entra disables first (soft delete)...
            if self.idp.delete(person, self.ids[index]):  # ...and deletes after a hard delete
                self.summary.deleted += 1
                del self.ids[index]

    # -- helpers --------------------------------------------------------------------------------

    def _deactivate(self, person: Person) -> bool:
        manager = self._manager(person)
        if not self.idp.deactivate(person, self.ids[person.index], manager=manager):
            return False
        self.active[person.index] = False
        self.summary.deactivated += 1
        return True

    def _reactivate(self, person: Person) -> bool:
        manager = self._manager(person)
        if not self.idp.reactivate(person, self.ids[person.index], manager=manager):
            return False
        self.active[person.index] = True
        self.summary.reactivated += 1
        return True

    def _manager(self, person: Person) -> Person | None:
        return None if person.manager is None else self.directory.people[person.manager]

    def _manager_id(self, person: Person) -> str | None:
        """The manager's id in the app, once the IdP knows it (created, or found by lookup)."""
        if person.manager is None:
            return None
        if person.manager in self.ids:
            return self.ids[person.manager]
        found = self.found.get(person.manager)
        return found.id if isinstance(found, Found) else None

    def _member_ids(self, members: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(self.ids[index] for index in members if index in self.ids)
